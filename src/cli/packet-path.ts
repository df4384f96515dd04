/** StartPacketPath over the packet worker process, with the director handler module. */
import { fileURLToPath } from 'node:url';
import { startPacketWorker } from '../io/index.ts';
import type { PacketPathHandle, StartPacketPath } from '../ports/index.ts';

export const DIRECTOR_HANDLER = fileURLToPath(new URL('./director-worker.ts', import.meta.url));

/**
 * Every inbound IPv4 frame and every inbound ARP frame. The services are NOT spelled out in the
 * filter: ipvsadm-style runtime changes (`dsrlb ipvsadm -A …`) add services the capture must see at
 * once, and a kernel filter can only be replaced by reopening the capture. The data path sorts the
 * frames (a frame not for a VIP is left to the host, as the kernel would), and ARP must be seen in
 * full anyway: the reals' answers to our ARP requests are not about a VIP.
 */
export const DIRECTOR_FILTER = 'inbound and (arp or ip)';

export function workerPacketPath(opts: { netns?: string } = {}): StartPacketPath {
  return async ({ iface, bufferSize, init }) => {
    // The handler speaks from its first moment (MACs resolved while starting): keep what it says
    // until the director listens.
    let listener: ((m: unknown) => void) | null = null;
    const early: unknown[] = [];
    const w = await startPacketWorker({
      onMessage: (m) => (listener ? listener(m) : early.push(m)),
      iface,
      filter: DIRECTOR_FILTER,
      bufferSize,
      handlerModule: DIRECTOR_HANDLER,
      handlerInit: init,
      netns: opts.netns,
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
