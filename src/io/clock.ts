/** The system Clock: performance.now() (monotonic ms) and setInterval. */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../ports/index.ts';

export const systemClock: Clock = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};
