import type { FrameIO } from './frame-io.ts';

/**
 * The data-path side of the packet worker. A handler module exports `createHandler` (see
 * CreateHandler); the worker process (src/io/packet-worker.ts) calls it once with the open FrameIO,
 * then feeds it frames. It runs in its own process, apart from the control plane: `post` sends a
 * message to the control side (structured-clone serialisation), `onMessage` receives one.
 */
export interface PacketHandler {
  /** Called for every captured frame; `frame` is the shared buffer (see FrameIO). Synchronous. */
  onFrame(frame: Buffer, len: number): void;
  /** A message posted by the control side (PacketWorker.post). */
  onMessage?(msg: unknown): void;
  /** Called once when the worker stops, after the capture is closed: clear timers here. */
  close?(): void;
}

export type PostToControl = (msg: unknown) => void;

export type CreateHandler = (init: unknown, io: FrameIO, post: PostToControl) => PacketHandler | Promise<PacketHandler>;
