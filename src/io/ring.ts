/**
 * The packet-ring adapter behind the FrameIO port: dsrlb's own native addon (src/native/ring/), an
 * AF_PACKET socket with a memory-mapped RX ring and TX ring. This file and cap.ts are the only ones
 * that load native code, lazily, on the first openRing(): importing it costs nothing.
 *
 * Division of work (see native-notes/ring.md):
 * - the addon: open (filter, ring, bind, fan-out), one JS call per readiness of the socket (libuv
 *   poll), flush() = one send() for every TX slot written, PACKET_STATISTICS, close;
 * - here (ring-walker.ts): walking the ready slots, handing each frame to the handler as a view of
 *   the ring (no copy), releasing the slots, writing TX slots (bounds checked before every write).
 *
 * Batching: the frames of one wake-up form a batch; sends made by the handler inside a batch are
 * written to the TX ring and go out with ONE send() at the end of the batch; a send outside a batch
 * (timers: ARP, gratuitous ARP) goes out at once. Busy polling (`busyPollUs`): after a batch the
 * wake-up callback keeps checking the next slot for up to that many µs (the deadline restarts with
 * every frame found) before returning to the event loop; 0 (the default) returns at once.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { DsrlbError } from '../errors/index.ts';
import { Histogram } from '../obs/index.ts';
import type { FrameCallback, FrameIO, FrameIOStats } from '../ports/index.ts';
import { assertIfaceName, readIfaceMac } from './cap.ts';
import { createRxWalker, MIN_TX_FRAME, TX_FULL, TX_OK, TX_TOO_BIG, TxWriter, type RxGeometry, type RxWalker, type TxGeometry } from './ring-walker.ts';

/** The addon's class (src/native/ring/ring.cc). */
interface NativeRing {
  readonly rx: ArrayBuffer;
  readonly tx: ArrayBuffer;
  readonly ctl: ArrayBuffer;
  start(cb: (status: number) => void): void;
  stop(): void;
  flush(): number;
  stats(): [number, number, number];
  check(): 0 | { errno: number; code: string; message: string; gone: boolean };
  close(): boolean;
}
interface RingModule {
  Ring: new (opts: Record<string, unknown>) => NativeRing;
}

export const RING_ADDON = new URL('../native/ring/build/Release/dsrlb_ring.node', import.meta.url);
let ringModule: RingModule | null = null;

/** Loads the addon once (`path` is for tests). Throws DsrlbError E_RING_LOAD with the fix. */
export function loadRing(path: string | URL = RING_ADDON): RingModule {
  if (ringModule && path === RING_ADDON) return ringModule;
  let mod: RingModule;
  try {
    mod = createRequire(import.meta.url)(path instanceof URL ? path.pathname : path) as RingModule;
  } catch (e) {
    throw new DsrlbError(
      'E_RING_LOAD',
      `cannot load the packet-ring addon (${path instanceof URL ? path.pathname : path}): ${e instanceof Error ? e.message : String(e)}. ` +
        'Fix: build it with `npm run build:native` (needs g++, make, python3 and libpcap-dev: `npm run setup` installs them), or run with --io pcap.',
      { cause: e },
    );
  }
  if (path === RING_ADDON) ringModule = mod;
  return mod;
}

/** True when the addon loads (the default backend is then the ring). */
export function ringAvailable(): boolean {
  try {
    loadRing();
    return true;
  } catch {
    return false;
  }
}

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

function bad(msg: string): never {
  throw new DsrlbError('E_RING_OPTIONS', msg);
}

/** The ring sizes the kernel will be asked for, validated against its rules (pure). */
export function planRing(o: Pick<RingOptions, 'bufferSize' | 'frames' | 'version' | 'frameSize' | 'blockSize' | 'txFrames'>): RingGeometryPlan {
  const version = o.version ?? 2;
  if (version !== 2 && version !== 3) bad(`version must be 2 or 3 (got ${String(version)})`);
  const frameSize = o.frameSize ?? 2048;
  if (!Number.isInteger(frameSize) || frameSize < 128 || frameSize % 16 !== 0 || frameSize > 1 << 18) {
    bad(`frame size must be a multiple of 16 from 128 to 262144 bytes (got ${frameSize})`);
  }
  const blockSize = o.blockSize ?? Math.max(frameSize, version === 3 ? 1 << 17 : 1 << 16);
  if (!Number.isInteger(blockSize) || blockSize % PAGE !== 0 || blockSize % frameSize !== 0 || blockSize > 1 << 24) {
    bad(`block size must be a multiple of the page size (${PAGE}) and of the frame size, at most 16 MiB (got ${blockSize})`);
  }
  const perBlock = blockSize / frameSize;
  const frames = o.frames ?? Math.floor((o.bufferSize ?? 32 << 20) / frameSize);
  if (!Number.isInteger(frames) || frames < perBlock) bad(`ring frames must be an integer >= ${perBlock} (one block; got ${frames})`);
  const blockNr = Math.ceil(frames / perBlock);
  // V3 hands whole blocks to userspace: with fewer than 4 the kernel drops while JS holds one.
  if (version === 3 && blockNr < 4) bad(`a V3 ring needs at least 4 blocks (got ${blockNr} of ${blockSize} bytes): more frames or a smaller block`);
  if (blockNr * blockSize > 2 ** 31 - PAGE) bad(`ring of ${blockNr * blockSize} bytes is larger than 2 GiB`);
  const txWant = o.txFrames ?? Math.min(4096, blockNr * perBlock);
  const txPerBlock = (1 << 16) / frameSize >= 1 ? Math.max(1, Math.floor((1 << 16) / frameSize)) : 1;
  const txBlockSize = Math.max(frameSize, 1 << 16);
  if (!Number.isInteger(txWant) || txWant < 1) bad(`TX frames must be a positive integer (got ${txWant})`);
  return {
    rx: { version, blockSize, blockNr, frameSize },
    tx: { blockSize: txBlockSize, blockNr: Math.ceil(txWant / txPerBlock), frameSize },
  };
}

export interface Ring extends FrameIO {
  readonly backend: 'ring';
  readonly geometry: RingGeometryPlan;
  readonly prime: 'not-needed';
  readonly effectiveFilter: string;
  /** Sends every TX slot written since the last flush (one system call). No-op when none. */
  flush(): void;
  /** Called once if the ring fails while open (the interface went away): the ring is then closed. */
  onError(cb: (e: DsrlbError) => void): void;
  /** Runs fn as a batch: its sends queue in the TX ring and leave with one system call when it returns. */
  batch(fn: () => void): void;
  /** Walks the ready slots now (as a wake-up does); returns the frames walked. E_RING_CLOSED after close. */
  poll(): number;
  /** send() that throws instead of returning false: E_RING_CLOSED, E_RING_FRAME_SIZE, E_RING_TX_FULL. */
  write(frame: Uint8Array, len?: number): void;
  /** Stops / restarts reading (frames wait in the kernel's ring; when it is full they are dropped and counted). */
  pause(): void;
  resume(): void;
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

/** Opens the ring on `iface`. Reading starts with the first onFrame(); frames wait in the kernel's ring until then. */
export async function openRing(opts: RingOptions): Promise<Ring> {
  const { iface } = opts;
  assertIfaceName(iface);
  const busyPollUs = opts.busyPollUs ?? 0;
  if (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 1_000_000) bad(`busy poll must be 0 … 1000000 µs (got ${busyPollUs})`);
  const maxBatch = opts.maxBatch ?? 1024;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) bad(`max batch must be a positive integer (got ${maxBatch})`);
  if (opts.fanout && (!Number.isInteger(opts.fanout.group) || opts.fanout.group < 0 || opts.fanout.group > 0xffff || opts.fanout.mode !== 'hash')) {
    bad(`fan-out needs a group id 0 … 65535 and mode 'hash' (got ${JSON.stringify(opts.fanout)})`);
  }
  const geo = planRing(opts);
  const mac = readIfaceMac(iface);
  const mod = loadRing();
  let nat: NativeRing;
  try {
    nat = new mod.Ring({
      iface, filter: opts.filter, version: geo.rx.version,
      rxBlockSize: geo.rx.blockSize, rxBlockNr: geo.rx.blockNr, rxFrameSize: geo.rx.frameSize,
      txBlockSize: geo.tx.blockSize, txBlockNr: geo.tx.blockNr, txFrameSize: geo.tx.frameSize,
      blockTimeoutMs: opts.blockTimeoutMs ?? 1, qdiscBypass: opts.qdiscBypass === true,
      fanoutGroup: opts.fanout ? opts.fanout.group : -1,
    });
  } catch (e) {
    throw ringOpenError(e, iface, opts);
  }
  return wrap(nat, geo, { ...opts, busyPollUs, maxBatch }, mac);
}

function wrap(nat: NativeRing, geo: RingGeometryPlan, opts: RingOptions & { busyPollUs: number; maxBatch: number }, mac: Uint8Array): Ring {
  const walker: RxWalker = createRxWalker(nat.rx, geo.rx);
  const tx = new TxWriter(nat.tx, geo.tx);
  const ctl = new Float64Array(nat.ctl);
  const residence = new Histogram();
  const st = { received: 0, sent: 0, sendErrors: 0, tooBig: 0, txFull: 0, ifaceDown: 0, resends: 0 };
  let kPackets = 0;
  let kDrops = 0;
  let closed = false;
  let started = false;
  let paused = false;
  let cb: FrameCallback | null = null;
  let errCb: ((e: DsrlbError) => void) | null = null;
  // Receive time of the frame being handled (-1: not inside a batch) and of each pending TX slot.
  let inBatch = false;
  let curSec = -1;
  let curNsec = 0;
  const pendSec = new Float64Array(tx.frameNr);
  const pendNsec = new Float64Array(tx.frameNr);
  const { busyPollUs, maxBatch } = opts;

  const deliver = (frame: Buffer, len: number, sec: number, nsec: number): void => {
    st.received++;
    curSec = sec;
    curNsec = nsec;
    cb!(frame, len);
  };

  // A send() can stop before the last slot when the socket's send buffer is full of frames still in
  // flight; what is left goes out with a later send(), tried from the event loop until none is left.
  let retrying = false;
  const retryUnsent = (): void => {
    if (retrying) return;
    retrying = true;
    setImmediate(() => {
      retrying = false;
      if (closed || !tx.unsent()) return;
      st.resends++;
      nat.flush();
      if (tx.unsent()) retryUnsent();
    });
  };

  const flush = (): void => {
    const n = tx.pending;
    if (n === 0 || closed) return;
    tx.pending = 0;
    const r = nat.flush();
    if (r < 0) {
      st.sendErrors += n;
      return;
    }
    st.sent += n;
    if (tx.unsent()) retryUnsent();
    const nowSec = ctl[0]!;
    const nowNsec = ctl[1]!;
    for (let i = 0; i < n; i++) {
      if (pendSec[i]! >= 0) residence.observe(nowSec - pendSec[i]! + (nowNsec - pendNsec[i]!) / 1e9);
    }
  };

  const drain = (): number => {
    inBatch = true;
    let n = 0;
    try {
      n = walker.walk(maxBatch, deliver);
    } finally {
      inBatch = false;
      curSec = -1;
    }
    flush();
    return n;
  };

  const closedError = (what: string) =>
    new DsrlbError('E_RING_CLOSED', `${what} on a closed packet ring (${opts.iface}). Fix: open a new ring; never use one after close()`);

  const fail = (why: { code: string; message: string }): void => {
    if (closed) return;
    const e = new DsrlbError('E_RING_IFACE_GONE', `the packet ring on ${opts.iface} failed: ${why.message} (${why.code}); the interface went away or down. Fix: check "ip link"; restart dsrlb once the interface is back`);
    io.close();
    errCb?.(e);
  };

  const onReady = (status: number): void => {
    if (closed || cb === null) return;
    let n = drain();
    if (busyPollUs > 0) {
      let deadline = performance.now() + busyPollUs / 1000;
      while (!closed && !paused) {
        if (walker.ready()) {
          n += drain();
          deadline = performance.now() + busyPollUs / 1000;
        } else if (performance.now() >= deadline) break;
      }
    }
    if ((n === 0 || status < 0) && !closed) {
      // A wake-up with nothing to read: the socket may carry an error. ENETDOWN with the interface
      // still there: it went down; the kernel hooks the socket in again when it comes back up, so
      // keep going (libuv stops a poll on an error: start it again). The interface gone: fail.
      const c = nat.check();
      if (c !== 0 && c.gone) fail(c);
      else if (c !== 0 || status < 0) {
        st.ifaceDown++;
        if (!paused) nat.start(onReady);
      }
    }
  };

  const io: Ring = {
    backend: 'ring',
    iface: opts.iface,
    mac,
    geometry: geo,
    prime: 'not-needed',
    effectiveFilter: opts.filter,
    get closed() {
      return closed;
    },
    onFrame(fn: FrameCallback): void {
      cb = fn;
      if (!started && !closed) {
        started = true;
        nat.start(onReady);
        // Frames that arrived before the callback was set are waiting in the ring: take them now.
        setImmediate(() => {
          if (!closed && !paused && cb !== null) onReady(0);
        });
      }
    },
    send(frame: Uint8Array, len?: number): boolean {
      if (closed) {
        st.sendErrors++;
        return false;
      }
      const l = len ?? frame.length;
      let r = tx.write(frame, l);
      if (r === TX_FULL && tx.pending > 0) {
        flush();
        r = tx.write(frame, l);
      }
      if (r !== TX_OK) {
        st.sendErrors++;
        if (r === TX_TOO_BIG) st.tooBig++;
        else if (r === TX_FULL) st.txFull++;
        return false;
      }
      const k = tx.pending - 1;
      pendSec[k] = inBatch ? curSec : -1;
      pendNsec[k] = curNsec;
      if (!inBatch) flush();
      return true;
    },
    flush,
    batch(fn: () => void): void {
      if (inBatch) return fn();
      inBatch = true;
      try {
        fn();
      } finally {
        inBatch = false;
        flush();
      }
    },
    poll(): number {
      if (closed) throw closedError('poll');
      if (cb === null) throw new DsrlbError('E_RING_NO_HANDLER', 'poll() before onFrame(): set the frame callback first');
      return drain();
    },
    write(frame: Uint8Array, len?: number): void {
      if (closed) throw closedError('write');
      const l = len ?? frame.length;
      if (!(l >= MIN_TX_FRAME && l <= tx.maxFrame && l <= frame.length)) {
        st.sendErrors++;
        st.tooBig++;
        throw new DsrlbError('E_RING_FRAME_SIZE', `a ${l}-byte frame does not fit a TX slot (${MIN_TX_FRAME} … ${tx.maxFrame} bytes, and at most the buffer's ${frame.length}). Fix: a larger --ring-frame-size, or keep frames within the MTU (turn GRO/TSO off: --fix-offloads)`);
      }
      if (!io.send(frame, l)) {
        if (closed) throw closedError('write');
        throw new DsrlbError('E_RING_TX_FULL', `the TX ring is full (${tx.frameNr} slots in flight). Fix: a larger TX ring (txFrames), or send less per batch`);
      }
    },
    onError(fn) {
      errCb = fn;
    },
    pause(): void {
      if (closed || paused) return;
      paused = true;
      if (started) nat.stop();
    },
    resume(): void {
      if (closed || !paused) return;
      paused = false;
      if (started) {
        nat.start(onReady);
        setImmediate(() => {
          if (!closed && !paused) onReady(0);
        });
      }
    },
    close(): void {
      if (closed) return;
      try {
        const [p, d] = nat.stats();
        kPackets += p;
        kDrops += d;
      } catch {
        /* the socket is already failing: keep what was counted */
      }
      closed = true;
      cb = null;
      nat.close();
    },
    stats(): FrameIOStats {
      if (!closed) {
        const [p, d] = nat.stats();
        kPackets += p;
        kDrops += d;
      }
      const w = walker.counters;
      return {
        received: st.received,
        sent: st.sent,
        sendErrors: st.sendErrors,
        truncated: w.truncated,
        unhandled: 0,
        kernelPackets: kPackets,
        kernelDrops: kDrops,
        badSlots: w.bad,
        oversize: st.tooBig,
        ifaceDown: st.ifaceDown,
        txFull: st.txFull,
        residence: residence.snapshot(),
      };
    },
  };
  return io;
}
