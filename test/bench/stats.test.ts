import { describe, expect, it } from 'vitest';
import { lossOf, searchLossFree, type ProbeOutcome } from '../../bench/lib/search.ts';
import { fmt, fmtSummary, percentile, ratio, sig, summarize } from '../../bench/lib/stats.ts';

describe('statistics', () => {
  it('percentiles interpolate between closest ranks (numpy default)', () => {
    const xs = [15, 20, 35, 40, 50];
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 40)).toBeCloseTo(29, 10);
    expect(percentile([3, 1, 2], 50)).toBe(2); // unsorted input
    const big = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(big, 99)).toBeCloseTo(990.01, 6);
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('summaries: median, min, max, n of the finite values; null when none', () => {
    expect(summarize([5, 1, 3, null, Number.NaN, undefined])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(summarize([2, 4])).toEqual({ median: 3, min: 2, max: 4, n: 2 });
    expect(summarize([])).toBeNull();
    expect(summarize([null, Number.POSITIVE_INFINITY])).toBeNull();
  });

  it('ratios and formatting', () => {
    expect(ratio(3, 4)).toBe(0.75);
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
    expect(sig(123456, 3)).toBe(123000);
    expect(fmt(1234567)).toBe('1,234,567');
    expect(fmt(null)).toBe('–');
    expect(fmtSummary({ median: 10, min: 8, max: 12, n: 3 })).toBe('10 [8..12]');
    expect(fmtSummary({ median: 10, min: 10, max: 10, n: 1 })).toBe('10');
    expect(fmtSummary(null)).toBe('–');
  });
});

describe('loss-free search', () => {
  /** A path that delivers everything up to `cap` pps and loses the excess. */
  const path = (cap: number, seen: number[]) => async (rate: number): Promise<ProbeOutcome> => {
    seen.push(rate);
    const sent = rate;
    const delivered = Math.min(rate, cap);
    return { sent, delivered, offeredPps: rate, deliveredPps: delivered };
  };

  it('bisects to within the step below the capacity, first probe where asked', async () => {
    const seen: number[] = [];
    const r = await searchLossFree(path(83_000, seen), { lo: 0, hi: 200_000, first: 90_000, probes: 8, tolerance: 0 });
    expect(seen[0]).toBe(90_000);
    expect(r.lossFreePps).toBeLessThanOrEqual(83_000);
    expect(r.lossFreePps).toBeGreaterThan(83_000 - 4000);
    expect(r.probes.length).toBeLessThanOrEqual(8);
    expect(r.probes.every((p) => p.pass === p.rate <= 83_000)).toBe(true);
  });

  it('stops at the ceiling when it passes there, and reports null when nothing passes', async () => {
    const seen: number[] = [];
    const r = await searchLossFree(path(1e9, seen), { lo: 0, hi: 100_000, first: 100_000, probes: 5, tolerance: 0 });
    expect(seen).toEqual([100_000]);
    expect(r.lossFreePps).toBe(100_000);
    const none = await searchLossFree(path(0, []), { lo: 0, hi: 100_000, probes: 3, tolerance: 0 });
    expect(none.lossFreePps).toBeNull();
    expect(none.probes).toHaveLength(3);
  });

  it('counts the rate really sent: a starved generator does not raise the figure', async () => {
    const starved = async (rate: number): Promise<ProbeOutcome> => {
      const offered = Math.min(rate, 50_000); // cannot send faster than 50k
      return { sent: offered, delivered: offered, offeredPps: offered, deliveredPps: offered };
    };
    const r = await searchLossFree(starved, { lo: 0, hi: 200_000, probes: 4, tolerance: 0 });
    expect(r.lossFreePps).toBe(50_000);
  });

  it('tolerance and loss', () => {
    expect(lossOf({ sent: 10_000, delivered: 9_999 })).toBeCloseTo(1e-4);
    expect(lossOf({ sent: 0, delivered: 0 })).toBe(1);
    expect(lossOf({ sent: 10, delivered: 12 })).toBe(0);
  });
});
