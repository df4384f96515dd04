/**
 * The prom-client exposition against the hand-written one it replaced (prometheus-legacy.ts), for the
 * same snapshots: the same families with the same HELP, TYPE, labels and values. The one difference
 * allowed: a family with no series at all (no rates yet, no health, no start time) now still shows
 * its HELP and TYPE lines, as two families always did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIPv4 } from '../../src/model/index.ts';
import { DIRECTOR_FAMILIES, prometheusText, type DirectorCounters, type MetricsExtra } from '../../src/obs/index.ts';
import { prometheusText as legacyText } from './prometheus-legacy.ts';

const ip = (s: string) => parseIPv4(s)!;

const real = (addr: string, o: Partial<DirectorCounters['services'][number]['reals'][number]> = {}) => ({
  addr: ip(addr), port: 80, weight: 1, activeConns: 1, inactConns: 2, persistConns: 0, uThreshold: 0, lThreshold: 0,
  conns: 10, inPkts: 100, inBytes: 10000, mac: '02:d5:00:00:00:09' as string | null, local: false, ...o,
});

const full: DirectorCounters = {
  at: 0, active: true,
  services: [
    { spec: { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'rr' }, conns: 30, inPkts: 300, inBytes: 30000,
      reals: [real('192.168.0.9', { weight: 0 }), real('192.168.0.7', { mac: null, local: true })] },
    { spec: { proto: 'udp', vip: ip('192.168.0.11'), port: 53, scheduler: 'wlc' }, conns: 3, inPkts: 4, inBytes: 5,
      reals: [real('192.168.0.8', { port: 53, uThreshold: 100, lThreshold: 50 })] },
  ],
  reasons: { 'not-a-vip': 7, 'no-real-available': 2, 'some-future-reason': 1 },
  forwarded: 280, local: 20, arpReplies: 3, fromVip: 1,
  io: { received: 310, sent: 283, sendErrors: 1, truncated: 2 }, connEntries: 7, connEvictions: 0,
};
const fullExtra: MetricsExtra = {
  startTimeSeconds: 1764162000,
  health: [
    { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, addr: ip('192.168.0.9'), rport: 80, up: false, lastCheckMs: 1503, checks: 12, consecutiveFailures: 3 },
    { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, addr: ip('192.168.0.7'), rport: 80, up: true, lastCheckMs: 2, checks: 12, consecutiveFailures: 0 },
    { proto: 'udp', vip: ip('192.168.0.11'), port: 53, addr: ip('192.168.0.8'), rport: 53, up: true, lastCheckMs: 0.25, checks: 1, consecutiveFailures: 0 },
  ],
  rates: { at: 0, services: [
    { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, rates: { cps: 9, inpps: 47, outpps: 0, inbps: 2048, outbps: 0 }, reals: [] },
    { proto: 'udp', vip: ip('192.168.0.11'), port: 53, rates: { cps: 1, inpps: 2, outpps: 0, inbps: 3, outbps: 0 }, reals: [] },
  ] },
};

interface Family { help: string; type: string; samples: string[] }

/** The exposition as families (name -> HELP, TYPE, sample lines in order), and the order of the names. */
function families(text: string): { order: string[]; map: Map<string, Family> } {
  const map = new Map<string, Family>();
  const order: string[] = [];
  let current: Family | undefined;
  for (const l of text.trimEnd().split('\n')) {
    const help = /^# HELP (\w+) (.*)$/.exec(l);
    const type = /^# TYPE (\w+) (\w+)$/.exec(l);
    if (help) {
      current = { help: help[2]!, type: '', samples: [] };
      map.set(help[1]!, current);
      order.push(help[1]!);
    } else if (type) current!.type = type[2]!;
    else current!.samples.push(l);
  }
  return { order, map };
}

function expectSameExposition(now: string, before: string): void {
  const n = families(now);
  const b = families(before);
  for (const [name, fam] of b.map) expect(n.map.get(name), name).toEqual(fam);
  for (const [name, fam] of n.map) if (!b.map.has(name)) expect(fam.samples, `${name} is new, so it has no samples`).toEqual([]);
  // The families the old text had come in the same relative order.
  expect(n.order.filter((x) => b.map.has(x))).toEqual(b.order);
}

/** The families added after the hand-written exposition was retired (ring backend; ICMP at the edges; connection sync), tested on their own below. */
const RING_FAMILIES = ['dsrlb_capture_frames_total', 'dsrlb_capture_drops_total', 'dsrlb_frame_residence_seconds', 'dsrlb_icmp_replies_total', 'dsrlb_icmp_forwarded_total',
  'dsrlb_worker_forwarded_frames_total', 'dsrlb_worker_received_frames_total', 'dsrlb_worker_connection_entries',
  'dsrlb_sync_records_sent_total', 'dsrlb_sync_records_received_total', 'dsrlb_sync_datagrams_refused_total'];
const withoutRing = (text: string): string =>
  text.split('\n').filter((l) => !RING_FAMILIES.some((f) => l.startsWith(`# HELP ${f} `) || l.startsWith(`# TYPE ${f} `) || l.startsWith(f))).join('\n');

describe('prom-client exposition = the hand-written one', () => {
  it('the ICMP counters of the edge cases (echo replies, time exceeded; errors sent on to a real)', async () => {
    const text = await prometheusText({ ...full, icmpReplies: 4, icmpForwarded: 2 }, fullExtra);
    expect(text).toMatch(/^dsrlb_icmp_replies_total 4$/m);
    expect(text).toMatch(/^dsrlb_icmp_forwarded_total 2$/m);
  });

  it('the connection-sync counters, only while sync runs', async () => {
    const text = await prometheusText(full, { ...fullExtra, sync: { recordsSent: 424, recordsReceived: 383, datagramsBad: 1, notFromPeer: 2 } });
    expect(text).toMatch(/^dsrlb_sync_records_sent_total 424$/m);
    expect(text).toMatch(/^dsrlb_sync_records_received_total 383$/m);
    expect(text).toMatch(/^dsrlb_sync_datagrams_refused_total\{reason="not-from-peer"\} 2$/m);
    expect(text).toMatch(/^dsrlb_sync_datagrams_refused_total\{reason="malformed"\} 1$/m);
    expect(await prometheusText(full, fullExtra)).not.toMatch(/^dsrlb_sync_records_sent_total \d/m);
  });

  it('byte for byte when every family has series', async () => {
    const now = await prometheusText(full, fullExtra);
    expect(withoutRing(now)).toBe(legacyText(full, fullExtra));
    expect(families(now).order).toEqual(DIRECTOR_FAMILIES.map((f) => f[0]));
  });

  it('the ring backend\'s families, as its hand-written addition wrote them (unlabelled; le as the number prints)', async () => {
    const io = { ...full.io, backend: 'ring' as const, workers: 2, kernelPackets: 400, kernelDrops: 3,
      residence: { count: 5, sum: 0.00042, buckets: [[0.00001, 1], [0.0001, 4], [0.001, 5]] as Array<[number, number]> } };
    const text = await prometheusText({ ...full, io }, fullExtra);
    expect(text).toContain([
      '# HELP dsrlb_send_errors_total Frames the interface refused to send.', '# TYPE dsrlb_send_errors_total counter', 'dsrlb_send_errors_total 1',
      '# HELP dsrlb_capture_frames_total Frames the kernel offered to the packet ring (PACKET_STATISTICS tp_packets, drops included; ring backend only).',
      '# TYPE dsrlb_capture_frames_total counter', 'dsrlb_capture_frames_total 400',
      '# HELP dsrlb_capture_drops_total Frames the kernel dropped because the packet ring was full (tp_drops; ring backend only).',
      '# TYPE dsrlb_capture_drops_total counter', 'dsrlb_capture_drops_total 3',
      '# HELP dsrlb_frame_residence_seconds Time from the kernel\'s receive timestamp of a frame to its send by the director (ring backend only).',
      '# TYPE dsrlb_frame_residence_seconds histogram',
      'dsrlb_frame_residence_seconds_bucket{le="0.00001"} 1', 'dsrlb_frame_residence_seconds_bucket{le="0.0001"} 4',
      'dsrlb_frame_residence_seconds_bucket{le="0.001"} 5', 'dsrlb_frame_residence_seconds_bucket{le="+Inf"} 5',
      'dsrlb_frame_residence_seconds_sum 0.00042', 'dsrlb_frame_residence_seconds_count 5',
      '# HELP dsrlb_connection_entries ',
    ].join('\n'));
    // The pcap backend has none of them: HELP and TYPE only.
    const pcap = await prometheusText(full, fullExtra);
    expect(pcap).toMatch(/^# TYPE dsrlb_frame_residence_seconds histogram\n# HELP dsrlb_connection_entries /m);
    expect(pcap).not.toMatch(/^dsrlb_(capture_frames|capture_drops|frame_residence)/m);
  });

  it('family by family for sparse snapshots: no rates, no health, no start time, no services', async () => {
    const bare: DirectorCounters = { ...full, services: [], reasons: {} };
    for (const [snap, extra] of [[full, {}], [full, { rates: null, health: [] }], [bare, {}], [bare, fullExtra], [{ ...full, active: false }, { startTimeSeconds: 0 }]] as const) {
      expectSameExposition(await prometheusText(snap, extra), legacyText(snap, extra));
    }
  });

  it('family by family for random tables, health and rates', async () => {
    const arbReal = fc.record({
      addr: fc.nat(0xffffffff), port: fc.nat(65535), weight: fc.nat(100), activeConns: fc.nat(), inactConns: fc.nat(), persistConns: fc.nat(),
      uThreshold: fc.nat(), lThreshold: fc.nat(), conns: fc.nat(), inPkts: fc.nat(), inBytes: fc.maxSafeNat(),
      mac: fc.option(fc.constant('02:00:00:00:00:01'), { nil: null }), local: fc.boolean(),
    });
    const arbService = fc.record({
      spec: fc.record({ proto: fc.constantFrom('tcp' as const, 'udp' as const), vip: fc.nat(0xffffffff), port: fc.nat(65535), scheduler: fc.constant('rr') }),
      conns: fc.nat(), inPkts: fc.nat(), inBytes: fc.maxSafeNat(), reals: fc.uniqueArray(arbReal, { maxLength: 3, selector: (r) => `${r.addr}:${r.port}` }),
    });
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(arbService, { maxLength: 3, selector: (s) => `${s.spec.proto}${s.spec.vip}:${s.spec.port}` }),
      fc.dictionary(fc.constantFrom('not-a-vip', 'table-full', 'odd "reason"\\x'), fc.nat()),
      fc.boolean(), fc.double({ min: 0, max: 1e6, noNaN: true }),
      async (services, reasons, withExtra, ms) => {
        const snap: DirectorCounters = { ...full, services, reasons };
        const extra: MetricsExtra = withExtra ? {
          health: services.flatMap((s) => s.reals.slice(0, 1).map((r) => ({ ...s.spec, addr: r.addr, rport: r.port, up: r.local, lastCheckMs: ms, checks: 1 }))),
          rates: { at: 0, services: services.slice(0, 1).map((s) => ({ ...s.spec, rates: { cps: ms, inpps: 1, outpps: 0, inbps: 2, outbps: 0 }, reals: [] })) },
        } : {};
        expectSameExposition(await prometheusText(snap, extra), legacyText(snap, extra));
      },
    ), { numRuns: 60 });
  });
});
