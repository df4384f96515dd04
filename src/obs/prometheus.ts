/**
 * Prometheus text exposition (format 0.0.4) of the director: per service and real the connection
 * gauges, the counters ipvsadm --stats shows, weight, MAC resolution, health state and check
 * latency; drops per reason; the packet path's capture and send counters. Pure: the metrics server
 * (io/metrics-server.ts) gathers the inputs and serves the text.
 */
import { DROP_REASON_NAMES } from '../dataplane/index.ts';
import { ipToString } from '../model/index.ts';
import type { RateReport } from './rate.ts';
import { realKey, serviceKey, type ServiceId, type TableSnapshot } from './table.ts';

/** The packet path's counters besides the table (engine/protocol.ts PacketSnapshot has them all). */
export interface DirectorCounters extends TableSnapshot {
  active: boolean;
  reasons: Record<string, number>;
  forwarded: number;
  local: number;
  arpReplies: number;
  fromVip: number;
  io: {
    received: number; sent: number; sendErrors: number; truncated: number;
    /** Which frame I/O backend and how many packet workers (summed over workers: the other fields). */
    backend?: 'ring' | 'pcap';
    workers?: number;
    /** Ring backend only: the kernel's PACKET_STATISTICS, accumulated (pcap: absent, cap has no pcap_stats). */
    kernelPackets?: number;
    kernelDrops?: number;
    /** Ring backend only: kernel receive timestamp → send, seconds; buckets cumulative [le, count]. */
    residence?: { count: number; sum: number; buckets: Array<[number, number]> };
  };
  connEntries: number;
  connEvictions: number;
  /** With N > 1 packet workers (--workers N): each worker's own counters, worker 0 first. */
  perWorker?: ReadonlyArray<{ forwarded: number; local: number; received: number; connEntries: number }>;
}

/** What the health checker knows of one real (any subset; absent reals export no health series). */
export interface RealHealth extends ServiceId {
  addr: number;
  /** The real's port as configured (the port ipvsadm lists). */
  rport: number;
  up: boolean;
  /** Duration of the last completed check, in milliseconds (null: none finished yet). */
  lastCheckMs?: number | null;
  /** Checks completed since the director started. */
  checks?: number;
  /** Failed checks in a row now (ldirectord's failure count toward failurecount). */
  consecutiveFailures?: number;
}

export interface MetricsExtra {
  rates?: RateReport | null;
  health?: readonly RealHealth[];
  /** Start of the director, seconds since the epoch (dsrlb_start_time_seconds). */
  startTimeSeconds?: number;
}

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

class Families {
  private readonly order: string[] = [];
  private readonly fams = new Map<string, { help: string; kind: Kind; rows: string[] }>();

  add(name: string, kind: Kind, help: string, labels: Labels, value: number): void {
    let f = this.fams.get(name);
    if (!f) {
      f = { help, kind, rows: [] };
      this.fams.set(name, f);
      this.order.push(name);
    }
    f.rows.push(`${name}${labelText(labels)} ${num(value)}`);
  }

  /** A histogram family: cumulative buckets (+Inf = count), _sum and _count. */
  histogram(name: string, help: string, labels: Labels, h: { count: number; sum: number; buckets: Array<[number, number]> }): void {
    this.declare(name, 'histogram', help);
    const f = this.fams.get(name)!;
    for (const [le, n] of h.buckets) f.rows.push(`${name}_bucket${labelText({ ...labels, le: num(le) })} ${num(n)}`);
    f.rows.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${num(h.count)}`);
    f.rows.push(`${name}_sum${labelText(labels)} ${num(h.sum)}`, `${name}_count${labelText(labels)} ${num(h.count)}`);
  }

  /** Declares a family with no samples yet (HELP/TYPE only), so that dashboards see it exists. */
  declare(name: string, kind: Kind, help: string): void {
    if (!this.fams.has(name)) {
      this.fams.set(name, { help, kind, rows: [] });
      this.order.push(name);
    }
  }

  text(): string {
    const out: string[] = [];
    for (const n of this.order) {
      const f = this.fams.get(n)!;
      out.push(`# HELP ${n} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${n} ${f.kind}`, ...f.rows);
    }
    return `${out.join('\n')}\n`;
  }
}

function svcLabels(s: ServiceId): Labels {
  return { proto: s.proto, vip: ipToString(s.vip), port: String(s.port) };
}

/** The whole exposition for one scrape. */
export function prometheusText(snap: DirectorCounters, extra: MetricsExtra = {}): string {
  const m = new Families();
  m.add('dsrlb_director_active', 'gauge', 'Whether this director forwards and answers ARP for the VIPs (1) or stands by (0).', {}, snap.active ? 1 : 0);
  if (extra.startTimeSeconds !== undefined) m.add('dsrlb_start_time_seconds', 'gauge', 'Start time of the director, seconds since the epoch.', {}, extra.startTimeSeconds);

  const svcRates = new Map<string, NonNullable<RateReport>['services'][number]>();
  for (const s of extra.rates?.services ?? []) svcRates.set(serviceKey(s), s);
  const health = new Map<string, RealHealth>();
  for (const h of extra.health ?? []) health.set(realKey(h, h.addr, h.rport), h);

  m.declare('dsrlb_service_connections_total', 'counter', 'Connections scheduled by the virtual service (ipvsadm --stats Conns).');
  m.declare('dsrlb_real_active_connections', 'gauge', 'ActiveConn of the real (SYN_RECV and ESTABLISHED).');
  for (const s of snap.services) {
    const sl = svcLabels(s.spec);
    m.add('dsrlb_service_connections_total', 'counter', '', sl, s.conns);
    m.add('dsrlb_service_in_packets_total', 'counter', 'Packets forwarded for the virtual service (ipvsadm --stats InPkts).', sl, s.inPkts);
    m.add('dsrlb_service_in_bytes_total', 'counter', 'Bytes forwarded for the virtual service (ipvsadm --stats InBytes).', sl, s.inBytes);
    m.add('dsrlb_service_reals', 'gauge', 'Real servers configured in the virtual service.', sl, s.reals.length);
    const sr = svcRates.get(serviceKey(s.spec));
    if (sr) {
      m.add('dsrlb_service_connection_rate', 'gauge', 'Connections per second, the kernel estimator\'s 2 s average (ipvsadm --rate CPS).', sl, sr.rates.cps);
      m.add('dsrlb_service_in_packet_rate', 'gauge', 'Packets per second (ipvsadm --rate InPPS).', sl, sr.rates.inpps);
      m.add('dsrlb_service_in_byte_rate', 'gauge', 'Bytes per second (ipvsadm --rate InBPS).', sl, sr.rates.inbps);
    }
    for (const r of s.reals) {
      const rl = { ...sl, real: `${ipToString(r.addr)}:${r.port}` };
      m.add('dsrlb_real_active_connections', 'gauge', '', rl, r.activeConns);
      m.add('dsrlb_real_inactive_connections', 'gauge', 'InActConn of the real (every other state, UDP included).', rl, r.inactConns);
      m.add('dsrlb_real_persistent_connections', 'gauge', 'Connections made through a persistence template (ipvsadm --persistent-conn).', rl, r.persistConns);
      m.add('dsrlb_real_connections_total', 'counter', 'Connections scheduled to the real.', rl, r.conns);
      m.add('dsrlb_real_in_packets_total', 'counter', 'Packets forwarded to the real.', rl, r.inPkts);
      m.add('dsrlb_real_in_bytes_total', 'counter', 'Bytes forwarded to the real.', rl, r.inBytes);
      m.add('dsrlb_real_weight', 'gauge', 'Current weight (0: quiescent, no new connections).', rl, r.weight);
      m.add('dsrlb_real_upper_threshold', 'gauge', 'Upper connection threshold (0: none).', rl, r.uThreshold);
      m.add('dsrlb_real_lower_threshold', 'gauge', 'Lower connection threshold (0: none).', rl, r.lThreshold);
      if (r.mac !== undefined) m.add('dsrlb_real_resolved', 'gauge', 'Whether the real\'s MAC address is known (or it is served locally).', rl, r.mac !== null || r.local ? 1 : 0);
      const h = health.get(realKey(s.spec, r.addr, r.port));
      if (h) {
        m.add('dsrlb_real_up', 'gauge', 'Health state from the checks: 1 up, 0 down.', rl, h.up ? 1 : 0);
        if (h.lastCheckMs !== undefined && h.lastCheckMs !== null) {
          m.add('dsrlb_real_check_duration_seconds', 'gauge', 'Duration of the last completed health check.', rl, h.lastCheckMs / 1000);
        }
        if (h.checks !== undefined) m.add('dsrlb_real_checks_total', 'counter', 'Health checks completed.', rl, h.checks);
        if (h.consecutiveFailures !== undefined) m.add('dsrlb_real_check_consecutive_failures', 'gauge', 'Health checks failed in a row (counted toward failurecount).', rl, h.consecutiveFailures);
      }
    }
  }

  for (const reason of DROP_REASON_NAMES) {
    if (reason === 'none') continue;
    m.add('dsrlb_dropped_frames_total', 'counter', 'Frames the director did not forward, by reason (see docs: not-a-vip and not-ipv4 are left to the host).', { reason }, snap.reasons[reason] ?? 0);
  }
  for (const [reason, n] of Object.entries(snap.reasons)) {
    if (!DROP_REASON_NAMES.includes(reason)) m.add('dsrlb_dropped_frames_total', 'counter', '', { reason }, n);
  }
  m.add('dsrlb_forwarded_frames_total', 'counter', 'Frames forwarded to a remote real server.', {}, snap.forwarded);
  m.add('dsrlb_local_frames_total', 'counter', 'Frames delivered to this host as a real server.', {}, snap.local);
  m.add('dsrlb_arp_replies_total', 'counter', 'ARP replies sent for the VIPs.', {}, snap.arpReplies);
  m.add('dsrlb_frames_from_vip_total', 'counter', 'Frames with a VIP as source seen at the director: replies that did not bypass it.', {}, snap.fromVip);
  m.add('dsrlb_capture_received_frames_total', 'counter', 'Frames the capture delivered to the packet path.', {}, snap.io.received);
  m.add('dsrlb_capture_truncated_frames_total', 'counter', 'Captured frames cut short by the snap length.', {}, snap.io.truncated);
  m.add('dsrlb_sent_frames_total', 'counter', 'Frames sent on the interface.', {}, snap.io.sent);
  m.add('dsrlb_send_errors_total', 'counter', 'Frames the interface refused to send.', {}, snap.io.sendErrors);
  if (snap.io.kernelPackets !== undefined) {
    m.add('dsrlb_capture_frames_total', 'counter', 'Frames the kernel offered to the packet ring (PACKET_STATISTICS tp_packets, drops included; ring backend only).', {}, snap.io.kernelPackets);
  }
  if (snap.io.kernelDrops !== undefined) {
    m.add('dsrlb_capture_drops_total', 'counter', 'Frames the kernel dropped because the packet ring was full (tp_drops; ring backend only).', {}, snap.io.kernelDrops);
  }
  if (snap.io.residence !== undefined) {
    m.histogram('dsrlb_frame_residence_seconds', 'Time from the kernel\'s receive timestamp of a frame to its send by the director (ring backend only).', {}, snap.io.residence);
  }
  // --workers N: the totals above are the workers' sums; these say how the flows were shared.
  snap.perWorker?.forEach((w, i) => {
    const l = { worker: String(i) };
    m.add('dsrlb_worker_forwarded_frames_total', 'counter', 'Frames one packet worker forwarded to the reals, local ones included (--workers N > 1).', l, w.forwarded + w.local);
    m.add('dsrlb_worker_received_frames_total', 'counter', 'Frames the fan-out gave one packet worker (--workers N > 1).', l, w.received);
    m.add('dsrlb_worker_connection_entries', 'gauge', 'Entries in one packet worker\'s connection table (--workers N > 1).', l, w.connEntries);
  });
  m.add('dsrlb_connection_entries', 'gauge', 'Entries in the connection table (connections and persistence templates).', {}, snap.connEntries);
  m.add('dsrlb_connection_evictions_total', 'counter', 'Entries evicted from a full connection table.', {}, snap.connEvictions);
  return m.text();
}
