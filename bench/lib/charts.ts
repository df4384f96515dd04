/** The report's three charts, from results.json (pure). */
import { PATH_COLORS, barChart, groupedBarChart, scatterChart, type BarValue } from './svg.ts';
import { isIpv6Path, PATHS, type Metric, type PathName, type Results } from './results.ts';

export const CHART_FILES = {
  connRate: 'conn-rate.svg',
  latency: 'latency.svg',
  pps: 'pps.svg',
} as const;

function bar(r: Results, p: PathName, m: Metric | 'connect_p90_us' | 'request_p90_us'): BarValue {
  const pr = r.paths[p];
  const s = m === 'connect_p90_us' || m === 'request_p90_us' ? pr.extra[m] : pr.metrics[m];
  if (pr.status === 'skipped') return { value: null, note: 'skipped' };
  if (!s) return { value: null, note: pr.status === 'failed' ? 'failed' : 'n/a' };
  return { value: s.median, min: s.min, max: s.max };
}

/** Paths shown: all that ran, plus skipped ones as a labelled empty slot (none a results.json lacks). */
function shown(r: Results): PathName[] {
  return PATHS.filter((p) => r.paths[p] !== undefined && (r.params.paths.includes(p) || r.paths[p].status === 'skipped'));
}

export function renderCharts(r: Results): Record<string, string> {
  const paths = shown(r);
  const caption = `median of ${r.params.rounds} interleaved round(s), whiskers min..max; ${r.machine.cpus} CPUs, ${r.machine.kernel}; ${r.stamp}`;
  const connRate = barChart({
    title: `Connection rate: ab -n ${r.params.ab_requests} -c ${r.params.ab_concurrency}, one request per connection`,
    unit: 'connections/s',
    bars: paths.map((p) => ({ label: p, color: PATH_COLORS[p]!, ...bar(r, p, 'conn_per_s') })),
    caption,
  });
  const groups: Array<[string, Metric | 'connect_p90_us' | 'request_p90_us']> = [
    ['connect p50', 'connect_p50_us'],
    ['connect p90', 'connect_p90_us'],
    ['connect p99', 'connect_p99_us'],
    ['request p50', 'request_p50_us'],
    ['request p90', 'request_p90_us'],
    ['request p99', 'request_p99_us'],
  ];
  const running = paths.filter((p) => r.paths[p].status !== 'skipped');
  const latency = groupedBarChart({
    title: `Latency over ${r.params.latency_connections} sequential connections (connect, connect + HTTP request)`,
    unit: 'µs',
    log: true,
    groups: groups.map((g) => g[0]),
    series: running.map((p) => ({ name: p, color: PATH_COLORS[p]!, values: groups.map((g) => bar(r, p, g[1])) })),
    caption,
  });
  const pps = scatterChart({
    title: `UDP ${r.params.frame_bytes}-byte frames: delivered at the reals vs offered (flood and loss-free search)`,
    xLabel: 'offered, packets/s',
    yLabel: 'delivered, packets/s',
    // The IPv6 paths send no UDP.
    series: running.filter((p) => !isIpv6Path(p)).map((p) => ({
      name: p,
      color: PATH_COLORS[p]!,
      points: r.rounds.flatMap((rd) => rd.samples.filter((s) => s.path === p && s.ok).flatMap((s) => s.probes.map((q) => ({ x: q.offeredPps, y: q.deliveredPps, lossless: q.pass })))),
    })),
    caption: `every probe of every round; ${r.machine.cpus} CPUs shared by generator, bridge, director and reals; ${r.stamp}`,
  });
  return { [CHART_FILES.connRate]: connRate, [CHART_FILES.latency]: latency, [CHART_FILES.pps]: pps };
}
