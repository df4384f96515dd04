/** A Clock (src/ports/clock.ts) on a fake time line: every() and after() timers fire as advance() passes them, in time order. */
import type { Clock } from '../../src/ports/index.ts';

export class FakeClock implements Clock {
  t = 0;
  private timers: { period: number; next: number; fn: () => void; live: boolean }[] = [];
  now(): number { return this.t; }
  every(ms: number, fn: () => void): () => void { return this.add(ms, ms, fn); }
  after(ms: number, fn: () => void): () => void { return this.add(0, ms, fn); }
  private add(period: number, ms: number, fn: () => void): () => void {
    const tm = { period, next: this.t + ms, fn, live: true };
    this.timers.push(tm);
    return () => { tm.live = false; };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      if (due.period === 0) due.live = false;
      else due.next += due.period;
      due.fn();
    }
    this.t = end;
  }
}
