/**
 * Prometheus exposition of the director with prom-client: per service and real the connection
 * gauges, the counters ipvsadm --stats shows, weight, MAC resolution, health state and check
 * latency; drops per reason; the packet path's capture and send counters, and with the ring
 * backend the kernel's counters and the frame residence histogram. Every family is a prom-client
 * Gauge or Counter whose collect() reads the scrape in hand (the director's snapshot, fetched by the
 * metrics server just before) and sets its series from it; histograms arrive as cumulative
 * snapshots (prometheus-histogram.ts). Pure: no I/O, no clock;
 * the metrics server (io/metrics-server.ts) fetches the snapshot, adds the process metrics and serves
 * the text.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { DROP_REASON_NAMES } from '../dataplane/index.ts';
import { ipToString } from '../model/index.ts';
import type { HistogramSnapshot } from './histogram.ts';
import { registerSnapshotHistogram } from './prometheus-histogram.ts';
import type { RateReport } from './rate.ts';
import { realKey, serviceKey, type ServiceId, type TableSnapshot } from './table.ts';

/** The packet path's counters besides the table (engine/protocol.ts PacketSnapshot has them all). */
export interface DirectorCounters extends TableSnapshot {
  active: boolean;
  reasons: Record<string, number>;
  forwarded: number;
  local: number;
  arpReplies: number;
  /** ICMP the director answered itself (echo replies, time exceeded) and ICMP errors sent on to a connection's real. */
  icmpReplies?: number;
  icmpForwarded?: number;
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
    residence?: HistogramSnapshot;
  };
  connEntries: number;
  connEvictions: number;
  /** With N > 1 packet workers (--workers N): each worker's own counters, worker 0 first. */
  perWorker?: ReadonlyArray<{ forwarded: number; local: number; received: number; connEntries: number }>;
}

/** What the health checker knows of one real (any subset; absent reals export no health series). */
export interface RealHealth extends ServiceId {
  addr: number;
  /** A real of an IPv6 service: its address, canonical text (addr is then its fold). */
  addr6?: string;
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
  /** Connection sync among active directors (dsrlb run --sync-peer); absent or null: not running. */
  sync?: { recordsSent: number; recordsReceived: number; datagramsBad: number; notFromPeer: number } | null;
}

/** What one scrape reads: the snapshot and the rest, fetched once before the registry is read. */
export interface DirectorScrape {
  snap: DirectorCounters;
  extra: MetricsExtra;
}

type Labels = Record<string, string>;
type Row = readonly [Labels, number];

const SVC = ['proto', 'vip', 'port'] as const;
const REAL = [...SVC, 'real'] as const;

/**
 * The families, in the order they are exposed. HELP texts, types and label names are those dsrlb
 * has always served (docs/ipvsadm.md lists the names; test/obs/prometheus-compare.test.ts compares).
 */
export const DIRECTOR_FAMILIES = [
  ['dsrlb_director_active', 'gauge', [], 'Whether this director forwards and answers ARP for the VIPs (1) or stands by (0).'],
  ['dsrlb_start_time_seconds', 'gauge', [], 'Start time of the director, seconds since the epoch.'],
  ['dsrlb_service_connections_total', 'counter', SVC, 'Connections scheduled by the virtual service (ipvsadm --stats Conns).'],
  ['dsrlb_real_active_connections', 'gauge', REAL, 'ActiveConn of the real (SYN_RECV and ESTABLISHED).'],
  ['dsrlb_service_in_packets_total', 'counter', SVC, 'Packets forwarded for the virtual service (ipvsadm --stats InPkts).'],
  ['dsrlb_service_in_bytes_total', 'counter', SVC, 'Bytes forwarded for the virtual service (ipvsadm --stats InBytes).'],
  ['dsrlb_service_reals', 'gauge', SVC, 'Real servers configured in the virtual service.'],
  ['dsrlb_service_connection_rate', 'gauge', SVC, 'Connections per second, the kernel estimator\'s 2 s average (ipvsadm --rate CPS).'],
  ['dsrlb_service_in_packet_rate', 'gauge', SVC, 'Packets per second (ipvsadm --rate InPPS).'],
  ['dsrlb_service_in_byte_rate', 'gauge', SVC, 'Bytes per second (ipvsadm --rate InBPS).'],
  ['dsrlb_real_inactive_connections', 'gauge', REAL, 'InActConn of the real (every other state, UDP included).'],
  ['dsrlb_real_persistent_connections', 'gauge', REAL, 'Connections made through a persistence template (ipvsadm --persistent-conn).'],
  ['dsrlb_real_connections_total', 'counter', REAL, 'Connections scheduled to the real.'],
  ['dsrlb_real_in_packets_total', 'counter', REAL, 'Packets forwarded to the real.'],
  ['dsrlb_real_in_bytes_total', 'counter', REAL, 'Bytes forwarded to the real.'],
  ['dsrlb_real_weight', 'gauge', REAL, 'Current weight (0: quiescent, no new connections).'],
  ['dsrlb_real_upper_threshold', 'gauge', REAL, 'Upper connection threshold (0: none).'],
  ['dsrlb_real_lower_threshold', 'gauge', REAL, 'Lower connection threshold (0: none).'],
  ['dsrlb_real_resolved', 'gauge', REAL, 'Whether the real\'s MAC address is known (or it is served locally).'],
  ['dsrlb_real_up', 'gauge', REAL, 'Health state from the checks: 1 up, 0 down.'],
  ['dsrlb_real_check_duration_seconds', 'gauge', REAL, 'Duration of the last completed health check.'],
  ['dsrlb_real_checks_total', 'counter', REAL, 'Health checks completed.'],
  ['dsrlb_real_check_consecutive_failures', 'gauge', REAL, 'Health checks failed in a row (counted toward failurecount).'],
  ['dsrlb_dropped_frames_total', 'counter', ['reason'], 'Frames the director did not forward, by reason (see docs: not-a-vip and not-ipv4 are left to the host).'],
  ['dsrlb_forwarded_frames_total', 'counter', [], 'Frames forwarded to a remote real server.'],
  ['dsrlb_local_frames_total', 'counter', [], 'Frames delivered to this host as a real server.'],
  ['dsrlb_arp_replies_total', 'counter', [], 'ARP replies sent for the VIPs.'],
  ['dsrlb_icmp_replies_total', 'counter', [], 'ICMP the director answered for the VIPs itself: echo replies and time exceeded (docs/edge-cases.md).'],
  ['dsrlb_icmp_forwarded_total', 'counter', [], 'ICMP errors about a connection sent on to its real server (path MTU discovery through DSR).'],
  ['dsrlb_frames_from_vip_total', 'counter', [], 'Frames with a VIP as source seen at the director: replies that did not bypass it.'],
  ['dsrlb_capture_received_frames_total', 'counter', [], 'Frames the capture delivered to the packet path.'],
  ['dsrlb_capture_truncated_frames_total', 'counter', [], 'Captured frames cut short by the snap length.'],
  ['dsrlb_sent_frames_total', 'counter', [], 'Frames sent on the interface.'],
  ['dsrlb_send_errors_total', 'counter', [], 'Frames the interface refused to send.'],
  ['dsrlb_capture_frames_total', 'counter', [], 'Frames the kernel offered to the packet ring (PACKET_STATISTICS tp_packets, drops included; ring backend only).'],
  ['dsrlb_capture_drops_total', 'counter', [], 'Frames the kernel dropped because the packet ring was full (tp_drops; ring backend only).'],
  ['dsrlb_frame_residence_seconds', 'histogram', [], 'Time from the kernel\'s receive timestamp of a frame to its send by the director (ring backend only).'],
  ['dsrlb_connection_entries', 'gauge', [], 'Entries in the connection table (connections and persistence templates).'],
  ['dsrlb_connection_evictions_total', 'counter', [], 'Entries evicted from a full connection table.'],
  ['dsrlb_worker_forwarded_frames_total', 'counter', ['worker'], 'Frames one packet worker forwarded to the reals, local ones included (--workers N > 1).'],
  ['dsrlb_worker_received_frames_total', 'counter', ['worker'], 'Frames the fan-out gave one packet worker (--workers N > 1).'],
  ['dsrlb_worker_connection_entries', 'gauge', ['worker'], 'Entries in one packet worker\'s connection table (--workers N > 1).'],
  ['dsrlb_sync_records_sent_total', 'counter', [], 'Connection-sync records sent to the other active directors (--sync-peer).'],
  ['dsrlb_sync_records_received_total', 'counter', [], 'Connection-sync records received from the other active directors (--sync-peer).'],
  ['dsrlb_sync_datagrams_refused_total', 'counter', ['reason'], 'Connection-sync datagrams refused: not-from-peer (source not a --sync-peer) or malformed.'],
] as const satisfies readonly (readonly [string, 'counter' | 'gauge' | 'histogram', readonly string[], string])[];

export type DirectorFamily = (typeof DIRECTOR_FAMILIES)[number][0];

/**
 * The service's labels. `vip` is the address alone, so an IPv6 one is its canonical text without
 * brackets (2001:db8::10); `real` is address:port, which for IPv6 is ipvsadm's [2001:db8::21]:80.
 */
function svcLabels(s: ServiceId): Labels {
  return { proto: s.proto, vip: s.vip6 ?? ipToString(s.vip), port: String(s.port) };
}

function realLabel(r: { addr: number; addr6?: string; port: number }): string {
  return r.addr6 !== undefined ? `[${r.addr6}]:${r.port}` : `${ipToString(r.addr)}:${r.port}`;
}

/** The histograms of one scrape, by family (absent: the backend does not measure it). */
export function directorHistograms({ snap }: DirectorScrape): Map<DirectorFamily, HistogramSnapshot> {
  const out = new Map<DirectorFamily, HistogramSnapshot>();
  if (snap.io.residence !== undefined) out.set('dsrlb_frame_residence_seconds', snap.io.residence);
  return out;
}

/** Every series of one scrape, by family, in exposition order (histograms apart: directorHistograms). */
export function directorSeries({ snap, extra }: DirectorScrape): Map<DirectorFamily, Row[]> {
  const out = new Map<DirectorFamily, Row[]>();
  const add = (name: DirectorFamily, labels: Labels, value: number): void => {
    let rows = out.get(name);
    if (!rows) out.set(name, (rows = []));
    rows.push([labels, value]);
  };
  add('dsrlb_director_active', {}, snap.active ? 1 : 0);
  if (extra.startTimeSeconds !== undefined) add('dsrlb_start_time_seconds', {}, extra.startTimeSeconds);

  const svcRates = new Map<string, NonNullable<RateReport>['services'][number]>();
  for (const s of extra.rates?.services ?? []) svcRates.set(serviceKey(s), s);
  const health = new Map<string, RealHealth>();
  for (const h of extra.health ?? []) health.set(realKey(h, h.addr, h.rport, h.addr6), h);

  for (const s of snap.services) {
    // An IPv6 service is named by vip6 (spec.vip holds only its fold).
    const id: ServiceId = s.vip6 !== undefined ? { ...s.spec, vip6: s.vip6 } : s.spec;
    const sl = svcLabels(id);
    add('dsrlb_service_connections_total', sl, s.conns);
    add('dsrlb_service_in_packets_total', sl, s.inPkts);
    add('dsrlb_service_in_bytes_total', sl, s.inBytes);
    add('dsrlb_service_reals', sl, s.reals.length);
    const sr = svcRates.get(serviceKey(id));
    if (sr) {
      add('dsrlb_service_connection_rate', sl, sr.rates.cps);
      add('dsrlb_service_in_packet_rate', sl, sr.rates.inpps);
      add('dsrlb_service_in_byte_rate', sl, sr.rates.inbps);
    }
    for (const r of s.reals) {
      const rl = { ...sl, real: realLabel(r) };
      add('dsrlb_real_active_connections', rl, r.activeConns);
      add('dsrlb_real_inactive_connections', rl, r.inactConns);
      add('dsrlb_real_persistent_connections', rl, r.persistConns);
      add('dsrlb_real_connections_total', rl, r.conns);
      add('dsrlb_real_in_packets_total', rl, r.inPkts);
      add('dsrlb_real_in_bytes_total', rl, r.inBytes);
      add('dsrlb_real_weight', rl, r.weight);
      add('dsrlb_real_upper_threshold', rl, r.uThreshold);
      add('dsrlb_real_lower_threshold', rl, r.lThreshold);
      if (r.mac !== undefined) add('dsrlb_real_resolved', rl, r.mac !== null || r.local ? 1 : 0);
      const h = health.get(realKey(id, r.addr, r.port, r.addr6));
      if (h) {
        add('dsrlb_real_up', rl, h.up ? 1 : 0);
        if (h.lastCheckMs !== undefined && h.lastCheckMs !== null) add('dsrlb_real_check_duration_seconds', rl, h.lastCheckMs / 1000);
        if (h.checks !== undefined) add('dsrlb_real_checks_total', rl, h.checks);
        if (h.consecutiveFailures !== undefined) add('dsrlb_real_check_consecutive_failures', rl, h.consecutiveFailures);
      }
    }
  }

  for (const reason of DROP_REASON_NAMES) {
    if (reason !== 'none') add('dsrlb_dropped_frames_total', { reason }, snap.reasons[reason] ?? 0);
  }
  for (const [reason, n] of Object.entries(snap.reasons)) {
    if (!DROP_REASON_NAMES.includes(reason)) add('dsrlb_dropped_frames_total', { reason }, n);
  }
  add('dsrlb_forwarded_frames_total', {}, snap.forwarded);
  add('dsrlb_local_frames_total', {}, snap.local);
  add('dsrlb_arp_replies_total', {}, snap.arpReplies);
  if (snap.icmpReplies !== undefined) add('dsrlb_icmp_replies_total', {}, snap.icmpReplies);
  if (snap.icmpForwarded !== undefined) add('dsrlb_icmp_forwarded_total', {}, snap.icmpForwarded);
  add('dsrlb_frames_from_vip_total', {}, snap.fromVip);
  add('dsrlb_capture_received_frames_total', {}, snap.io.received);
  add('dsrlb_capture_truncated_frames_total', {}, snap.io.truncated);
  add('dsrlb_sent_frames_total', {}, snap.io.sent);
  add('dsrlb_send_errors_total', {}, snap.io.sendErrors);
  if (snap.io.kernelPackets !== undefined) add('dsrlb_capture_frames_total', {}, snap.io.kernelPackets);
  if (snap.io.kernelDrops !== undefined) add('dsrlb_capture_drops_total', {}, snap.io.kernelDrops);
  add('dsrlb_connection_entries', {}, snap.connEntries);
  add('dsrlb_connection_evictions_total', {}, snap.connEvictions);
  // --workers N: the totals above are the workers' sums; these say how the flows were shared.
  snap.perWorker?.forEach((w, i) => {
    const l = { worker: String(i) };
    add('dsrlb_worker_forwarded_frames_total', l, w.forwarded + w.local);
    add('dsrlb_worker_received_frames_total', l, w.received);
    add('dsrlb_worker_connection_entries', l, w.connEntries);
  });
  if (extra.sync) {
    add('dsrlb_sync_records_sent_total', {}, extra.sync.recordsSent);
    add('dsrlb_sync_records_received_total', {}, extra.sync.recordsReceived);
    add('dsrlb_sync_datagrams_refused_total', { reason: 'not-from-peer' }, extra.sync.notFromPeer);
    add('dsrlb_sync_datagrams_refused_total', { reason: 'malformed' }, extra.sync.datagramsBad);
  }
  return out;
}

/**
 * Registers the director's families on `registry`. At every read of the registry each family's
 * collect() takes its series from `read()` (null: no scrape in hand, the family has no series).
 * The series of one scrape are computed once, whichever family asks first.
 */
export function registerDirectorMetrics(registry: Registry, read: () => DirectorScrape | null): void {
  let seen: DirectorScrape | null = null;
  let series = new Map<DirectorFamily, Row[]>();
  const rowsOf = (name: DirectorFamily): readonly Row[] => {
    const scrape = read();
    if (scrape !== seen) {
      seen = scrape;
      series = scrape ? directorSeries(scrape) : new Map();
    }
    return series.get(name) ?? [];
  };
  for (const [name, kind, labelNames, help] of DIRECTOR_FAMILIES) {
    const config = { name, help, labelNames: [...labelNames] as string[], registers: [registry] };
    if (kind === 'histogram') {
      registerSnapshotHistogram({
        name, help, registers: [registry],
        collect: () => {
          const scrape = read();
          return (scrape && directorHistograms(scrape).get(name)) ?? null;
        },
      });
    } else if (kind === 'gauge') {
      new Gauge({
        ...config,
        collect(this: Gauge) {
          this.reset();
          const rows = rowsOf(name);
          if (rows.length === 0 && labelNames.length === 0) this.remove({}); // no series, not a 0
          for (const [labels, value] of rows) this.set(labels, value);
        },
      });
    } else {
      new Counter({
        ...config,
        collect(this: Counter) {
          this.reset();
          const rows = rowsOf(name);
          if (rows.length === 0 && labelNames.length === 0) this.remove({}); // no series, not a 0
          for (const [labels, value] of rows) this.inc(labels, value);
        },
      });
    }
  }
}

/**
 * The registry as 0.0.4 text, one family after the other (prom-client's Registry.metrics() puts a
 * blank line between families; dsrlb's exposition never had one).
 */
export async function exposition(registry: Registry): Promise<string> {
  const parts = await Promise.all(registry.getMetricsAsArray().map((m) => registry.getSingleMetricAsString(m.name)));
  return `${parts.join('\n')}\n`;
}

/** The director's exposition for one snapshot, on a registry of its own (no process metrics). */
export async function prometheusText(snap: DirectorCounters, extra: MetricsExtra = {}): Promise<string> {
  const registry = new Registry();
  const scrape = { snap, extra };
  registerDirectorMetrics(registry, () => scrape);
  return exposition(registry);
}
