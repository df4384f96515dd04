/** Time for the orchestration layers: a monotonic millisecond clock and a repeating timer. */
export interface Clock {
  /** Milliseconds, monotonic (not wall-clock time). */
  now(): number;
  /** Calls fn every ms milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}
