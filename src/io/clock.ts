/** The system Clock: performance.now() (monotonic ms), setInterval and setTimeout. */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../ports/index.ts';

export const systemClock: Clock = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};
