/**
 * Messages between the control side (worker-host.ts) and the packet worker process
 * (packet-worker.ts), over the Node IPC channel with 'advanced' (structured clone) serialisation.
 * Handler messages travel wrapped in { t: 'user' } so they never collide with these.
 */
import type { FrameIOStats, PacketIoOptions } from '../ports/index.ts';

export interface WorkerInit {
  iface: string;
  filter: string;
  bufferSize: number;
  snaplen?: number;
  /** file: URL of the handler module. */
  handlerUrl: string;
  handlerInit: unknown;
  /** Frame I/O backend (default pcap, as before the ring existed). */
  io?: PacketIoOptions;
}

export type ToWorker =
  | { t: 'init'; init: WorkerInit }
  | { t: 'user'; m: unknown }
  | { t: 'stats'; id: number }
  | { t: 'stop' };

export type FromWorker =
  | { t: 'ready'; iface: string; mac: string; prime: string; filter: string; backend: 'ring' | 'pcap' }
  | { t: 'user'; m: unknown }
  | { t: 'stats'; id: number; s: FrameIOStats }
  | { t: 'stopped'; s: FrameIOStats | null }
  | { t: 'error'; code: string; message: string };
