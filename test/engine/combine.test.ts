/** --workers N: the workers' snapshots combined into the one the control side shows. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { combineIo, combineSnapshots, combineSync, type PacketSnapshot, type RealSnapshot } from '../../src/engine/index.ts';
import { decodeSyncBatch, encodeSyncBatch, type SyncConn } from '../../src/ha/index.ts';
import { formatList, prometheusText } from '../../src/obs/index.ts';
import { parseIPv4 } from '../../src/model/index.ts';

const ip = (s: string) => parseIPv4(s)!;
const VIP = ip('10.0.0.100');

function real(addr: string, o: Partial<RealSnapshot> = {}): RealSnapshot {
  return {
    addr: ip(addr), port: 80, weight: 1, activeConns: 0, inactConns: 0, persistConns: 0, uThreshold: 0, lThreshold: 0,
    conns: 0, inPkts: 0, inBytes: 0, mac: '02:00:00:00:00:15', local: false, flags: 0, ...o,
  };
}

function snap(o: { at: number; r1: Partial<RealSnapshot>; r2: Partial<RealSnapshot>; fwd: number; io: Record<string, unknown>; reasons?: Record<string, number> }): PacketSnapshot {
  const reals = [real('10.0.0.22', o.r2), real('10.0.0.21', o.r1)];
  const sum = (k: 'conns' | 'inPkts' | 'inBytes') => reals.reduce((n, r) => n + r[k], 0);
  return {
    at: o.at, active: true,
    services: [{ spec: { proto: 'tcp', vip: VIP, port: 80, scheduler: 'rr' }, conns: sum('conns'), inPkts: sum('inPkts'), inBytes: sum('inBytes'), reals }],
    totals: { conns: sum('conns'), inPkts: sum('inPkts'), inBytes: sum('inBytes') },
    reasons: o.reasons ?? {}, forwarded: o.fwd, local: 0, arpReplies: 1, fromVip: 0,
    io: o.io as PacketSnapshot['io'], connEntries: o.r1.activeConns! + o.r2.activeConns!, connEvictions: 0,
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
  };
}

const w0 = snap({
  at: 1000, fwd: 30, reasons: { 'no-service': 2 },
  r1: { activeConns: 3, inactConns: 1, conns: 4, inPkts: 20, inBytes: 2000 },
  r2: { activeConns: 2, inactConns: 0, conns: 2, inPkts: 10, inBytes: 1000 },
  io: { backend: 'ring', workers: 1, received: 40, sent: 31, sendErrors: 0, kernelPackets: 41, kernelDrops: 1, residence: { count: 30, sum: 0.003, buckets: [[1e-5, 10], [1e-4, 28], [1e-3, 30]] } },
});
const w1 = snap({
  at: 1005, fwd: 12, reasons: { 'no-service': 1, 'bad-ttl': 5 },
  r1: { activeConns: 1, inactConns: 2, conns: 3, inPkts: 7, inBytes: 700 },
  r2: { activeConns: 4, inactConns: 0, conns: 4, inPkts: 5, inBytes: 500 },
  io: { backend: 'ring', workers: 1, received: 15, sent: 13, sendErrors: 2, kernelPackets: 15, kernelDrops: 0, residence: { count: 12, sum: 0.001, buckets: [[1e-5, 2], [1e-4, 12], [1e-3, 12]] } },
});

describe('combineSnapshots', () => {
  it('keeps an IPv6 service apart from an IPv4 one whose VIP equals its fold, and keys IPv6 reals by address', () => {
    // 2001:db8::10 folds to 0x20010db8 ^ 0x10 = 0x20010da8 (= 32.1.13.168).
    const fold = 0x20010da8;
    const six = (x: Partial<RealSnapshot>) => ({
      spec: { proto: 'tcp' as const, vip: fold, port: 80, scheduler: 'rr' as const }, vip6: '2001:db8::10', conns: 1, inPkts: 1, inBytes: 60,
      reals: [real('0.0.0.0', { addr: 0x20010d9b, addr6: '2001:db8::23', ...x }), real('0.0.0.0', { addr: 0x20010d9b, addr6: '2001:db9::22', ...x })],
    });
    const four = { spec: { proto: 'tcp' as const, vip: fold, port: 80, scheduler: 'rr' as const }, conns: 5, inPkts: 5, inBytes: 300, reals: [real('32.1.13.155', { conns: 5 })] };
    const a = { ...w0, services: [four, six({ conns: 1 })] };
    const b = { ...w1, services: [four, six({ conns: 2 })] };
    const c = combineSnapshots([a, b]);
    expect(c.services.map((s) => [s.vip6, s.conns])).toEqual([[undefined, 10], ['2001:db8::10', 2]]);
    expect(c.services[1]!.reals.map((r) => [r.addr6, r.conns])).toEqual([['2001:db8::23', 3], ['2001:db9::22', 3]]);
  });

  it('one worker: the snapshot itself, untouched (no perWorker, no io.workers change)', () => {
    expect(combineSnapshots([w0])).toBe(w0);
  });

  it('sums the per-service and per-real counters, ActiveConn/InActConn included, and the totals', () => {
    const c = combineSnapshots([w0, w1]);
    const s = c.services[0]!;
    expect(s.conns).toBe(13);
    expect(s.inPkts).toBe(42);
    expect(s.inBytes).toBe(4200);
    const [r2, r1] = s.reals;
    expect(r1).toMatchObject({ addr: ip('10.0.0.21'), activeConns: 4, inactConns: 3, conns: 7, inPkts: 27, inBytes: 2700, weight: 1 });
    expect(r2).toMatchObject({ addr: ip('10.0.0.22'), activeConns: 6, inactConns: 0, conns: 6, inPkts: 15, inBytes: 1500 });
    expect(c.totals).toEqual({ conns: 13, inPkts: 42, inBytes: 4200 });
    expect(c.reasons).toEqual({ 'no-service': 3, 'bad-ttl': 5 });
    expect(c.forwarded).toBe(42);
    expect(c.arpReplies).toBe(2);
    expect(c.connEntries).toBe(10);
    expect(c.at).toBe(1005);
    // the inputs are not modified
    expect(w0.services[0]!.reals[1]!.activeConns).toBe(3);
  });

  it('sums the io object (kernel counters, residence histogram per bucket) with workers: N', () => {
    const c = combineSnapshots([w0, w1, w1]);
    expect(c.io).toEqual({
      backend: 'ring', workers: 3, received: 70, sent: 57, sendErrors: 4, kernelPackets: 71, kernelDrops: 1,
      residence: { count: 54, sum: 0.005, buckets: [[1e-5, 14], [1e-4, 52], [1e-3, 54]] },
    });
    expect(c.perWorker).toEqual([
      { conns: 6, inPkts: 30, forwarded: 30, local: 0, arpReplies: 1, connEntries: 5, received: 40, sent: 31, sendErrors: 0 },
      { conns: 7, inPkts: 12, forwarded: 12, local: 0, arpReplies: 1, connEntries: 5, received: 15, sent: 13, sendErrors: 2 },
      { conns: 7, inPkts: 12, forwarded: 12, local: 0, arpReplies: 1, connEntries: 5, received: 15, sent: 13, sendErrors: 2 },
    ]);
  });

  it('histograms with different bounds: each bound gets the cumulative count of both', () => {
    const a = { h: { count: 3, sum: 3, buckets: [[1, 1], [4, 3]] } };
    const b = { h: { count: 2, sum: 5, buckets: [[2, 1], [4, 2]] } };
    expect(combineIo([a, b]).h).toEqual({ count: 5, sum: 8, buckets: [[1, 1], [2, 2], [4, 5]] });
  });

  it('a real or service only one worker has yet is listed', () => {
    const extra = structuredClone(w1);
    extra.services[0]!.reals.unshift(real('10.0.0.23', { activeConns: 9 }));
    extra.services.push({ ...structuredClone(extra.services[0]!), spec: { proto: 'udp', vip: VIP, port: 53, scheduler: 'rr' } });
    const c = combineSnapshots([w0, extra]);
    expect(c.services.map((s) => s.spec.proto)).toEqual(['tcp', 'udp']);
    expect(c.services[0]!.reals.map((r) => r.addr)).toEqual([ip('10.0.0.22'), ip('10.0.0.21'), ip('10.0.0.23')]);
  });

  it('connection lists are concatenated; sync batches merged into one batch', () => {
    const conn = (cport: number) => ({ proto: 'tcp' as const, caddr: ip('10.0.0.9'), cport, vaddr: VIP, vport: 80, daddr: ip('10.0.0.21'), dport: 80, state: 'ESTABLISHED', expiresInMs: 1, template: false });
    const a = { ...w0, conns: [conn(1000), conn(1001)] };
    const b = { ...w1, conns: [conn(2000)] };
    expect(combineSnapshots([a, b]).conns!.map((c) => c.cport)).toEqual([1000, 1001, 2000]);
    const sc = (cport: number): SyncConn => ({ proto: 'tcp', caddr: ip('10.0.0.9'), cport, vaddr: VIP, vport: 80, daddr: ip('10.0.0.21'), dport: 80, state: 'ESTABLISHED' });
    const merged = combineSnapshots([{ ...w0, sync: encodeSyncBatch([sc(1), sc(2)]) }, { ...w1, sync: encodeSyncBatch([sc(3)]) }]).sync!;
    expect(decodeSyncBatch(merged, Infinity)!.map((c) => c.cport)).toEqual([1, 2, 3]);
    expect(decodeSyncBatch(combineSync([undefined, '']), Infinity)).toEqual([]);
  });

  it('ipvsadm -L -n --stats over the combination shows the sums', () => {
    const text = formatList(combineSnapshots([w0, w1]), { stats: true });
    expect(text).toMatch(/-> 10\.0\.0\.21:80\s+7\s+27\s+0\s+2700\s+0/);
    expect(text).toMatch(/TCP\s+10\.0\.0\.100:80\s+13\s+42\s+0\s+4200\s+0/);
    const plain = formatList(combineSnapshots([w0, w1]), {});
    expect(plain).toMatch(/-> 10\.0\.0\.21:80\s+Route\s+1\s+4\s+3/);
  });

  it('the Prometheus metrics over the combination are the sums (capture counters, residence histogram, ActiveConn)', async () => {
    const text = await prometheusText(combineSnapshots([w0, w1]));
    expect(text).toMatch(/^dsrlb_capture_frames_total 56$/m);
    expect(text).toMatch(/^dsrlb_capture_drops_total 1$/m);
    expect(text).toMatch(/^dsrlb_frame_residence_seconds_count 42$/m);
    expect(text).toMatch(/^dsrlb_frame_residence_seconds_bucket\{le="0\.0001"\} 40$/m);
    expect(text).toMatch(/^dsrlb_worker_forwarded_frames_total\{worker="1"\} 12$/m);
    expect(text).toMatch(/^dsrlb_worker_received_frames_total\{worker="0"\} 40$/m);
    // One worker: the per-worker families have no samples (HELP and TYPE only).
    expect(await prometheusText(w0)).not.toMatch(/^dsrlb_worker_\w+\{/m);
    const doc = readFileSync(new URL('../../docs/ipvsadm.md', import.meta.url), 'utf8');
    for (const n of ['dsrlb_worker_{forwarded,received}_frames_total', 'dsrlb_worker_connection_entries']) expect(doc).toContain(n);
    expect(text).toMatch(/^dsrlb_real_active_connections\{[^}]*real="10\.0\.0\.21:80"[^}]*\} 4$/m);
  });
});
