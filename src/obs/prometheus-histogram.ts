/**
 * Histograms that are counted elsewhere (in the packet worker, in native code) and arrive here as a
 * snapshot of cumulative buckets. prom-client's Histogram only counts observations it is given one by
 * one, so a snapshot is exposed by a small collector of the shape prom-client's Registry reads (name,
 * help, type, get() → values): `_bucket` series with `le` first (as prom-client writes them), a
 * `+Inf` bucket, `_sum` and `_count`. The text is the one a prom-client Histogram prints for the
 * same observations (test/obs/prometheus-histogram.test.ts). Pure.
 */
import type { Histogram, Registry } from 'prom-client';

// Cumulative buckets: [upper bound, observations <= bound], bounds increasing; +Inf may be left out.
import type { HistogramSnapshot } from './histogram.ts';

type Labels = Record<string, string>;

export interface HistogramSample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The series of one histogram snapshot, in prom-client's order: buckets, +Inf, _sum, _count. */
export function histogramSamples(name: string, snap: HistogramSnapshot, labels: Labels = {}): HistogramSample[] {
  const out: HistogramSample[] = [];
  for (const [le, cumulative] of snap.buckets) {
    if (le === Infinity) continue;
    out.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: snap.count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: snap.sum });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: snap.count });
  return out;
}

export interface SnapshotHistogramConfig {
  name: string;
  help: string;
  registers: readonly Registry[];
  /**
   * Called at every read of the registry: one snapshot (no labels), a snapshot per label set, or
   * null (nothing to show: HELP and TYPE only).
   */
  collect: () => HistogramSnapshot | readonly { labels: Labels; snapshot: HistogramSnapshot }[] | null;
}

/** Registers a histogram read from snapshots on each registry of `config.registers`. */
export function registerSnapshotHistogram(config: SnapshotHistogramConfig): void {
  const { name, help } = config;
  const metric = {
    name, help, type: 'histogram', aggregator: 'sum', collect: undefined,
    reset(): void {},
    async get() {
      const got = config.collect();
      const series = got === null ? [] : 'count' in got ? [{ labels: {}, snapshot: got }] : got;
      return { name, help, type: 'histogram', aggregator: 'sum', values: series.flatMap((s) => histogramSamples(name, s.snapshot, s.labels)) };
    },
  };
  // prom-client types registerMetric() for its own classes; its Registry only reads the fields above.
  for (const r of config.registers) r.registerMetric(metric as unknown as Histogram);
}
