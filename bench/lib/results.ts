/**
 * results.json: its types, the aggregation of the rounds' samples into per-path summaries, the
 * ratios and the targets (all pure). The shape check is in results-check.ts.
 */
import type { ProbeRecord } from './search.ts';
import { ratio, summarize, type Summary } from './stats.ts';

export const SCHEMA = 'dsrlb-bench/2';
/**
 * direct, nft, ipvs: no balancer / the kernel's; cref: the C reference forwarder (bench/cref);
 * dsrlb: `dsrlb run` with its default backend and one worker; dsrlb_pcap: `--io pcap`;
 * dsrlb_poll: the default backend with `--busy-poll-us`; dsrlb_w2: `--workers 2`.
 * The IPv6 paths (issue 15), measured in the same run on the dual-stack testbed, TCP only
 * (connection rate and latency): direct6 (a real's own IPv6 address), nft6 (the nft rule's ip6 form)
 * and dsrlb6 (`dsrlb run` with a virtual6= service).
 */
export const PATHS = ['direct', 'nft', 'ipvs', 'cref', 'dsrlb', 'dsrlb_pcap', 'dsrlb_poll', 'dsrlb_w2', 'direct6', 'nft6', 'dsrlb6'] as const;
export type PathName = (typeof PATHS)[number];
/** The IPv6 paths: absent from a results.json written before they existed (still valid). */
export const IPV6_PATHS: readonly PathName[] = ['direct6', 'nft6', 'dsrlb6'];
export const IPV4_PATHS: readonly PathName[] = PATHS.filter((p) => !IPV6_PATHS.includes(p));
export const isIpv6Path = (p: PathName): boolean => IPV6_PATHS.includes(p);
/** The paths with a userspace forwarder process (CPU, counters, residence). */
export const USERSPACE_PATHS: readonly PathName[] = ['cref', 'dsrlb', 'dsrlb_pcap', 'dsrlb_poll', 'dsrlb_w2', 'dsrlb6'];
/** The metrics the IPv6 paths measure (the TCP ones and the correctness counters; no UDP). */
export const IPV6_METRICS = ['conn_per_s', 'connect_p50_us', 'connect_p99_us', 'request_p50_us', 'request_p99_us', 'failed_requests', 'replies_via_director'] as const;

/** The metrics the issue names (keys of results.json). */
export const METRICS = [
  'conn_per_s',
  'connect_p50_us',
  'connect_p99_us',
  'request_p50_us',
  'request_p99_us',
  'pps_delivered',
  'loss_free_pps',
  'cpu_us_per_pkt',
  'failed_requests',
  'replies_via_director',
  'frame_residence_p50_us',
  'frame_residence_p99_us',
  'kernel_drops',
  'loss_accounted',
] as const;
export type Metric = (typeof METRICS)[number];

/** More figures, same shape. */
export const EXTRA_METRICS = [
  'connect_p90_us',
  'request_p90_us',
  'pps_offered',
  'control_cpu_us_per_pkt',
  'cpu_us_per_pkt_tcp',
  'cpu_us_per_pkt_paced',
  'worker_rss_kib',
  'control_rss_kib',
  'flood_residence_p50_us',
  'flood_residence_p99_us',
  'cpu_user_us_per_pkt',
  'cpu_sys_us_per_pkt',
  'wakeups_per_kpkt',
  'frames_per_wakeup',
  'frames_per_send',
  'cpu_share_latency',
] as const;
export type ExtraMetric = (typeof EXTRA_METRICS)[number];

/** Correctness counters: summarized over every round, failed ones included. */
const CORRECTNESS: readonly Metric[] = ['failed_requests', 'replies_via_director'];

export interface PathSample {
  path: PathName;
  round: number;
  /** False when a request failed, a reply came through the director, or a step broke. */
  ok: boolean;
  problems: string[];
  values: Partial<Record<Metric | ExtraMetric, number | null>>;
  /** Flows (TCP SYNs, UDP datagrams) counted at each real. */
  perReal?: { tcpSyn: Record<string, number>; udp: Record<string, number> };
  flood?: { sent: number; delivered: number; offeredPps: number; deliveredPps: number };
  probes: ProbeRecord[];
  /**
   * The generator, not the path, set the loss-free figure: the flood lost nothing, or the paced
   * sender could not send as fast as asked and no faster probe lost anything.
   */
  lossFreeAtGeneratorCeiling?: boolean;
  /** The frame I/O backend the director reported (its snapshot's io.backend), when it says. */
  backend?: string;
  seconds: number;
}

export interface PathResult {
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  rounds_ok: number;
  rounds_failed: number;
  metrics: Record<Metric, Summary | null>;
  extra: Record<ExtraMetric, Summary | null>;
  /** The backends the director reported over the rounds (userspace paths whose snapshot says). */
  backends?: string[];
}

export interface Target {
  id: string;
  description: string;
  value: number | null;
  limit: number;
  op: '>=' | '<=';
  pass: boolean | null;
  /** How far a failed target is from its limit, in the value's unit (null unless it failed). */
  missed_by: number | null;
  /** Why the value is null (a path skipped or failed), for the report. */
  note?: string;
}

export interface MachineInfo {
  hostname: string;
  os: string;
  kernel: string;
  cpus: number;
  cpu_model: string;
  mem_total_mib: number;
  node: string;
  versions: Record<string, string>;
  ipvs: { available: boolean; reason: string };
  /** 1, 5 and 15-minute load averages when the run started and ended (the machine is shared). */
  load_start?: number[];
  load_end?: number[];
}

export interface RunParams {
  mode: 'default' | 'quick' | 'custom';
  rounds: number;
  ab_requests: number;
  ab_concurrency: number;
  latency_connections: number;
  flood_packets: number;
  probe_seconds: number;
  probes: number;
  udp_flows: number;
  frame_bytes: number;
  loss_tolerance: number;
  /** dsrlb_poll's `--busy-poll-us` (µs). */
  busy_poll_us: number;
  prefix: string;
  paths: PathName[];
}

export interface MicroTarget {
  name: string;
  value: number;
  limit: number;
  op: '>=' | '<=';
  pass: boolean;
}

export interface MicroResults {
  dataplane: {
    established_verdicts_per_s: number; new_flow_verdicts_per_s: number; flows: number; source: string; note?: string;
    /** The same established flows in a table of the default 1M capacity (sparser: more cache and TLB misses). */
    established_verdicts_per_s_1m_table?: number;
    table_capacity?: number;
  };
  sched: Array<{ scheduler: string; ops_per_s: number }>;
  conn: {
    entries: number;
    bytes_per_entry: number;
    /** Process memory delta per entry (only with --expose-gc). */
    heap_bytes_per_entry: number | null;
    lookups_per_s: number;
    lookups_per_s_sequential: number;
    inserts_per_s: number;
    inserts_per_s_full: number;
  };
  /** The packet ring's JavaScript cost per frame (bench/ring-walker.ts). */
  ring?: { slots: number; rx_ns_per_frame: number; tx_ns_per_frame: number; source: string };
  targets: MicroTarget[];
  node: string;
  seconds: number;
}

export interface Results {
  schema: typeof SCHEMA;
  stamp: string;
  started_at: string;
  finished_at: string;
  duration_s: number;
  command: string;
  machine: MachineInfo;
  params: RunParams;
  rounds: Array<{ round: number; order: PathName[]; samples: PathSample[]; load1?: number }>;
  paths: Record<PathName, PathResult>;
  ratios: {
    dsrlb_over_nft: Record<Metric, number | null>;
    dsrlb_over_direct: Record<Metric, number | null>;
    /** dsrlb against the C reference forwarder (the userspace limit of the machine). */
    dsrlb_over_cref: Record<Metric, number | null>;
    /** Per-round ratios (rounds where both paths were ok), summarized. */
    paired: { dsrlb_over_nft: Record<Metric, Summary | null>; dsrlb_over_direct: Record<Metric, Summary | null>; dsrlb_over_cref: Record<Metric, Summary | null> };
  };
  /**
   * The IPv6 paths against the IPv6 baselines of the same run (direct6: no balancer; nft6: the
   * kernel), and each against its IPv4 twin. Absent in a results.json from before the IPv6 paths.
   */
  ipv6_ratios?: Ipv6Ratios;
  /** dsrlb minus nft, µs, per round (paired). */
  added_latency_us: { connect_p50: Summary | null; request_p50: Summary | null };
  targets: Target[];
  micro: MicroResults | null;
}

export const IPV6_RATIO_KEYS = ['nft6_over_direct6', 'dsrlb6_over_direct6', 'dsrlb6_over_nft6', 'direct6_over_direct', 'nft6_over_nft', 'dsrlb6_over_dsrlb'] as const;
export type Ipv6RatioKey = (typeof IPV6_RATIO_KEYS)[number];
/** The pairs behind each key: [numerator, denominator]. */
export const IPV6_RATIO_PAIRS: Record<Ipv6RatioKey, [PathName, PathName]> = {
  nft6_over_direct6: ['nft6', 'direct6'],
  dsrlb6_over_direct6: ['dsrlb6', 'direct6'],
  dsrlb6_over_nft6: ['dsrlb6', 'nft6'],
  direct6_over_direct: ['direct6', 'direct'],
  nft6_over_nft: ['nft6', 'nft'],
  dsrlb6_over_dsrlb: ['dsrlb6', 'dsrlb'],
};
export type Ipv6Ratios = Record<Ipv6RatioKey, Record<Metric, number | null>> & {
  /** Per-round ratios (rounds where both paths were ok), summarized. */
  paired: Record<Ipv6RatioKey, Record<Metric, Summary | null>>;
};

function emptyMetrics<K extends string>(keys: readonly K[]): Record<K, Summary | null> {
  return Object.fromEntries(keys.map((k) => [k, null])) as Record<K, Summary | null>;
}

export function summarizePath(samples: readonly PathSample[], skipped?: string): PathResult {
  if (skipped !== undefined) {
    return { status: 'skipped', reason: skipped, rounds_ok: 0, rounds_failed: 0, metrics: emptyMetrics(METRICS), extra: emptyMetrics(EXTRA_METRICS) };
  }
  const good = samples.filter((s) => s.ok);
  const metrics = emptyMetrics(METRICS);
  for (const m of METRICS) metrics[m] = summarize((CORRECTNESS.includes(m) ? samples : good).map((s) => s.values[m]));
  const extra = emptyMetrics(EXTRA_METRICS);
  for (const m of EXTRA_METRICS) extra[m] = summarize(good.map((s) => s.values[m]));
  const failed = samples.length - good.length;
  const res: PathResult = { status: good.length > 0 ? 'ok' : 'failed', rounds_ok: good.length, rounds_failed: failed, metrics, extra };
  const backends = [...new Set(samples.map((s) => s.backend).filter((b): b is string => typeof b === 'string'))];
  if (backends.length) res.backends = backends;
  if (good.length === 0) {
    const why = [...new Set(samples.flatMap((s) => s.problems))].slice(0, 5);
    res.reason = samples.length === 0 ? 'no round ran' : `every round failed: ${why.join('; ')}`;
  }
  return res;
}

function ratiosOf(a: PathResult, b: PathResult): Record<Metric, number | null> {
  const out = {} as Record<Metric, number | null>;
  for (const m of METRICS) out[m] = CORRECTNESS.includes(m) ? null : ratio(a.metrics[m]?.median, b.metrics[m]?.median);
  return out;
}

function paired(samples: readonly PathSample[], a: PathName, b: PathName, f: (x: number, y: number) => number | null, m: Metric): Summary | null {
  const vals: Array<number | null> = [];
  const rounds = new Set(samples.map((s) => s.round));
  for (const r of rounds) {
    const x = samples.find((s) => s.round === r && s.path === a && s.ok)?.values[m];
    const y = samples.find((s) => s.round === r && s.path === b && s.ok)?.values[m];
    if (typeof x === 'number' && typeof y === 'number') vals.push(f(x, y));
  }
  return summarize(vals);
}

export function target(id: string, description: string, value: number | null | undefined, op: '>=' | '<=', limit: number, note?: string): Target {
  const v = typeof value === 'number' && Number.isFinite(value) ? value : null;
  const pass = v === null ? null : op === '>=' ? v >= limit : v <= limit;
  const t: Target = { id, description, value: v, limit, op, pass, missed_by: pass === false ? Math.abs((v as number) - limit) : null };
  if (v === null && note) t.note = note;
  return t;
}

/** Why a figure of these paths is missing (skipped or failed), for a target's note. */
function missingNote(paths: Record<PathName, PathResult>, names: readonly PathName[]): string | undefined {
  const why = names.filter((p) => paths[p].status !== 'ok').map((p) => `${p} ${paths[p].status}${paths[p].reason ? ` (${paths[p].reason})` : ''}`);
  return why.length ? why.join('; ') : undefined;
}

/**
 * The targets of issue 10, as ratios or differences of medians of one run: the default backend
 * (path dsrlb) against cref and nft, busy polling against nft, the flood's accounted loss, and two
 * workers against one.
 */
export function ringTargets(paths: Record<PathName, PathResult>): Target[] {
  const m = (p: PathName, k: Metric) => paths[p].metrics[k]?.median;
  const diff = (a: number | undefined, b: number | undefined) => (typeof a === 'number' && typeof b === 'number' ? a - b : null);
  const backend = paths.dsrlb.backends?.join('/') ?? 'default backend';
  return [
    target('cpu_vs_cref', `dsrlb (${backend}) worker CPU per forwarded frame / cref's (flood)`, ratio(m('dsrlb', 'cpu_us_per_pkt'), m('cref', 'cpu_us_per_pkt')), '<=', 1.1, missingNote(paths, ['dsrlb', 'cref'])),
    target('loss_free_vs_cref', `dsrlb (${backend}) highest loss-free rate / cref's`, ratio(m('dsrlb', 'loss_free_pps'), m('cref', 'loss_free_pps')), '>=', 0.9, missingNote(paths, ['dsrlb', 'cref'])),
    target('connect_p50_vs_cref_us', `dsrlb (${backend}) connect p50 minus cref's, µs`, diff(m('dsrlb', 'connect_p50_us'), m('cref', 'connect_p50_us')), '<=', 15, missingNote(paths, ['dsrlb', 'cref'])),
    target('poll_connect_p50_vs_nft_us', 'dsrlb_poll (busy polling) connect p50 minus nft\'s, µs', diff(m('dsrlb_poll', 'connect_p50_us'), m('nft', 'connect_p50_us')), '<=', 20, missingNote(paths, ['dsrlb_poll', 'nft'])),
    target('poll_connect_p99_vs_nft', 'dsrlb_poll (busy polling) connect p99 / nft\'s', ratio(m('dsrlb_poll', 'connect_p99_us'), m('nft', 'connect_p99_us')), '<=', 1.5, missingNote(paths, ['dsrlb_poll', 'nft'])),
    target('flood_loss_accounted', `dsrlb (${backend}) flood: (delivered + counted drops) / sent`, m('dsrlb', 'loss_accounted'), '>=', 0.999, missingNote(paths, ['dsrlb'])),
    target('w2_flood_vs_w1', 'dsrlb_w2 (two workers) flood delivered / dsrlb (one worker) flood delivered', ratio(m('dsrlb_w2', 'pps_delivered'), m('dsrlb', 'pps_delivered')), '>=', 1, missingNote(paths, ['dsrlb_w2', 'dsrlb'])),
  ];
}

/** Everything but the run's identity: per-path summaries, ratios, added latency and targets. */
export function aggregate(
  samples: readonly PathSample[],
  skipped: Partial<Record<PathName, string>>,
): Pick<Results, 'paths' | 'ratios' | 'ipv6_ratios' | 'added_latency_us' | 'targets'> {
  const paths = {} as Record<PathName, PathResult>;
  for (const p of PATHS) paths[p] = summarizePath(samples.filter((s) => s.path === p), skipped[p]);
  const pr = (a: PathName, b: PathName) => {
    const out = {} as Record<Metric, Summary | null>;
    for (const m of METRICS) out[m] = CORRECTNESS.includes(m) ? null : paired(samples, a, b, ratio, m);
    return out;
  };
  const diff = (x: number, y: number) => x - y;
  const added = {
    connect_p50: paired(samples, 'dsrlb', 'nft', diff, 'connect_p50_us'),
    request_p50: paired(samples, 'dsrlb', 'nft', diff, 'request_p50_us'),
  };
  const d = paths.dsrlb.metrics;
  const n = paths.nft.metrics;
  const targets: Target[] = [
    target('conn_rate_vs_nft', 'dsrlb connection rate / nft connection rate (medians)', ratio(d.conn_per_s?.median, n.conn_per_s?.median), '>=', 0.9),
    target(
      'connect_p50_added_us',
      'dsrlb connect p50 minus nft connect p50, µs (medians)',
      d.connect_p50_us && n.connect_p50_us ? d.connect_p50_us.median - n.connect_p50_us.median : null,
      '<=',
      30,
    ),
    target('loss_free_pps', 'dsrlb highest loss-free forwarding rate, pps (one packet worker: one core)', d.loss_free_pps?.median, '>=', 100_000),
    target('failed_requests', 'dsrlb failed requests, all rounds (max)', d.failed_requests?.max, '<=', 0),
    target('replies_via_director', 'frames from the VIP at the dsrlb director, all rounds (max)', d.replies_via_director?.max, '<=', 0),
    ...ringTargets(paths),
    target('ipv6_conn_rate_vs_nft6', 'dsrlb6 connection rate / nft6 connection rate (IPv6, medians)', ratio(paths.dsrlb6.metrics.conn_per_s?.median, paths.nft6.metrics.conn_per_s?.median), '>=', 0.9, missingNote(paths, ['dsrlb6', 'nft6'])),
    target(
      'ipv6_connect_p50_added_us',
      'dsrlb6 connect p50 minus nft6 connect p50, µs (IPv6, medians)',
      paths.dsrlb6.metrics.connect_p50_us && paths.nft6.metrics.connect_p50_us ? paths.dsrlb6.metrics.connect_p50_us.median - paths.nft6.metrics.connect_p50_us.median : null,
      '<=',
      30,
      missingNote(paths, ['dsrlb6', 'nft6']),
    ),
  ];
  const v6 = {} as Record<Ipv6RatioKey, Record<Metric, number | null>>;
  const v6p = {} as Record<Ipv6RatioKey, Record<Metric, Summary | null>>;
  for (const k of IPV6_RATIO_KEYS) {
    const [a, b] = IPV6_RATIO_PAIRS[k];
    v6[k] = ratiosOf(paths[a], paths[b]);
    v6p[k] = pr(a, b);
  }
  return {
    ipv6_ratios: { ...v6, paired: v6p },
    paths,
    ratios: {
      dsrlb_over_nft: ratiosOf(paths.dsrlb, paths.nft),
      dsrlb_over_direct: ratiosOf(paths.dsrlb, paths.direct),
      dsrlb_over_cref: ratiosOf(paths.dsrlb, paths.cref),
      paired: { dsrlb_over_nft: pr('dsrlb', 'nft'), dsrlb_over_direct: pr('dsrlb', 'direct'), dsrlb_over_cref: pr('dsrlb', 'cref') },
    },
    added_latency_us: added,
    targets,
  };
}
