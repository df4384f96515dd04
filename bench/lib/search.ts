/**
 * The short search for the highest loss-free packet rate (pure: the probe is passed in).
 *
 * Bisection over the asked rate: a probe passes when its loss (1 - delivered/sent) is at most the
 * tolerance. `lo` is a rate assumed to pass (0: nothing known), `hi` one assumed to fail or the
 * generator's ceiling. The first probe may be placed by the caller (e.g. at the rate the flood
 * delivered, a good guess of the capacity); every later one halves the interval. The result is the
 * highest measured offered rate among the passing probes (what the generator really sent, which
 * on a starved machine can be less than asked), not an asked rate.
 */

export interface ProbeOutcome {
  /** Frames the generator sent. */
  sent: number;
  /** Frames counted at the receivers. */
  delivered: number;
  /** Measured sending rate (sent / sending time). */
  offeredPps: number;
  /** delivered / sending time. */
  deliveredPps: number;
}

export interface ProbeRecord extends ProbeOutcome {
  /** The rate asked of the generator. */
  rate: number;
  loss: number;
  pass: boolean;
}

export interface SearchOptions {
  lo: number;
  hi: number;
  /** Rate of the first probe (default: the middle of lo..hi). */
  first?: number;
  /** At most this many probes. */
  probes: number;
  /** Highest loss (a fraction) still counted as loss-free. */
  tolerance: number;
  /** Stop when hi - lo is below this (default 2000 pps). */
  minStep?: number;
  /** Asked rates are rounded to this (default 1000 pps). */
  quantum?: number;
}

export interface SearchResult {
  /** Measured offered rate of the best passing probe; null when no probe passed. */
  lossFreePps: number | null;
  /** The asked rate of that probe. */
  lossFreeRate: number | null;
  probes: ProbeRecord[];
}

export function lossOf(o: Pick<ProbeOutcome, 'sent' | 'delivered'>): number {
  if (o.sent <= 0) return 1;
  return Math.max(0, 1 - o.delivered / o.sent);
}

export async function searchLossFree(probe: (rate: number) => Promise<ProbeOutcome>, o: SearchOptions): Promise<SearchResult> {
  const q = o.quantum ?? 1000;
  const minStep = o.minStep ?? 2000;
  const round = (r: number) => Math.max(q, Math.round(r / q) * q);
  let lo = Math.max(0, o.lo);
  let hi = Math.max(lo, o.hi);
  let rate = round(o.first ?? (lo + hi) / 2);
  const probes: ProbeRecord[] = [];
  let best: ProbeRecord | null = null;
  const tried = new Set<number>();
  for (let i = 0; i < o.probes; i++) {
    if (tried.has(rate)) break;
    tried.add(rate);
    const out = await probe(rate);
    const loss = lossOf(out);
    const rec: ProbeRecord = { ...out, rate, loss, pass: loss <= o.tolerance };
    probes.push(rec);
    if (rec.pass) {
      lo = rate;
      // The best is what was really sent without loss (a starved generator may send less than asked).
      if (best === null || rec.offeredPps > best.offeredPps) best = rec;
      if (rate >= hi) break; // passed at the ceiling: the generator, not the path, is the limit
    } else {
      hi = rate;
    }
    if (hi - lo < minStep) break;
    rate = round((lo + hi) / 2);
  }
  return { lossFreePps: best ? best.offeredPps : null, lossFreeRate: best ? best.rate : null, probes };
}
