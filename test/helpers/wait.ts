/**
 * Waiting on a condition instead of sleeping: `poll` checks `cond` every `intervalMs` until it
 * holds or `timeoutMs` passed and returns the time it took (or -1); `waitFor` is the same but throws
 * (naming `what` and the last value seen) when the time is up, so a test that waits never goes on
 * with a condition that does not hold.
 */
export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond()` is truthy: the milliseconds it took, or -1 when `timeoutMs` passed. */
export async function poll(cond: () => unknown, { timeoutMs, intervalMs = 50 }: WaitOptions): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 >= timeoutMs) return -1;
    await sleep(intervalMs);
  }
}

/**
 * Polls `get()` until `until(value)` holds and returns that value; throws after `timeoutMs` with
 * `what` and the last value, e.g. `await waitFor(() => listener.count(), (n) => n === 3, {...}, 'datagrams')`.
 */
export async function waitFor<T>(get: () => T | Promise<T>, until: (v: T) => boolean, opts: WaitOptions, what = 'condition'): Promise<T> {
  let last: T | undefined;
  let seen = false;
  const took = await poll(async () => {
    last = await get();
    seen = true;
    return until(last);
  }, opts);
  if (took < 0) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}; last value: ${seen ? JSON.stringify(last) : 'none'}`);
  return last as T;
}
