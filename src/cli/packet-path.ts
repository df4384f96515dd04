/** StartPacketPath over the packet worker process, with the director handler module. */
import { fileURLToPath } from 'node:url';
import { groupPacketPaths } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { ringAvailable, startPacketWorker } from '../io/index.ts';
import { ipToString, ipv6ToString, parseIPv6, solicitedNode } from '../model/index.ts';
import type { PacketIoOptions, PacketPathHandle, ServiceMatch, StartPacketPath } from '../ports/index.ts';

export const DIRECTOR_HANDLER = fileURLToPath(new URL('./director-worker.ts', import.meta.url));

/**
 * The capture filter, built from the configured services: inbound ARP (requests for the VIPs, and
 * the reals' answers to our ARP requests, which are not about a VIP), inbound IPv4 to or from a
 * VIP (from a VIP: a reply that did not bypass the director, counted as a DSR violation), and the
 * same for IPv6 with the Neighbor Discovery the director needs (ndpFilterTerms). Ports are not in
 * the filter, so services added at run time on a configured VIP are seen at once; a director
 * started with no service (the ipvsadm drop-in mode) takes every inbound IPv4 and IPv6 frame, since
 * any VIP may come. The data path sorts what it gets.
 */
export function directorFilter(services: readonly ServiceMatch[]): string {
  const vips = [...new Set(services.filter((s) => s.vip6 === undefined).map((s) => s.vip))].sort((a, b) => a - b);
  const vip6s = [...new Set(services.flatMap((s) => (s.vip6 === undefined ? [] : [s.vip6])))].sort();
  if (vips.length === 0 && vip6s.length === 0) return 'inbound and (arp or ip or ip6)';
  const terms = ['arp'];
  if (vips.length > 0) terms.push(`(ip and (${vips.map((v) => `host ${ipToString(v)}`).join(' or ')}))`);
  if (vip6s.length > 0) terms.push(`(ip6 and (${ndpFilterTerms(vip6s).join(' or ')}))`);
  return `inbound and (${terms.join(' or ')})`;
}

/**
 * The IPv6 part: frames to or from each VIP6; the Neighbor Solicitations for them, which go to
 * their solicited-node groups (RFC 4861 7.2.2); and every Neighbor Advertisement, which is how the
 * reals answer our solicitations (ICMPv6 type 136 right behind the fixed header: NDP carries no
 * extension headers, and `ip6 proto` looks at the fixed header's Next Header only).
 */
function ndpFilterTerms(vip6s: readonly string[]): string[] {
  const groups = [...new Set(vip6s.map((v) => ipv6ToString(solicitedNode(parseIPv6(v)!))))].sort();
  return [...vip6s.map((v) => `host ${v}`), ...groups.map((g) => `dst host ${g}`), '(ip6 proto 58 and ip6[40] == 136)'];
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
