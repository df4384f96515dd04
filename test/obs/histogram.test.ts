/** The fixed-bucket residence histogram: cumulative buckets, sum, merge over workers, quantiles. */
import { describe, expect, it } from 'vitest';
import { Histogram, histogramQuantile, mergeHistograms, RESIDENCE_BUCKETS } from '../../src/obs/index.ts';

describe('Histogram', () => {
  it('counts each value in the first bucket whose bound it does not exceed; buckets are cumulative; +Inf is count', () => {
    const h = new Histogram([1e-6, 1e-5, 1e-4]);
    for (const v of [5e-7, 1e-6, 2e-6, 5e-5, 0.5, -1]) h.observe(v);
    const s = h.snapshot();
    expect(s.buckets).toEqual([[1e-6, 3], [1e-5, 4], [1e-4, 5]]);
    expect(s.count).toBe(6);
    expect(s.sum).toBeCloseTo(5e-7 + 1e-6 + 2e-6 + 5e-5 + 0.5, 12); // a negative value (clock step) adds 0
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // survives the control socket's JSON
  });

  it('sums the histograms of several workers and estimates quantiles', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 90; i++) a.observe(3e-6);
    for (let i = 0; i < 10; i++) b.observe(3e-3);
    const m = mergeHistograms([a.snapshot(), b.snapshot()])!;
    expect(m.count).toBe(100);
    expect(m.buckets).toHaveLength(RESIDENCE_BUCKETS.length);
    expect(histogramQuantile(m, 0.5)).toBe(5e-6);
    expect(histogramQuantile(m, 0.99)).toBe(5e-3);
    expect(histogramQuantile(new Histogram().snapshot(), 0.5)).toBeNull();
    expect(mergeHistograms([])).toBeUndefined();
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new Histogram([1, 1])).toThrow(RangeError);
  });
});
