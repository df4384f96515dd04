/**
 * A fixed-bucket histogram (pure: no clock, no allocation per observation), for the frame residence
 * time: kernel receive timestamp → the frame's send. Exported as a plain object so it crosses the
 * packet worker's IPC channel and several workers' histograms can be summed bucket by bucket.
 */

/** Upper bounds (seconds) of the residence buckets: 1 µs … 1 s, plus +Inf implicitly. */
export const RESIDENCE_BUCKETS: readonly number[] = [
  1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 100e-3, 1,
];

/**
 * What a histogram exports: buckets are cumulative [upper bound (s), count ≤ it]; the +Inf bucket is
 * `count` (left out so the object survives JSON: the control socket speaks JSON).
 */
export interface HistogramSnapshot {
  count: number;
  /** Sum of the observations, seconds. */
  sum: number;
  buckets: Array<[number, number]>;
}

export class Histogram {
  private readonly counts: Float64Array;
  private count = 0;
  private sum = 0;

  constructor(private readonly bounds: readonly number[] = RESIDENCE_BUCKETS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError('histogram bounds must increase');
    }
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (seconds). Negative values (clock steps) count in the first bucket. */
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += v > 0 ? v : 0;
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += this.counts[i]!;
      buckets.push([this.bounds[i]!, acc]);
    }
    return { count: this.count, sum: this.sum, buckets };
  }
}

/** Sums histograms with the same bounds (several packet workers). */
export function mergeHistograms(hs: readonly HistogramSnapshot[]): HistogramSnapshot | undefined {
  if (hs.length === 0) return undefined;
  const out: HistogramSnapshot = { count: 0, sum: 0, buckets: hs[0]!.buckets.map(([le]) => [le, 0]) };
  for (const h of hs) {
    out.count += h.count;
    out.sum += h.sum;
    h.buckets.forEach(([, n], i) => {
      if (out.buckets[i]) out.buckets[i]![1] += n;
    });
  }
  return out;
}

/** The q-quantile (0..1) estimated from the buckets (upper bound of the bucket it falls in). */
export function histogramQuantile(h: HistogramSnapshot, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  for (const [le, n] of h.buckets) if (n >= rank) return le;
  return Infinity;
}
