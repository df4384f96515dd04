/** The Prometheus exposition: well-formed 0.0.4 text, the table's numbers, health, drops, I/O. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIPv4 } from '../../src/model/index.ts';
import { escapeLabelValue, prometheusText, type DirectorCounters } from '../../src/obs/index.ts';

const ip = (s: string) => parseIPv4(s)!;

const snap: DirectorCounters = {
  at: 0,
  active: true,
  services: [{
    spec: { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'rr' },
    conns: 30, inPkts: 300, inBytes: 30000,
    reals: [
      { addr: ip('192.168.0.9'), port: 80, weight: 0, activeConns: 1, inactConns: 2, persistConns: 0, uThreshold: 0, lThreshold: 0, conns: 10, inPkts: 100, inBytes: 10000, mac: '02:d5:00:00:00:09', local: false },
      { addr: ip('192.168.0.7'), port: 80, weight: 1, activeConns: 0, inactConns: 5, persistConns: 0, uThreshold: 0, lThreshold: 0, conns: 20, inPkts: 200, inBytes: 20000, mac: null, local: true },
    ],
  }],
  reasons: { 'not-a-vip': 7, 'no-real-available': 2 },
  forwarded: 280, local: 20, arpReplies: 3, fromVip: 0,
  io: { received: 310, sent: 283, sendErrors: 1, truncated: 0 },
  connEntries: 7, connEvictions: 0,
};

function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of text.split('\n')) if (l && !l.startsWith('#')) m.set(l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1)));
  return m;
}

describe('prometheusText', () => {
  const text = prometheusText(snap, {
    health: [{ proto: 'tcp', vip: ip('192.168.0.10'), port: 80, addr: ip('192.168.0.9'), rport: 80, up: false, lastCheckMs: 1503, checks: 12, consecutiveFailures: 3 }],
    rates: { at: 0, services: [{ proto: 'tcp', vip: ip('192.168.0.10'), port: 80, rates: { cps: 9, inpps: 47, outpps: 0, inbps: 2048, outbps: 0 }, reals: [] }] },
  });
  const s = samples(text);
  const real9 = 'proto="tcp",vip="192.168.0.10",port="80",real="192.168.0.9:80"';

  it('is well formed: HELP and TYPE once per family, before its samples; every line parses', () => {
    const seen = new Set<string>();
    let current = '';
    for (const l of text.trimEnd().split('\n')) {
      const help = /^# HELP (\w+) .+$/.exec(l);
      const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(l);
      if (help) {
        expect(seen.has(help[1]!)).toBe(false);
        seen.add(help[1]!);
        current = help[1]!;
      } else if (type) {
        expect(type[1]).toBe(current);
      } else {
        expect(l).toMatch(/^(\w+)(\{(\w+="(?:[^"\\]|\\.)*",?)*\})? -?[\d.e+]+$/);
        expect(l.split(/[{ ]/)[0]!.replace(/_(bucket|sum|count)$/, (m) => (current.endsWith(m) ? m : ''))).toBe(current);
      }
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('per service and real: connections, packets, bytes, weight, resolution', () => {
    expect(s.get('dsrlb_service_connections_total{proto="tcp",vip="192.168.0.10",port="80"}')).toBe(30);
    expect(s.get(`dsrlb_real_active_connections{${real9}}`)).toBe(1);
    expect(s.get(`dsrlb_real_inactive_connections{${real9}}`)).toBe(2);
    expect(s.get(`dsrlb_real_in_bytes_total{${real9}}`)).toBe(10000);
    expect(s.get(`dsrlb_real_weight{${real9}}`)).toBe(0);
    expect(s.get(`dsrlb_real_resolved{${real9}}`)).toBe(1);
    expect(s.get('dsrlb_real_resolved{proto="tcp",vip="192.168.0.10",port="80",real="192.168.0.7:80"}')).toBe(1); // local
    expect(s.get('dsrlb_service_connection_rate{proto="tcp",vip="192.168.0.10",port="80"}')).toBe(9);
  });

  it('health state and check latency where the checker knows them', () => {
    expect(s.get(`dsrlb_real_up{${real9}}`)).toBe(0);
    expect(s.get(`dsrlb_real_check_duration_seconds{${real9}}`)).toBe(1.503);
    expect(s.get(`dsrlb_real_check_consecutive_failures{${real9}}`)).toBe(3);
    expect(s.get(`dsrlb_real_checks_total{${real9}}`)).toBe(12);
    expect(s.has('dsrlb_real_up{proto="tcp",vip="192.168.0.10",port="80",real="192.168.0.7:80"}')).toBe(false);
  });

  it('drops per reason (every reason, zeros included) and the packet path\'s I/O', () => {
    expect(s.get('dsrlb_dropped_frames_total{reason="not-a-vip"}')).toBe(7);
    expect(s.get('dsrlb_dropped_frames_total{reason="table-full"}')).toBe(0);
    expect(s.has('dsrlb_dropped_frames_total{reason="none"}')).toBe(false);
    expect(s.get('dsrlb_send_errors_total')).toBe(1);
    expect(s.get('dsrlb_capture_received_frames_total')).toBe(310);
    expect(s.get('dsrlb_director_active')).toBe(1);
  });

  it('the ring backend\'s kernel counters and residence histogram, when the snapshot has them (pcap: absent)', () => {
    expect(s.has('dsrlb_capture_frames_total')).toBe(false);
    expect(s.has('dsrlb_frame_residence_seconds_count')).toBe(false);
    const ring = samples(prometheusText({
      ...snap,
      io: { ...snap.io, backend: 'ring', workers: 1, kernelPackets: 320, kernelDrops: 10, residence: { count: 5, sum: 0.0001, buckets: [[0.00001, 2], [0.0001, 4]] } },
    }));
    expect(ring.get('dsrlb_capture_frames_total')).toBe(320);
    expect(ring.get('dsrlb_capture_drops_total')).toBe(10);
    expect(ring.get('dsrlb_frame_residence_seconds_bucket{le="0.00001"}')).toBe(2);
    expect(ring.get('dsrlb_frame_residence_seconds_bucket{le="0.0001"}')).toBe(4);
    expect(ring.get('dsrlb_frame_residence_seconds_bucket{le="+Inf"}')).toBe(5);
    expect(ring.get('dsrlb_frame_residence_seconds_count')).toBe(5);
    expect(ring.get('dsrlb_frame_residence_seconds_sum')).toBe(0.0001);
  });

  it('docs/ipvsadm.md lists the capture metrics', () => {
    const doc = readFileSync(new URL('../../docs/ipvsadm.md', import.meta.url), 'utf8');
    for (const n of ['dsrlb_capture_frames_total', 'dsrlb_capture_drops_total', 'dsrlb_frame_residence_seconds']) expect(doc).toContain(n);
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});
