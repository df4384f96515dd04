/**
 * FrameIO: one open packet interface (capture + send) as the data path sees it. Implemented by
 * src/io/ring.ts (dsrlb's packet-ring addon: RX ring + TX ring) and src/io/cap.ts (libpcap); a test
 * or a replay can implement it with arrays.
 *
 * Contract (from what the libpcap binding does, see native-notes/):
 * - `onFrame` callbacks run synchronously, one frame at a time. `frame` is a SHARED buffer that is
 *   overwritten by the next frame: read it (or change it and `send` it) before returning, and copy
 *   the bytes you want to keep. Only `frame[0..len)` is valid.
 * - Only frames that arrive at the interface are delivered (never the frames this FrameIO sends).
 * - `send` returns false (and counts a send error) instead of throwing, and always returns false
 *   after `close()`: sending on a closed handle never reaches the native side. With libpcap it is
 *   one system call per frame. With the ring, callbacks come in BATCHES (every frame ready at one
 *   wake-up): a send inside a batch is copied into a TX slot at once (so `frame` may be reused
 *   right after) and the batch's frames leave with one system call when the batch ends; a send
 *   outside a batch (a timer's) leaves at once. `flush()` (optional) sends what is queued now.
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
  /** Ring backend: frames the kernel saw for this socket (PACKET_STATISTICS tp_packets, drops included), accumulated. pcap: undefined (cap has no pcap_stats). */
  kernelPackets?: number;
  /** Ring backend: frames the kernel dropped because the ring was full (tp_drops), accumulated. */
  kernelDrops?: number;
  /** Ring backend: slots whose header made no sense (dropped, never read past). */
  badSlots?: number;
  /** Ring backend: sends refused because the frame does not fit a TX slot. */
  oversize?: number;
  /** Ring backend: sends refused because every TX slot was still in flight. */
  txFull?: number;
  /** Ring backend: wake-ups that found the interface down (reading resumes when it is up again). */
  ifaceDown?: number;
  /** Ring backend: time from the kernel's receive timestamp to the frame's send (see obs/histogram.ts). */
  residence?: ResidenceHistogram;
}

/** A fixed-bucket histogram as exported (obs/histogram.ts builds it): cumulative [le seconds, count]; +Inf = count. */
export interface ResidenceHistogram {
  count: number;
  sum: number;
  buckets: Array<[number, number]>;
}

export type FrameCallback = (frame: Buffer, len: number) => void;

export interface FrameIO {
  /** Interface name, e.g. "eth0". */
  readonly iface: string;
  /** The interface's own MAC address (6 bytes). Use it as the source of re-sent frames. */
  readonly mac: Uint8Array;
  /** Which backend this is ('ring' or 'pcap'); absent for test doubles. */
  readonly backend?: 'ring' | 'pcap';
  /** True once close() ran. */
  readonly closed: boolean;
  /** Sets (replaces) the frame callback. Frames that arrived before the first call are replayed to it. */
  onFrame(cb: FrameCallback): void;
  /** Sends `frame[0..len)` (len defaults to frame.length). Never throws; false when not sent. */
  send(frame: Uint8Array, len?: number): boolean;
  /** Stops capture and releases the handle. Idempotent. */
  close(): void;
  stats(): FrameIOStats;
  /** Sends every frame queued by `send` now (batching backends; absent or a no-op otherwise). */
  flush?(): void;
}
