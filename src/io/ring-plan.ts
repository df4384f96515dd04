/**
 * The packet ring's options, its sizing against the kernel's rules (pure: planRing) and the typed
 * error for each way the kernel can refuse to open it (see native-notes/ring.md). The addon itself
 * is loaded by ring.ts only.
 */
import { DsrlbError } from '../errors/index.ts';
import type { RxGeometry, TxGeometry } from './ring-walker.ts';

export interface RingOptions {
  iface: string;
  /** pcap-filter expression ('' takes every inbound frame); compiled by libpcap in the addon. */
  filter: string;
  /** RX ring size in bytes when `frames` is not given (default 32 MiB). */
  bufferSize?: number;
  /** RX ring slots (V2) or the frames the blocks are sized for (V3). Default bufferSize / frameSize. */
  frames?: number;
  /** TPACKET version of the RX ring (default 2). */
  version?: 2 | 3;
  /** RX and TX slot size in bytes, a multiple of 16 dividing the block (default 2048: an MTU 1500 frame). */
  frameSize?: number;
  /** RX block size in bytes, a multiple of the page size (default 64 KiB for V2, 128 KiB for V3). */
  blockSize?: number;
  /** TX ring slots (default 4096, or fewer with a small RX ring). */
  txFrames?: number;
  /** V3 only: the kernel retires a block that is not full after this many ms (default 1). */
  blockTimeoutMs?: number;
  /** PACKET_QDISC_BYPASS on the TX side: frames go straight to the driver. Default false. */
  qdiscBypass?: boolean;
  /** Join a PACKET_FANOUT group (flow hash, defragmentation on). */
  fanout?: { group: number; mode: 'hash' };
  /** Keep reading the ring for up to this many µs after a batch (default 0). */
  busyPollUs?: number;
  /** Frames walked per wake-up at most before the event loop gets a turn (default 1024). */
  maxBatch?: number;
}

export interface RingGeometryPlan {
  rx: RxGeometry;
  tx: TxGeometry;
}

const PAGE = 4096;

/** Throws E_RING_OPTIONS (a value refused before the kernel is asked). */
export function badRingOption(msg: string): never {
  throw new DsrlbError('E_RING_OPTIONS', msg);
}

/** The ring sizes the kernel will be asked for, validated against its rules (pure). */
export function planRing(o: Pick<RingOptions, 'bufferSize' | 'frames' | 'version' | 'frameSize' | 'blockSize' | 'txFrames'>): RingGeometryPlan {
  const version = o.version ?? 2;
  if (version !== 2 && version !== 3) badRingOption(`version must be 2 or 3 (got ${String(version)})`);
  const frameSize = o.frameSize ?? 2048;
  if (!Number.isInteger(frameSize) || frameSize < 128 || frameSize % 16 !== 0 || frameSize > 1 << 18) {
    badRingOption(`frame size must be a multiple of 16 from 128 to 262144 bytes (got ${frameSize})`);
  }
  const blockSize = o.blockSize ?? Math.max(frameSize, version === 3 ? 1 << 17 : 1 << 16);
  if (!Number.isInteger(blockSize) || blockSize % PAGE !== 0 || blockSize % frameSize !== 0 || blockSize > 1 << 24) {
    badRingOption(`block size must be a multiple of the page size (${PAGE}) and of the frame size, at most 16 MiB (got ${blockSize})`);
  }
  const perBlock = blockSize / frameSize;
  const frames = o.frames ?? Math.floor((o.bufferSize ?? 32 << 20) / frameSize);
  if (!Number.isInteger(frames) || frames < perBlock) badRingOption(`ring frames must be an integer >= ${perBlock} (one block; got ${frames})`);
  const blockNr = Math.ceil(frames / perBlock);
  // V3 hands whole blocks to userspace: with fewer than 4 the kernel drops while JS holds one.
  if (version === 3 && blockNr < 4) badRingOption(`a V3 ring needs at least 4 blocks (got ${blockNr} of ${blockSize} bytes): more frames or a smaller block`);
  if (blockNr * blockSize > 2 ** 31 - PAGE) badRingOption(`ring of ${blockNr * blockSize} bytes is larger than 2 GiB`);
  const txWant = o.txFrames ?? Math.min(4096, blockNr * perBlock);
  const txPerBlock = (1 << 16) / frameSize >= 1 ? Math.max(1, Math.floor((1 << 16) / frameSize)) : 1;
  const txBlockSize = Math.max(frameSize, 1 << 16);
  if (!Number.isInteger(txWant) || txWant < 1) badRingOption(`TX frames must be a positive integer (got ${txWant})`);
  return {
    rx: { version, blockSize, blockNr, frameSize },
    tx: { blockSize: txBlockSize, blockNr: Math.ceil(txWant / txPerBlock), frameSize },
  };
}

/** The DsrlbError for a failure of the addon's open (exported for tests). */
export function ringOpenError(e: unknown, iface: string, opts: Pick<RingOptions, 'fanout'> = {}): DsrlbError {
  const err = e as { code?: string; step?: string; message?: string };
  const code = err.code ?? '';
  const step = err.step ?? '';
  const why = err.message ?? String(e);
  if (code === 'EPERM' || code === 'EACCES') {
    return new DsrlbError('E_RING_PERM', `cannot open the packet ring on ${iface}: ${why}. Fix: run as root, or give node CAP_NET_RAW (setcap cap_net_raw,cap_net_admin+ep $(which node))`, { cause: e });
  }
  if (step === 'if_nametoindex') return new DsrlbError('E_IFACE_MISSING', `interface ${iface} does not exist; check the name with "ip link"`, { cause: e });
  if (code === 'EFILTER') return new DsrlbError('E_RING_FILTER', `the capture filter does not compile: ${why}`, { cause: e });
  if (code === 'EOPTIONS') return new DsrlbError('E_RING_OPTIONS', why, { cause: e });
  if (step === 'PACKET_FANOUT') {
    return new DsrlbError('E_RING_FANOUT', `the kernel refused to join fan-out group ${opts.fanout?.group} on ${iface}: ${why}. Fix: every member of a group must use the same mode and flags on the same interface; pick another group id`, { cause: e });
  }
  if (step === 'PACKET_RX_RING' || step === 'PACKET_TX_RING' || step === 'mmap') {
    return new DsrlbError('E_RING_SIZE', `the kernel refused the ring size (${step}): ${why}. Fix: a smaller ring (--ring-frames, --buffer-size), or raise the memory limit (ulimit -l for locked memory)`, { cause: e });
  }
  return new DsrlbError('E_RING_OPEN', `cannot open the packet ring on ${iface}: ${why}`, { cause: e });
}
