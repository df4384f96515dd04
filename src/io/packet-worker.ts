/**
 * Entry point of the packet worker PROCESS (started by worker-host.ts with an IPC channel). It loads
 * the frame I/O backend (the packet-ring addon, ring.ts, or the libpcap binding, cap.ts, as
 * init.io.backend says) and opens it here, never in the control process, so a flood that
 * keeps this process busy draining the ring cannot delay the control plane's timers.
 *
 * Why a process and not a worker_thread: npm `cap` 0.2.1 registers its poll handle on the process's
 * default libuv loop (uv_default_loop), i.e. the MAIN thread's loop; opened in a worker_thread, the
 * first packet makes the main thread call into the worker's isolate and V8 aborts ("Cannot create a
 * handle without a HandleScope"). Verified; see native-notes/worker.md.
 *
 * Life cycle: 'init' → load the handler module, open the capture (primed), create the handler,
 * 'ready'. 'stop' or a lost parent → close the capture FIRST (sends are refused from then on), then
 * the handler, report the counters, drop the IPC channel; the process then ends on its own.
 */
import { pathToFileURL } from 'node:url';
import { DsrlbError } from '../errors/index.ts';
import { macToString } from '../model/index.ts';
import type { CreateHandler, PacketHandler } from '../ports/index.ts';
import { openCapture, type Capture } from './cap.ts';
import { openRing, type Ring } from './ring.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';

let io: Capture | Ring | null = null;
let handler: PacketHandler | null = null;
let stopped = false;

function send(msg: FromWorker): void {
  if (process.connected && process.send) {
    try {
      process.send(msg);
    } catch {
      /* channel closing: nothing to tell anyone */
    }
  }
}

function shutdown(): void {
  if (stopped) return;
  stopped = true;
  if (io) io.close();
  const s = io ? io.stats() : null;
  try {
    handler?.close?.();
  } finally {
    handler = null;
    send({ t: 'stopped', s });
    if (process.connected) process.disconnect();
  }
}

async function start(init: WorkerInit): Promise<void> {
  const url = init.handlerUrl.startsWith('file:') ? init.handlerUrl : pathToFileURL(init.handlerUrl).href;
  const mod = (await import(url)) as { createHandler?: CreateHandler };
  if (typeof mod.createHandler !== 'function') {
    throw new DsrlbError('E_WORKER_HANDLER', `${init.handlerUrl} does not export createHandler(init, io, post)`);
  }
  const o = init.io;
  if (o?.backend === 'ring') {
    const ring = await openRing({
      iface: init.iface, filter: init.filter, bufferSize: init.bufferSize, frames: o.ringFrames, version: o.ringVersion,
      busyPollUs: o.busyPollUs, qdiscBypass: o.qdiscBypass, fanout: o.fanout,
    });
    // The interface went away (or another fatal ring error): say why, then stop like a lost parent.
    ring.onError((e) => {
      send({ t: 'error', code: e.code, message: e.message });
      shutdown();
    });
    io = ring;
  } else {
    io = await openCapture({ iface: init.iface, filter: init.filter, bufferSize: init.bufferSize, snaplen: init.snaplen });
  }
  if (stopped) {
    io.close();
    return;
  }
  handler = await mod.createHandler(init.handlerInit, io, (m) => send({ t: 'user', m }));
  const h = handler;
  io.onFrame(h.onFrame.bind(h));
  send({ t: 'ready', iface: io.iface, mac: macToString(io.mac), prime: io.prime, filter: io.effectiveFilter, backend: io.backend });
}

process.on('message', (raw) => {
  const msg = raw as ToWorker;
  switch (msg.t) {
    case 'init':
      start(msg.init).catch((e: unknown) => {
        const code = e instanceof DsrlbError ? e.code : 'E_WORKER_START';
        send({ t: 'error', code, message: e instanceof Error ? e.message : String(e) });
        shutdown();
      });
      break;
    case 'user':
      handler?.onMessage?.(msg.m);
      break;
    case 'stats':
      send({ t: 'stats', id: msg.id, s: io ? io.stats() : { received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 } });
      break;
    case 'stop':
      shutdown();
      break;
  }
});

// The control process went away (or stop() dropped the channel): never keep capturing alone.
process.on('disconnect', shutdown);
