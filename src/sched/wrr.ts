/**
 * wrr — weighted round robin, as net/netfilter/ipvs/ip_vs_wrr.c.
 *
 * State ("mark"): cl = the last dest picked (or the list head), cw = the current weight threshold,
 * mw = the largest weight minus (di - 1), di = the gcd of the positive weights (the step).
 * A pick walks on from cl; the first dest that is not overloaded and has weight >= cw wins. Each time
 * the walk passes the list head, cw drops by di; when it would reach 0 or less it restarts at mw.
 * Because mw is lowered by di - 1, the last pass of a cycle is always at cw = 1, so a dest whose
 * weight fell below di (an edit racing a pick) still gets its turn.
 *
 * Every add, delete or edit (ip_vs_wrr_dest_changed) moves cl back to the head and recomputes di and
 * mw, but keeps cw unless it is now above mw (or 0): it is rounded to the step instead. A service
 * starts with no dests, so cw = mw = 0; the first add sets cw = mw of that single dest and later adds
 * keep it. That is why the kernel starts at cw = 1 rather than at the largest weight when the reals
 * are added one by one with weights 1, 2, 3 (first cycle: every dest once).
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { DestChange, Scheduler } from './types.ts';
import { gcd } from './hash.ts';
import { locate, maxWeight } from './list.ts';

/** gcd of the positive weights, 1 when there is none (ip_vs_wrr_gcd_weight). */
function gcdWeight(dests: readonly Dest[]): number {
  let g = 0;
  for (const d of dests) {
    const w = d.weight;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g > 0 ? g : 1;
}

export class WeightedRoundRobinScheduler implements Scheduler {
  readonly name = 'wrr' as const;
  /** Last dest picked; null = the list head. */
  private cl: Dest | null = null;
  private clIdx = -1;
  private cw = 0;
  private mw = 0;
  private di = 1;
  private ready = false;

  /** For tests and diagnostics: the mark as the kernel would hold it. */
  get mark(): { cl: Dest | null; cw: number; mw: number; di: number } {
    return { cl: this.cl, cw: this.cw, mw: this.mw, di: this.di };
  }

  /** ip_vs_wrr_init_svc: cursor at the head, cw at the (lowered) maximum. */
  init(dests: readonly Dest[]): void {
    this.cl = null;
    this.clIdx = -1;
    this.di = gcdWeight(dests);
    this.mw = maxWeight(dests) - (this.di - 1);
    this.cw = this.mw;
    this.ready = true;
  }

  destsChanged(dests: readonly Dest[], _change: DestChange, _dest: Dest): void {
    if (!this.ready) {
      // A fresh service: the kernel ran init_service on the empty list before the first add.
      this.init([]);
    }
    this.cl = null;
    this.clIdx = -1;
    this.di = gcdWeight(dests);
    this.mw = maxWeight(dests) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    if (!this.ready) this.init(dests);
    if (this.mw === 0) return null; // no dest with a positive weight: the mark stays as it is
    const n = dests.length;
    // Position of the walk: index of cl, -1 for the head (also when cl left the list unreported).
    let pos = this.cl === null ? -1 : locate(dests, this.cl, this.clIdx);
    const lastIdx = pos; // where this pick started ("last"); -1 = the head
    let stopIdx = -2; // index of the "stop" dest once set; -2 = none
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (let i = pos + 1; i < n; i++) {
        const d = dests[i]!;
        if (destSchedulable(d) && d.weight >= this.cw) {
          this.cl = d;
          this.clIdx = i;
          return d;
        }
        if (i === stopIdx) {
          // Every dest was tried at cw = 1: nothing available. The kernel leaves cl on `stop`.
          this.cl = d;
          this.clIdx = i;
          return null;
        }
      }
      // Passed the head.
      pos = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || lastIdx === -1) {
          this.cl = null;
          this.clIdx = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && lastIdx !== -1) stopIdx = lastIdx;
    }
  }
}
