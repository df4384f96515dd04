/** StartPacketPath over the packet worker process, with the director handler module. */
import { fileURLToPath } from 'node:url';
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

export function workerPacketPath(opts: { netns?: string } = {}): StartPacketPath {
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
