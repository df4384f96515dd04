/** Histograms from snapshots (e.g. the frame residence histogram): the text prom-client prints for the same observations. */
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { exposition, histogramSamples, registerSnapshotHistogram, type HistogramSnapshot } from '../../src/obs/index.ts';

const BOUNDS = [0.000_01, 0.000_1, 0.001, 0.01, 0.1];

/** What the packet side would keep: cumulative counts per bound, the sum and the count. */
function snapshotOf(values: readonly number[], bounds = BOUNDS): HistogramSnapshot {
  return {
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    buckets: bounds.map((le) => [le, values.filter((v) => v <= le).length] as const),
  };
}

async function promClientText(values: readonly number[], labels?: Record<string, string>): Promise<string> {
  const registry = new Registry();
  const h = new Histogram({ name: 'dsrlb_frame_residence_seconds', help: 'Time a frame spends in the director.', buckets: BOUNDS, labelNames: Object.keys(labels ?? {}), registers: [registry] });
  if (labels) h.zero(labels);
  for (const v of values) if (labels) h.observe(labels, v); else h.observe(v);
  return exposition(registry);
}

describe('registerSnapshotHistogram', () => {
  it('prints what a prom-client Histogram prints for the same observations (random values, with and without labels)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { maxLength: 40 }), fc.boolean(), async (values, labelled) => {
      const labels = labelled ? { worker: '0' } : undefined;
      const registry = new Registry();
      const snap = snapshotOf(values);
      registerSnapshotHistogram({
        name: 'dsrlb_frame_residence_seconds', help: 'Time a frame spends in the director.', registers: [registry],
        collect: () => (labels ? [{ labels, snapshot: snap }] : snap),
      });
      expect(await exposition(registry)).toBe(await promClientText(values, labels));
    }), { numRuns: 100 });
  });

  it('reads the snapshot at every scrape; null shows HELP and TYPE only', async () => {
    let current: HistogramSnapshot | null = null;
    const registry = new Registry();
    registerSnapshotHistogram({ name: 'x_seconds', help: 'x', registers: [registry], collect: () => current });
    expect(await exposition(registry)).toBe('# HELP x_seconds x\n# TYPE x_seconds histogram\n');
    current = { count: 3, sum: 0.5, buckets: [[0.1, 1], [1, 3], [Infinity, 3]] };
    expect(await exposition(registry)).toBe([
      '# HELP x_seconds x', '# TYPE x_seconds histogram',
      'x_seconds_bucket{le="0.1"} 1', 'x_seconds_bucket{le="1"} 3', 'x_seconds_bucket{le="+Inf"} 3', 'x_seconds_sum 0.5', 'x_seconds_count 3', '',
    ].join('\n'));
  });

  it('histogramSamples: buckets with le first, one +Inf bucket, then _sum and _count', () => {
    expect(histogramSamples('h', { count: 2, sum: 3, buckets: [[1, 1]] }, { a: 'b' })).toEqual([
      { metricName: 'h_bucket', labels: { le: 1, a: 'b' }, value: 1 },
      { metricName: 'h_bucket', labels: { le: '+Inf', a: 'b' }, value: 2 },
      { metricName: 'h_sum', labels: { a: 'b' }, value: 3 },
      { metricName: 'h_count', labels: { a: 'b' }, value: 2 },
    ]);
  });
});
