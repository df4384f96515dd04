/**
 * One answer from N packet workers (dsrlb run --workers N): each worker owns its own connection
 * table and counters, so what the control side shows is their combination. Pure: snapshots in,
 * one snapshot out.
 *
 * - The service table (services, reals, weights, thresholds, scheduler, MACs) is the same in every
 *   worker — every change is applied to all of them — so it is taken from worker 0; a service or
 *   real only some workers have (a change still on its way) is listed too.
 * - Counters are summed: per service and per real Conns/InPkts/InBytes, ActiveConn/InActConn/
 *   PersistConn (so ipvsadm -L shows the totals), the totals, drop reasons, forwarded/local/ARP
 *   replies, connection-table entries and evictions, and every numeric field of `io` (a nested
 *   residence histogram is summed per bucket); `io.workers` is the number of workers answering.
 * - Connection lists and connection-sync batches are concatenated (no flow is in two workers' tables
 *   except connections imported from a failover peer, which every worker holds; see
 *   docs/design/workers.md).
 * - `perWorker` keeps each worker's own packet counters, in worker order.
 */
import { decodeSyncBatch, encodeSyncBatch, type SyncConn } from '../ha/index.ts';
import type { PacketSnapshot, RealSnapshot, ServiceSnapshot, WorkerCounters } from './protocol.ts';

// An IPv6 entry's vip/addr is a fold: its key is the address itself (vip6/addr6).
const svcKey = (s: ServiceSnapshot) => `${s.spec.proto}/${s.vip6 !== undefined ? `[${s.vip6}]` : s.spec.vip >>> 0}/${s.spec.port}`;
const realKey = (r: RealSnapshot) => `${r.addr6 !== undefined ? `[${r.addr6}]` : r.addr >>> 0}:${r.port}`;

function addReal(into: RealSnapshot, r: RealSnapshot): void {
  into.activeConns += r.activeConns;
  into.inactConns += r.inactConns;
  into.persistConns += r.persistConns;
  into.conns += r.conns;
  into.inPkts += r.inPkts;
  into.inBytes += r.inBytes;
  if (into.mac === null && r.mac !== null) into.mac = r.mac;
}

function copyService(s: ServiceSnapshot): ServiceSnapshot {
  return { ...s, spec: { ...s.spec }, reals: s.reals.map((r) => ({ ...r })) };
}

function combineServices(all: readonly ServiceSnapshot[][]): ServiceSnapshot[] {
  const out: ServiceSnapshot[] = [];
  const byKey = new Map<string, ServiceSnapshot>();
  for (const list of all) {
    for (const s of list) {
      const have = byKey.get(svcKey(s));
      if (have === undefined) {
        const c = copyService(s);
        byKey.set(svcKey(s), c);
        out.push(c);
        continue;
      }
      have.conns += s.conns;
      have.inPkts += s.inPkts;
      have.inBytes += s.inBytes;
      const reals = new Map(have.reals.map((r) => [realKey(r), r]));
      for (const r of s.reals) {
        const hr = reals.get(realKey(r));
        if (hr) addReal(hr, r);
        else have.reals.push({ ...r });
      }
    }
  }
  return out;
}

type Histogram = { count: number; sum: number; buckets: Array<[number, number]> };

function isHistogram(v: unknown): v is Histogram {
  return typeof v === 'object' && v !== null && Array.isArray((v as Histogram).buckets) && typeof (v as Histogram).count === 'number';
}

/** Cumulative histograms with the same or different bucket bounds: summed bound by bound. */
function addHistograms(a: Histogram, b: Histogram): Histogram {
  const les = [...new Set([...a.buckets.map((x) => x[0]), ...b.buckets.map((x) => x[0])])].sort((x, y) => x - y);
  // A cumulative count at `le` for a histogram lacking that bound: its count at the largest bound below.
  const at = (h: Histogram, le: number) => {
    let c = 0;
    for (const [l, n] of h.buckets) if (l <= le) c = n;
    return c;
  };
  return { count: a.count + b.count, sum: a.sum + b.sum, buckets: les.map((le) => [le, at(a, le) + at(b, le)]) };
}

/** Sums every numeric field (and histogram) of the workers' `io` objects; other fields from worker 0. */
export function combineIo(ios: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const io of ios) {
    for (const [k, v] of Object.entries(io)) {
      const have = out[k];
      if (typeof v === 'number') out[k] = (typeof have === 'number' ? have : 0) + v;
      else if (isHistogram(v)) out[k] = isHistogram(have) ? addHistograms(have, v) : { count: v.count, sum: v.sum, buckets: v.buckets.map(([l, n]) => [l, n]) };
      else if (!(k in out)) out[k] = v;
    }
  }
  out.workers = ios.length;
  return out;
}

/** The connection-sync batches of every worker as one batch. */
export function combineSync(batches: readonly (string | undefined)[]): string {
  const all: SyncConn[] = [];
  for (const b of batches) if (b) all.push(...(decodeSyncBatch(b, Infinity) ?? []));
  return encodeSyncBatch(all);
}

function sumRecord(recs: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of recs) for (const [k, n] of Object.entries(r)) out[k] = (out[k] ?? 0) + n;
  return out;
}

export function workerCounters(s: PacketSnapshot): WorkerCounters {
  const io = s.io as unknown as Record<string, unknown>;
  const num = (k: string) => (typeof io[k] === 'number' ? (io[k] as number) : 0);
  return {
    conns: s.totals.conns, inPkts: s.totals.inPkts, forwarded: s.forwarded, local: s.local, arpReplies: s.arpReplies, connEntries: s.connEntries,
    received: num('received'), sent: num('sent'), sendErrors: num('sendErrors'),
  };
}

/** Combines the snapshots of N workers (worker 0 first). One snapshot is returned unchanged. */
export function combineSnapshots(snaps: readonly PacketSnapshot[]): PacketSnapshot {
  if (snaps.length === 0) throw new RangeError('combineSnapshots: no snapshot');
  if (snaps.length === 1) return snaps[0]!;
  const first = snaps[0]!;
  const sum = (f: (s: PacketSnapshot) => number) => snaps.reduce((n, s) => n + f(s), 0);
  const out: PacketSnapshot = {
    ...first,
    at: Math.max(...snaps.map((s) => s.at)),
    active: snaps.every((s) => s.active),
    services: combineServices(snaps.map((s) => s.services)),
    totals: { conns: sum((s) => s.totals.conns), inPkts: sum((s) => s.totals.inPkts), inBytes: sum((s) => s.totals.inBytes) },
    reasons: sumRecord(snaps.map((s) => s.reasons)),
    forwarded: sum((s) => s.forwarded),
    local: sum((s) => s.local),
    arpReplies: sum((s) => s.arpReplies),
    fromVip: sum((s) => s.fromVip),
    io: combineIo(snaps.map((s) => s.io as unknown as Record<string, unknown>)) as unknown as PacketSnapshot['io'],
    connEntries: sum((s) => s.connEntries),
    connEvictions: sum((s) => s.connEvictions),
    perWorker: snaps.map(workerCounters),
  };
  if (snaps.some((s) => s.conns !== undefined)) out.conns = snaps.flatMap((s) => s.conns ?? []);
  if (snaps.some((s) => s.sync !== undefined)) out.sync = combineSync(snaps.map((s) => s.sync));
  return out;
}
