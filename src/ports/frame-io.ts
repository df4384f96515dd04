/**
 * FrameIO: one open packet interface (capture + send) as the data path sees it. Implemented by
 * src/io/cap.ts over libpcap; a test or a replay can implement it with arrays.
 *
 * Contract (from what the libpcap binding does, see native-notes/):
 * - `onFrame` callbacks run synchronously, one frame at a time. `frame` is a SHARED buffer that is
 *   overwritten by the next frame: read it (or change it and `send` it) before returning, and copy
 *   the bytes you want to keep. Only `frame[0..len)` is valid.
 * - Only frames that arrive at the interface are delivered (never the frames this FrameIO sends).
 * - `send` is one synchronous system call; it returns false (and counts a send error) instead of
 *   throwing, and always returns false after `close()`: sending on a closed handle never reaches
 *   the native side.
 *
 * Differences from the first sketch of this port, and why:
 * - `closed` lets a handler stop early without tracking close itself.
 * - `stats().truncated` counts frames larger than the receive buffer; they are dropped before the
 *   callback (a partial frame must never be re-sent).
 */
export interface FrameIOStats {
  /** Frames handed to the onFrame callback (or queued for it before it was set). */
  received: number;
  /** Frames handed to the kernel by `send`. */
  sent: number;
  /** `send` calls that failed (kernel error, closed handle, bad length). */
  sendErrors: number;
  /** Frames dropped because they did not fit the receive buffer (snaplen). */
  truncated: number;
  /** Frames dropped because no onFrame callback was set yet and the small waiting queue was full. */
  unhandled: number;
}

export type FrameCallback = (frame: Buffer, len: number) => void;

export interface FrameIO {
  /** Interface name, e.g. "eth0". */
  readonly iface: string;
  /** The interface's own MAC address (6 bytes). Use it as the source of re-sent frames. */
  readonly mac: Uint8Array;
  /** True once close() ran. */
  readonly closed: boolean;
  /** Sets (replaces) the frame callback. Frames that arrived before the first call are replayed to it. */
  onFrame(cb: FrameCallback): void;
  /** Sends `frame[0..len)` (len defaults to frame.length). Never throws; false when not sent. */
  send(frame: Uint8Array, len?: number): boolean;
  /** Stops capture and releases the handle. Idempotent. */
  close(): void;
  stats(): FrameIOStats;
}
