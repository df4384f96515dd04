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
