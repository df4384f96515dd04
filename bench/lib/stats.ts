/**
 * Statistics of the benchmark (pure): percentiles of one round's samples, and the summary of one
 * metric over the rounds (median, min, max, n). Paths are compared only inside one run: the
 * summaries below are what results.json and the report show.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Finite numbers only (NaN, ±Infinity, null and undefined are left out). */
export function finite(xs: ReadonlyArray<number | null | undefined>): number[] {
  const out: number[] = [];
  for (const x of xs) if (typeof x === 'number' && Number.isFinite(x)) out.push(x);
  return out;
}

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/**
 * Percentile by linear interpolation between closest ranks (the "R-7" definition, as numpy's
 * default): p in [0, 100]. Throws on an empty input.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in [0, 100]`);
  const s = sorted(xs);
  const h = ((s.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** median/min/max/n of the finite values; null when there is none. */
export function summarize(xs: ReadonlyArray<number | null | undefined>): Summary | null {
  const v = finite(xs);
  if (v.length === 0) return null;
  const s = sorted(v);
  return { median: percentile(s, 50), min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** Round to `digits` significant digits (for JSON and tables; 0 stays 0). */
export function sig(x: number, digits = 4): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/** A number for a table: thousands separators, `digits` decimals; '–' for null. */
export function fmt(x: number | null | undefined, digits = 0): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median [min..max]" with the same formatting, or '–'. */
export function fmtSummary(s: Summary | null | undefined, digits = 0): string {
  if (!s) return '–';
  if (s.n === 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} [${fmt(s.min, digits)}..${fmt(s.max, digits)}]`;
}

/** A cumulative histogram as the director reports it: [upper bound, observations <= it][], plus count and sum. */
export interface CumulativeHistogram {
  count: number;
  sum: number;
  buckets: ReadonlyArray<readonly [number, number]>;
}

/**
 * b − a, bucket by bucket (the observations between two readings of one growing histogram); null
 * when the bucket bounds differ or a count went down (the process restarted).
 */
export function histogramDelta(a: CumulativeHistogram | null | undefined, b: CumulativeHistogram): CumulativeHistogram | null {
  if (!a) return { count: b.count, sum: b.sum, buckets: b.buckets.map(([le, n]) => [le, n] as const) };
  if (a.buckets.length !== b.buckets.length || b.count < a.count) return null;
  const buckets: Array<readonly [number, number]> = [];
  for (let i = 0; i < b.buckets.length; i++) {
    const [le, n] = b.buckets[i]!;
    const [le0, n0] = a.buckets[i]!;
    if (le !== le0 || n < n0) return null;
    buckets.push([le, n - n0]);
  }
  return { count: b.count - a.count, sum: b.sum - a.sum, buckets };
}

/**
 * The q-quantile (0..1) of a cumulative histogram, interpolated linearly inside the bucket that
 * holds it (as Prometheus' histogram_quantile: the first bucket starts at 0). Observations above
 * the last bound give the last bound. null when the histogram is empty.
 */
export function histogramQuantile(h: CumulativeHistogram, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is not in [0, 1]`);
  if (h.count <= 0 || h.buckets.length === 0) return null;
  const rank = q * h.count;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank && n > prevN) return prevLe + ((le - prevLe) * (rank - prevN)) / (n - prevN);
    if (n >= rank) return le;
    prevLe = le;
    prevN = n;
  }
  return h.buckets[h.buckets.length - 1]![0];
}
