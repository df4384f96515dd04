/**
 * The frame every checker runs in: one answer, at the latest after `timeoutMs` or when `signal`
 * aborts, and every resource (socket, timer, child) released whichever way it ends.
 */
import type { CheckResult } from '../types.ts';

export type Done = (r: CheckResult) => void;
export type OnCleanup = (fn: () => void) => void;

export function bounded(
  timeoutMs: number, signal: AbortSignal, what: string, body: (done: Done, onCleanup: OnCleanup) => void,
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const cleanups: (() => void)[] = [];
    let settled = false;
    const runCleanup = (fn: () => void): void => {
      try { fn(); } catch { /* releasing must not throw */ }
    };
    const done: Done = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      for (const fn of cleanups.splice(0).reverse()) runCleanup(fn);
      resolve(r);
    };
    const onAbort = (): void => done({ ok: false, detail: `aborted (${what})` });
    const timer = setTimeout(() => done({ ok: false, detail: `timeout after ${timeoutMs} ms (${what})` }), timeoutMs);
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    const onCleanup: OnCleanup = (fn) => {
      if (settled) runCleanup(fn);
      else cleanups.push(fn);
    };
    try {
      body(done, onCleanup);
    } catch (e) {
      done({ ok: false, detail: `${what}: ${(e as Error).message}` });
    }
  });
}
