/** StartPacketPath over the packet worker process, with the director handler module. */
import { fileURLToPath } from 'node:url';
import { groupPacketPaths } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { ringAvailable, startPacketWorker } from '../io/index.ts';
import { ipToString } from '../model/index.ts';
import type { PacketIoOptions, PacketPathHandle, ServiceMatch, StartPacketPath } from '../ports/index.ts';

export const DIRECTOR_HANDLER = fileURLToPath(new URL('./director-worker.ts', import.meta.url));

/**
 * The capture filter, built from the configured services: inbound ARP (requests for the VIPs, and
 * the reals' answers to our ARP requests, which are not about a VIP) and inbound IPv4 to or from a
 * VIP (from a VIP: a reply that did not bypass the director, counted as a DSR violation). Ports are
 * not in the filter, so services added at run time on a configured VIP are seen at once; a
 * director started with no service (the ipvsadm drop-in mode) takes every inbound IPv4 frame, since
 * any VIP may come. The data path sorts what it gets.
 */
export function directorFilter(services: readonly ServiceMatch[]): string {
  const vips = [...new Set(services.map((s) => s.vip))].sort((a, b) => a - b);
  if (vips.length === 0) return 'inbound and (arp or ip)';
  return `inbound and (arp or (ip and (${vips.map((v) => `host ${ipToString(v)}`).join(' or ')})))`;
}

/**
 * The backend used when the command line names none: DSRLB_IO=ring|pcap if set (the test suites run
 * each backend this way), else the packet ring when its addon is built, else libpcap.
 */
export function defaultIoBackend(env: NodeJS.ProcessEnv = process.env, haveRing: () => boolean = ringAvailable): 'ring' | 'pcap' {
  if (env.DSRLB_IO === 'ring' || env.DSRLB_IO === 'pcap') return env.DSRLB_IO;
  return haveRing() ? 'ring' : 'pcap';
}

/** The PACKET_FANOUT group id of this director's workers: the control process's PID, 16 bits. */
export function fanoutGroupId(pid: number): number {
  return pid & 0xffff;
}

/** `--workers N`: a count from 1 to 64; more than one needs the ring backend (fan-out). */
export function parseWorkers(raw: string | undefined, backend: 'ring' | 'pcap'): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 1 || n > 64) throw new DsrlbError('E_USAGE', `--workers: ${raw} is not a worker count from 1 to 64`);
  if (n > 1 && backend !== 'ring') {
    throw new DsrlbError('E_USAGE', `--workers ${n} needs --io ring: only the packet ring can join a PACKET_FANOUT group (libpcap cannot), and without fan-out every worker would see every frame`);
  }
  return n;
}

export interface WorkerPacketPathOptions {
  netns?: string;
  /** Packet worker processes (default 1); more than one share the frames by PACKET_FANOUT (ring only). */
  workers?: number;
  /** How one worker is started (tests pass a fake); default: a packet worker process. */
  startOne?: StartPacketPath;
}

/**
 * One packet worker, or N in one fan-out group seen as one packet path (engine/worker-group.ts):
 * each gets the same start-up settings plus its place (`worker: { index, count }`), and its ring
 * joins the group whose id is this process's PID (16 bits). If one of them cannot start, the
 * others are stopped and the error is thrown.
 */
export function workerPacketPath(opts: WorkerPacketPathOptions = {}): StartPacketPath {
  const n = opts.workers ?? 1;
  const one = opts.startOne ?? oneWorker(opts);
  if (n <= 1) return one;
  return async (start) => {
    const io: PacketIoOptions = { ...(start.io ?? { backend: defaultIoBackend() }), fanout: { group: fanoutGroupId(process.pid), mode: 'hash' } };
    if (io.backend !== 'ring') throw new DsrlbError('E_USAGE', `${n} packet workers need the ring backend (--io ring)`);
    const init = start.init as Record<string, unknown>;
    const started = await Promise.allSettled(Array.from({ length: n }, (_, index) =>
      one({ ...start, io, init: { ...init, worker: { index, count: n } } })));
    const handles = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(handles.map((h) => h.stop()));
      throw failed.reason;
    }
    return groupPacketPaths(handles);
  };
}

function oneWorker(opts: WorkerPacketPathOptions): StartPacketPath {
  return async ({ iface, services, bufferSize, init, io }) => {
    // The handler speaks from its first moment (MACs resolved while starting): keep what it says
    // until the director listens.
    let listener: ((m: unknown) => void) | null = null;
    const early: unknown[] = [];
    const w = await startPacketWorker({
      onMessage: (m) => (listener ? listener(m) : early.push(m)),
      iface,
      filter: directorFilter(services),
      bufferSize,
      handlerModule: DIRECTOR_HANDLER,
      handlerInit: init,
      netns: opts.netns,
      io: io ?? ({ backend: defaultIoBackend() } satisfies PacketIoOptions),
    });
    const handle: PacketPathHandle = {
      pid: w.pid,
      post: (m) => w.post(m),
      onMessage: (cb) => {
        listener = cb;
        for (const m of early.splice(0)) cb(m);
      },
      onExit: (cb) => {
        w.on('error', (e: Error) => cb(e.message));
      },
      stop: async () => {
        await w.stop();
      },
    };
    return handle;
  };
}
