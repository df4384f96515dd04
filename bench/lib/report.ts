/** report.md and the console table, from results.json (pure). */
import { microLines } from '../micro.ts';
import { CHART_FILES } from './charts.ts';
import {
  EXTRA_METRICS, IPV6_METRICS, IPV6_PATHS, IPV6_RATIO_KEYS, IPV6_RATIO_PAIRS, isIpv6Path, METRICS, PATHS, USERSPACE_PATHS,
  type ExtraMetric, type Ipv6RatioKey, type Metric, type PathName, type Results, type Target,
} from './results.ts';
import { fmt, fmtSummary, type Summary } from './stats.ts';

export const METRIC_LABELS: Record<Metric | ExtraMetric, { label: string; digits: number }> = {
  conn_per_s: { label: 'connections/s (ab)', digits: 0 },
  connect_p50_us: { label: 'connect p50, µs', digits: 0 },
  connect_p99_us: { label: 'connect p99, µs', digits: 0 },
  request_p50_us: { label: 'connect+request p50, µs', digits: 0 },
  request_p99_us: { label: 'connect+request p99, µs', digits: 0 },
  pps_delivered: { label: 'UDP flood delivered, pps', digits: 0 },
  loss_free_pps: { label: 'highest loss-free rate, pps', digits: 0 },
  cpu_us_per_pkt: { label: 'director worker CPU, µs/packet', digits: 2 },
  failed_requests: { label: 'failed requests (all rounds)', digits: 0 },
  replies_via_director: { label: 'frames from the VIP at the director', digits: 0 },
  connect_p90_us: { label: 'connect p90, µs', digits: 0 },
  request_p90_us: { label: 'connect+request p90, µs', digits: 0 },
  pps_offered: { label: 'UDP flood offered, pps', digits: 0 },
  control_cpu_us_per_pkt: { label: 'director control process CPU, µs/packet', digits: 3 },
  cpu_us_per_pkt_tcp: { label: 'director worker CPU during ab, µs/packet', digits: 2 },
  cpu_us_per_pkt_paced: { label: 'director worker CPU during the paced probes, µs/packet', digits: 2 },
  worker_rss_kib: { label: 'director worker resident memory, KiB', digits: 0 },
  control_rss_kib: { label: 'director control process resident memory, KiB', digits: 0 },
  frame_residence_p50_us: { label: 'frame residence p50 (kernel RX to send, sequential connections), µs', digits: 1 },
  frame_residence_p99_us: { label: 'frame residence p99 (sequential connections), µs', digits: 1 },
  kernel_drops: { label: 'flood: frames dropped by the kernel at the ring (counted)', digits: 0 },
  loss_accounted: { label: 'flood: (delivered + counted drops) / sent', digits: 4 },
  flood_residence_p50_us: { label: 'frame residence p50 during the flood, µs', digits: 1 },
  flood_residence_p99_us: { label: 'frame residence p99 during the flood, µs', digits: 1 },
  cpu_user_us_per_pkt: { label: 'worker user CPU, µs/packet (flood)', digits: 2 },
  cpu_sys_us_per_pkt: { label: 'worker system CPU, µs/packet (flood)', digits: 2 },
  wakeups_per_kpkt: { label: 'worker wake-ups per 1000 packets (flood)', digits: 1 },
  frames_per_wakeup: { label: 'packets per wake-up (flood)', digits: 1 },
  frames_per_send: { label: 'packets per send() (flood; cref counts its calls)', digits: 1 },
  cpu_share_latency: { label: 'worker CPU during the sequential connections, share of a core', digits: 3 },
};

/** Figures that only a userspace forwarder has: "n/a" for the kernel paths, and for cref where it has none. */
const FORWARDER_ONLY = new Set<string>([
  'cpu_us_per_pkt', 'frame_residence_p50_us', 'frame_residence_p99_us', 'kernel_drops', 'control_cpu_us_per_pkt', 'cpu_us_per_pkt_tcp',
  'cpu_us_per_pkt_paced', 'worker_rss_kib', 'control_rss_kib', 'flood_residence_p50_us', 'flood_residence_p99_us', 'cpu_user_us_per_pkt',
  'cpu_sys_us_per_pkt', 'wakeups_per_kpkt', 'frames_per_wakeup', 'frames_per_send', 'cpu_share_latency',
]);

function summaryOf(r: Results, p: PathName, m: Metric | ExtraMetric): Summary | null {
  const pr = r.paths[p];
  return (METRICS as readonly string[]).includes(m) ? pr.metrics[m as Metric] : pr.extra[m as ExtraMetric];
}

/** The paths this results.json has (one from before the IPv6 paths has none of them), IPv4 or IPv6 ones. */
export function presentPaths(r: Results, family: 4 | 6 | 'both' = 'both'): PathName[] {
  return PATHS.filter((p) => r.paths[p] !== undefined && (family === 'both' || (family === 6) === isIpv6Path(p)));
}

function cell(r: Results, p: PathName, m: Metric | ExtraMetric): string {
  const pr = r.paths[p];
  if (!pr) return 'not measured';
  if (pr.status === 'skipped') return 'skipped';
  const s = summaryOf(r, p, m);
  if (!s) return pr.status === 'failed' ? 'failed' : FORWARDER_ONLY.has(m) ? 'n/a' : '–';
  return fmtSummary(s, METRIC_LABELS[m].digits);
}

const ratioCell = (x: number | null | undefined) => (typeof x === 'number' ? `${x.toFixed(2)}×` : '–');

function mdTable(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Integers as integers, fractions with two decimals. */
function num(x: number | null): string {
  if (x === null) return '–';
  if (Number.isInteger(x)) return fmt(x);
  if (Math.abs(x) >= 10) return fmt(x, 0);
  // Two decimals, or three or four when the figure has exactly that many (a limit of 0.999 is not 1.00).
  for (let d = 2; d <= 4; d++) if (Math.abs(Number(x.toFixed(d)) - x) < 1e-9) return fmt(x, d);
  return fmt(x, 2);
}

function verdict(pass: boolean | null): string {
  return pass === null ? 'n/a' : pass ? '**PASS**' : '**FAIL**';
}

/** "missed by X (Y % of the limit)" for a failed target, the reason a value is missing, or ''. */
export function missText(t: Target): string {
  if (t.pass === null) return t.note ? `not measured: ${t.note}` : 'not measured';
  if (t.pass || t.missed_by === null) return '';
  const pct = t.limit !== 0 ? ` (${((t.missed_by / Math.abs(t.limit)) * 100).toFixed(1)} % of the limit)` : '';
  return `missed by ${num(Math.round(t.missed_by * 1000) / 1000)}${pct}`;
}

const IPV6_RATIO_LABELS: Record<Ipv6RatioKey, string> = Object.fromEntries(
  IPV6_RATIO_KEYS.map((k) => [k, `${IPV6_RATIO_PAIRS[k][0]} / ${IPV6_RATIO_PAIRS[k][1]}`]),
) as Record<Ipv6RatioKey, string>;

/** The IPv6 table: the IPv6 paths' TCP figures, their ratios to the IPv6 baselines and to their IPv4 twins. */
export function ipv6Table(r: Results): { head: string[]; rows: string[][] } | null {
  const v6 = presentPaths(r, 6);
  if (v6.length === 0 || !r.ipv6_ratios) return null;
  const x = r.ipv6_ratios;
  return {
    head: ['metric', ...v6, ...IPV6_RATIO_KEYS.map((k) => IPV6_RATIO_LABELS[k])],
    rows: IPV6_METRICS.map((m) => [METRIC_LABELS[m].label, ...v6.map((p) => cell(r, p, m)), ...IPV6_RATIO_KEYS.map((k) => ratioCell(x[k][m]))]),
  };
}

function ipv6Section(r: Results): string[] {
  const t = ipv6Table(r);
  if (!t) return [];
  const L: string[] = ['## IPv6', ''];
  L.push(
    "The IPv6 paths, in the same rounds as the IPv4 ones, on the dual-stack testbed (`dsrlb testbed up --ipv6`): direct6 to www2's own " +
      "address, nft6 the nft rule's `ip6` form on www1, dsrlb6 `dsrlb run` with a `virtual6=` service (bench/ldirectord6.cf). TCP only: " +
      'connection rate and latency. Ratios of medians: against the IPv6 baselines (direct6, nft6), and each IPv6 path against its IPv4 twin.',
    '',
  );
  L.push(...mdTable(t.head, t.rows), '');
  const pa = r.ipv6_ratios!.paired;
  const pair = (k: Ipv6RatioKey) =>
    `${IPV6_RATIO_LABELS[k]}: connections/s ${fmtSummary(pa[k].conn_per_s, 2)}, connect p50 ${fmtSummary(pa[k].connect_p50_us, 2)}`;
  L.push(`Paired per round (the two paths of the same round): ${(['nft6_over_direct6', 'dsrlb6_over_nft6', 'nft6_over_nft'] as const).map(pair).join('; ')}.`, '');
  for (const p of IPV6_PATHS) if (r.paths[p]?.status === 'skipped') L.push(`**${p} skipped**: ${r.paths[p].reason}`, '');
  return L;
}

export function renderReport(r: Results, o: { imagePrefix?: string; title?: string } = {}): string {
  const img = o.imagePrefix ?? '';
  const paths = presentPaths(r, 4);
  const L: string[] = [];
  L.push(`# ${o.title ?? `dsrlb benchmark ${r.stamp}`}`, '');
  L.push(`- command: \`${r.command}\` (${r.params.mode}, ${r.params.rounds} rounds, ${r.duration_s} s)`);
  L.push(`- machine: ${r.machine.os}, ${r.machine.kernel}, ${r.machine.cpus} × ${r.machine.cpu_model}, ${fmt(r.machine.mem_total_mib)} MiB, Node ${r.machine.node}`);
  L.push(`- versions: ${Object.entries(r.machine.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  L.push(`- started ${r.started_at}, finished ${r.finished_at}`);
  if (r.machine.load_start) {
    L.push(
      `- load average (1/5/15 min) at the start ${r.machine.load_start.join(' ')}, at the end ${(r.machine.load_end ?? []).join(' ')}; ` +
        `1-min load at each round's start: ${r.rounds.map((x) => x.load1 ?? '?').join(', ')} (the machine has ${r.machine.cpus} CPUs and is shared)`,
    );
  }
  L.push('');
  L.push('Cells: median [min..max] over the rounds in which the path was correct (failed requests and replies via the director: over every round).', '');

  L.push('## Results', '');
  const rows = METRICS.map((m) => [
    METRIC_LABELS[m].label,
    ...paths.map((p) => cell(r, p, m)),
    ratioCell(r.ratios.dsrlb_over_nft[m]),
    ratioCell(r.ratios.dsrlb_over_direct[m]),
    ratioCell(r.ratios.dsrlb_over_cref?.[m]),
  ]);
  L.push(...mdTable(['metric', ...paths, 'dsrlb / nft', 'dsrlb / direct', 'dsrlb / cref'], rows), '');
  const backends = USERSPACE_PATHS.filter((p) => r.paths[p]?.backends?.length).map((p) => `${p}: ${r.paths[p].backends!.join(', ')}`);
  if (backends.length) L.push(`Frame I/O backend each userspace path reported: ${backends.join('; ')}.`, '');
  const pa = r.ratios.paired.dsrlb_over_nft;
  L.push(
    `Paired per round (dsrlb ÷ nft in the same round): connections/s ${fmtSummary(pa.conn_per_s, 2)}, ` +
      `connect p50 ${fmtSummary(pa.connect_p50_us, 2)}, loss-free rate ${fmtSummary(pa.loss_free_pps, 2)}; ` +
      `added connect p50 (dsrlb − nft) ${fmtSummary(r.added_latency_us.connect_p50, 0)} µs, added connect+request p50 ${fmtSummary(r.added_latency_us.request_p50, 0)} µs.`,
    '',
  );
  const pc = r.ratios.paired.dsrlb_over_cref;
  if (pc) {
    L.push(
      `Paired per round (dsrlb ÷ cref in the same round): worker CPU per packet ${fmtSummary(pc.cpu_us_per_pkt, 2)}, ` +
        `loss-free rate ${fmtSummary(pc.loss_free_pps, 2)}, connect p50 ${fmtSummary(pc.connect_p50_us, 2)}.`,
      '',
    );
  }

  L.push(...ipv6Section(r));

  L.push('## Targets for the userspace path', '');
  L.push(
    ...mdTable(
      ['target', 'measured', 'wanted', 'verdict', 'by how much'],
      r.targets.map((t) => [t.description, num(t.value), `${t.op} ${num(t.limit)}`, verdict(t.pass), missText(t) || '–']),
    ),
    '',
  );

  L.push('## Where the time per frame goes (userspace forwarders, flood)', '');
  const up = USERSPACE_PATHS.filter((p) => !isIpv6Path(p) && r.paths[p] !== undefined && (r.paths[p].status !== 'skipped' || r.params.paths.includes(p)));
  const costRows: Array<Metric | ExtraMetric> = [
    'cpu_us_per_pkt', 'cpu_user_us_per_pkt', 'cpu_sys_us_per_pkt', 'wakeups_per_kpkt', 'frames_per_wakeup', 'frames_per_send',
    'flood_residence_p50_us', 'flood_residence_p99_us', 'frame_residence_p50_us', 'frame_residence_p99_us', 'cpu_share_latency',
  ];
  L.push(...mdTable(['figure', ...up], costRows.map((m) => [METRIC_LABELS[m].label, ...up.map((p) => cell(r, p, m))])), '');
  L.push(
    'User time is the forwarder\'s own code (for dsrlb: JavaScript, the verdict, the ring walk); system time is the kernel work done in its ' +
      'system calls and in the softirqs that run on its CPU (poll, the send path through veth and the bridge to the real\'s interface). ' +
      'Wake-ups are voluntary context switches of the worker\'s main thread (/proc/PID/status): each is a sleep in poll/epoll ended by a frame.',
    '',
  );

  L.push('## Charts', '');
  L.push(`![connection rate](${img}${CHART_FILES.connRate})`, '');
  L.push(`![latency percentiles](${img}${CHART_FILES.latency})`, '');
  L.push(`![delivered vs offered packets per second](${img}${CHART_FILES.pps})`, '');

  L.push('## Correctness, per path', '');
  L.push(
    ...mdTable(
      ['path', 'status', 'rounds ok / failed', 'TCP SYNs per real', 'UDP datagrams per real', 'problems'],
      presentPaths(r).map((p) => {
        const pr = r.paths[p];
        const ss = r.rounds.flatMap((x) => x.samples).filter((s) => s.path === p);
        const per = (k: 'tcpSyn' | 'udp') => {
          const acc: Record<string, number> = {};
          for (const s of ss) for (const [h, v] of Object.entries(s.perReal?.[k] ?? {})) acc[h] = (acc[h] ?? 0) + v;
          return Object.entries(acc).map(([h, v]) => `${h} ${fmt(v)}`).join(', ') || '–';
        };
        const probs = [...new Set(ss.flatMap((s) => s.problems))].slice(0, 3).join('; ');
        return [p, pr.status, pr.status === 'skipped' ? '–' : `${pr.rounds_ok} / ${pr.rounds_failed}`, per('tcpSyn'), per('udp'), pr.status === 'skipped' ? (pr.reason ?? '') : probs || 'none'];
      }),
    ),
    '',
  );

  L.push('## More figures', '');
  L.push(...mdTable(['figure', ...paths], EXTRA_METRICS.map((m) => [METRIC_LABELS[m].label, ...paths.map((p) => cell(r, p, m))])), '');
  const ceil = paths.filter((p) => r.rounds.some((x) => x.samples.some((s) => s.path === p && s.ok && s.lossFreeAtGeneratorCeiling)));
  if (ceil.length) {
    L.push(
      `Loss-free rate set by the generator, not the path, in some round (the trafgen flood lost nothing, or the paced sender could not ` +
        `send as fast as asked and no faster probe lost anything; the figure is then a floor): ${ceil.map((p) => `${p} (rounds ${r.rounds.filter((x) => x.samples.some((s) => s.path === p && s.ok && s.lossFreeAtGeneratorCeiling)).map((x) => x.round).join(', ')})`).join(', ')}.`,
      '',
    );
  }

  L.push('## UDP probes (every round)', '');
  const probeRows: string[][] = [];
  for (const rd of r.rounds) {
    for (const s of rd.samples) {
      for (const q of s.probes) {
        probeRows.push([String(rd.round), s.path, q.rate === 0 ? 'flood' : fmt(q.rate), fmt(q.offeredPps), fmt(q.deliveredPps), `${(q.loss * 100).toFixed(3)} %`, q.pass ? 'yes' : 'no']);
      }
    }
  }
  L.push(...mdTable(['round', 'path', 'asked pps', 'offered pps', 'delivered pps', 'loss', 'loss-free'], probeRows), '');
  L.push('"flood": trafgen as fast as it goes; the other rows are paced probes of the search (bench/lib/udp-sender.ts). An offered rate well below the asked one means the sender was starved of CPU.', '');

  L.push('## In-process micro-benchmarks (one core)', '');
  if (r.micro) L.push('```', ...microLines(r.micro), '```', '');
  else L.push('not run (--no-micro)', '');

  L.push('## Parameters', '');
  const P = r.params;
  L.push(
    `- rounds ${P.rounds}, paths interleaved and their order rotated every round: ${r.rounds.map((x) => x.order.join('→')).join(', ')}`,
    `- connection rate: \`ab -r -s 10 -n ${P.ab_requests} -c ${P.ab_concurrency}\` (HTTP/1.0, one request per connection) after an untimed warm-up of 200`,
    `- latency: ${P.latency_connections} sequential connections (plus 20 untimed), connect and connect + \`GET /\` to the server's close`,
    `- UDP: ${P.frame_bytes}-byte frames, ${P.udp_flows} flows, trafgen on one CPU; flood of ${fmt(P.flood_packets)} frames at the generator's pace, then up to ${P.probes} probes of ${P.probe_seconds} s; loss-free = loss ≤ ${P.loss_tolerance * 100} %`,
    `- dsrlb_poll: \`dsrlb run --busy-poll-us ${P.busy_poll_us ?? '?'}\``,
    `- testbed prefix \`${P.prefix}\``,
    '',
  );
  for (const p of paths) if (r.paths[p].status === 'skipped') L.push(`**${p} skipped**: ${r.paths[p].reason}`, '');
  return `${L.join('\n')}\n`;
}

/** The table printed at the end of a run. */
export function consoleTable(r: Results): string {
  const paths = presentPaths(r, 4);
  const head = ['metric', ...paths, 'dsrlb/nft', 'dsrlb/direct', 'dsrlb/cref'];
  const rows = METRICS.map((m) => [
    METRIC_LABELS[m].label,
    ...paths.map((p) => cell(r, p, m)),
    ratioCell(r.ratios.dsrlb_over_nft[m]),
    ratioCell(r.ratios.dsrlb_over_direct[m]),
    ratioCell(r.ratios.dsrlb_over_cref?.[m]),
  ]);
  const text = (hd: string[], rs: string[][]): string[] => {
    const w = hd.map((h, i) => Math.max(h.length, ...rs.map((x) => x[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
    return [line(hd), line(w.map((n) => '-'.repeat(n))), ...rs.map(line), ''];
  };
  const out = text(head, rows);
  const t6 = ipv6Table(r);
  if (t6) out.push('IPv6 (TCP only; ratios against the IPv6 baselines and the IPv4 twins)', ...text(t6.head, t6.rows));
  for (const t of r.targets) {
    const miss = missText(t);
    out.push(`${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.description}: ${num(t.value)} (wanted ${t.op} ${num(t.limit)})${miss ? `: ${miss}` : ''}`);
  }
  for (const p of presentPaths(r)) if (r.paths[p].status !== 'ok') out.push(`${p}: ${r.paths[p].status}: ${r.paths[p].reason ?? ''}`);
  return out.join('\n');
}
