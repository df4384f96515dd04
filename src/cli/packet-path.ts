/**
 * StartPacketPath over the packet worker process: the capture filter for the services (plus every
 * inbound ARP — the reals' answers to our ARP requests — and frames FROM a VIP, which must never
 * arrive: the data path counts them as DSR violations), and the director handler module.
 */
import { fileURLToPath } from 'node:url';
import { buildCaptureFilter, startPacketWorker } from '../io/index.ts';
import { ipToString } from '../model/index.ts';
import type { PacketPathHandle, ServiceMatch, StartPacketPath } from '../ports/index.ts';

export const DIRECTOR_HANDLER = fileURLToPath(new URL('./director-worker.ts', import.meta.url));

export function directorFilter(services: readonly ServiceMatch[]): string {
  const vips = [...new Set(services.map((s) => s.vip))];
  const extra = ['arp', ...vips.map((v) => `ip src host ${ipToString(v)}`)].join(' or ');
  if (services.length === 0) return `inbound and (${extra})`;
  return `(${buildCaptureFilter(services, { arp: false })}) or (inbound and (${extra}))`;
}

export function workerPacketPath(opts: { netns?: string } = {}): StartPacketPath {
  return async ({ iface, services, bufferSize, init }) => {
    const w = await startPacketWorker({
      iface,
      filter: directorFilter(services),
      bufferSize,
      handlerModule: DIRECTOR_HANDLER,
      handlerInit: init,
      netns: opts.netns,
    });
    const handle: PacketPathHandle = {
      pid: w.pid,
      post: (m) => w.post(m),
      onMessage: (cb) => void w.on('message', cb),
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
