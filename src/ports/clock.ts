/** Time for the orchestration layers: a monotonic millisecond clock, a repeating timer and (optionally) a one-shot one. */
export interface Clock {
  /** Milliseconds, monotonic (not wall-clock time). */
  now(): number;
  /** Calls fn every ms milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
  /**
   * Calls fn once, ms milliseconds from now, unless the returned function is called first. Optional:
   * a user that has it keeps an exact deadline instead of polling at a fine tick.
   */
  after?(ms: number, fn: () => void): () => void;
}
