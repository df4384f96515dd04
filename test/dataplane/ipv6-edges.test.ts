/**
 * The IPv6 path's edges on hand-built frames, for what the oracle runs (test/replay/icmp6-oracle.test.ts,
 * oracle-replay6.test.ts) cannot show: the Time Exceeded answer itself (the kernel's was never
 * recorded: no one answered its neighbour solicitation) and its rate limit, the switches and
 * truncations of ICMPv6 errors, overlapping and duplicate fragments, a datagram no longer than its
 * largest fragment, and the reassembly timeout.
 */
import { describe, expect, it } from 'vitest';
import { Dataplane, DROP_REASON_NAMES, VerdictKind, type Verdict } from '../../src/dataplane/index.ts';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import {
  ethernet, ETHERTYPE_IPV6, fragmentHeader, icmp6, IPPROTO_FRAGMENT, IPPROTO_TCP, IPPROTO_UDP, ipv6, tcp6, TCP_SYN, udp6,
} from '../../src/packet/index.ts';

const SELF = parseMac('02:00:00:00:00:01')!;
const PEER = parseMac('02:00:00:00:00:99')!;
const VIP6 = '2001:db8::10';
const CLIENT = '2001:db8:1::1';
const ROUTER = '2001:db8:ff::1';

function plane(o: { icmpForward?: boolean } = {}): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: 64, conn6Capacity: 64, icmpForward: o.icmpForward });
  const tcp = dp.services.addService6({ proto: 'tcp', vip6: parseIPv6(VIP6)!, port: 80, scheduler: 'rr' });
  const udp = dp.services.addService6({ proto: 'udp', vip6: parseIPv6(VIP6)!, port: 53, scheduler: 'rr' });
  dp.services.setNeighbour6(parseIPv6('2001:db8::21')!, parseMac('02:00:00:00:00:21')!);
  dp.services.addDest6(tcp, { addr6: parseIPv6('2001:db8::21')!, port: 80, weight: 1 });
  dp.services.addDest6(udp, { addr6: parseIPv6('2001:db8::21')!, port: 53, weight: 1 });
  return dp;
}

function eth(packet: Uint8Array): Uint8Array {
  return ethernet(SELF, PEER, ETHERTYPE_IPV6, packet);
}

const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(p.flatMap((x) => [...x]));
const syn = (sport: number, hopLimit = 64) => eth(ipv6({ src: CLIENT, dst: VIP6, next: IPPROTO_TCP, hopLimit, payload: tcp6({ src: CLIENT, dst: VIP6, sport, dport: 80, flags: TCP_SYN }) }));
const reason = (v: Verdict): string => DROP_REASON_NAMES[v.reason]!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The test's own ICMPv6 checksum check: the one's-complement sum over pseudo-header and message is 0xffff. */
function icmp6SumOk(f: Uint8Array): boolean {
  const len = (f[18]! << 8) | f[19]!;
  let s = 0;
  for (let i = 22; i < 54; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  s += len + 58;
  for (let i = 0; i < len; i += 2) s += (f[54 + i]! << 8) | (i + 1 < len ? f[55 + i]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** A router's Packet Too Big to the VIP6 quoting the real's reply to CLIENT:sport, cut to `quote` bytes. */
function tooBig(sport: number, o: { quote?: number; hopLimit?: number; icmpLen?: number } = {}): Uint8Array {
  const reply = ipv6({ src: VIP6, dst: CLIENT, next: IPPROTO_TCP, payload: tcp6({ src: VIP6, dst: CLIENT, sport: 80, dport: sport, flags: 'ACK', payload: new Uint8Array(1400) }) });
  let m = icmp6(ROUTER, VIP6, 2, 0, cat(Uint8Array.of(0, 0, 5, 0x78), reply.subarray(0, o.quote ?? 1224)));
  if (o.icmpLen !== undefined) m = m.subarray(0, o.icmpLen);
  return eth(ipv6({ src: ROUTER, dst: VIP6, next: 58, hopLimit: o.hopLimit, payload: m }));
}

describe('IPv6 time exceeded', () => {
  it('answers hop limit 1 with Time Exceeded from the VIP6, quoting the packet, after scheduling the flow', () => {
    const dp = plane();
    const f = syn(40000, 1);
    const input = f.slice();
    const v = dp.process(f, f.length, 0);
    expect([v.kind, reason(v), v.icmp, v.newConn]).toEqual([VerdictKind.Reply, 'ipv6-hop-limit-expired', true, true]);
    const r = v.frame!.subarray(0, v.len);
    expect(hex(r.subarray(0, 6))).toBe(hex(PEER));
    expect(hex(r.subarray(6, 12))).toBe(hex(SELF));
    expect(hex(r.subarray(12, 20))).toBe('86dd' + '60000000' + (8 + input.length - 14).toString(16).padStart(4, '0'));
    expect([r[20], r[21]]).toEqual([58, 64]);
    expect(hex(r.subarray(22, 38))).toBe(hex(parseIPv6(VIP6)!));
    expect(hex(r.subarray(38, 54))).toBe(hex(parseIPv6(CLIENT)!));
    expect([r[54], r[55], ...r.subarray(58, 62)]).toEqual([3, 0, 0, 0, 0, 0]);
    expect(hex(r.subarray(62))).toBe(hex(input.subarray(14)));
    expect(icmp6SumOk(r)).toBe(true);
    expect(dp.icmpReplies).toBe(1);
    expect(dp.services.destStats[0]!.inPkts).toBe(1);
  });

  it('quotes at most 1232 bytes', () => {
    const dp = plane();
    const f = eth(ipv6({ src: CLIENT, dst: VIP6, next: IPPROTO_UDP, hopLimit: 0, payload: udp6({ src: CLIENT, dst: VIP6, sport: 5, dport: 53, payload: new Uint8Array(1400) }) }));
    const v = dp.process(f, f.length, 0);
    expect(v.kind).toBe(VerdictKind.Reply);
    expect(v.len).toBe(14 + 40 + 8 + 1232);
    expect(icmp6SumOk(v.frame!.subarray(0, v.len))).toBe(true);
  });

  it('keeps to the rate limit: a burst of 6 to one client, then one per 62.5 ms', () => {
    const dp = plane();
    const kinds = Array.from({ length: 8 }, (_, i) => {
      const f = syn(41000 + i, 1);
      const v = dp.process(f, f.length, 0);
      return v.kind === VerdictKind.Reply ? 'reply' : reason(v);
    });
    expect(kinds).toEqual([...Array(6).fill('reply'), 'icmp-rate-limited', 'icmp-rate-limited']);
    const f = syn(42000, 1);
    expect(dp.process(f, f.length, 62.5).kind).toBe(VerdictKind.Reply);
  });

  it('does not answer an ICMPv6 error at hop limit 1, but counts it to its connection', () => {
    const dp = plane();
    const s = syn(40001);
    dp.process(s, s.length, 0);
    const f = tooBig(40001, { hopLimit: 1 });
    const v = dp.process(f, f.length, 1);
    expect([v.kind, reason(v)]).toEqual([VerdictKind.Drop, 'ipv6-hop-limit-expired']);
    expect(dp.services.destStats[0]!.inPkts).toBe(2);
    expect(dp.icmpReplies).toBe(0);
  });
});

describe('ICMPv6 errors to a VIP6', () => {
  it('sends Packet Too Big about a connection to its real, and counts it', () => {
    const dp = plane();
    const s = syn(40002);
    dp.process(s, s.length, 0);
    const f = tooBig(40002);
    const v = dp.process(f, f.length, 1);
    expect(v.kind).toBe(VerdictKind.Forward);
    expect(hex(f.subarray(0, 6))).toBe('020000000021');
    expect(dp.icmpForwarded).toBe(1);
  });

  it('names what it keeps back: switched off, shorter than 8 bytes, no connection', () => {
    const off = plane({ icmpForward: false });
    const s = syn(40003);
    off.process(s, s.length, 0);
    const f = tooBig(40003);
    expect(reason(off.process(f, f.length, 1))).toBe('icmp-forward-off');
    const dp = plane();
    const g = tooBig(40003, { icmpLen: 6 });
    expect(reason(dp.process(g, g.length, 1))).toBe('ipv6-icmp-truncated');
    const h = tooBig(40003);
    expect(reason(dp.process(h, h.length, 1))).toBe('icmp-no-connection');
  });
});

describe('IPv6 reassembly', () => {
  const frag = (off: number, more: boolean, data: Uint8Array, id = 9, next = IPPROTO_TCP) =>
    eth(ipv6({ src: CLIENT, dst: VIP6, next: IPPROTO_FRAGMENT, payload: cat(fragmentHeader(next, off / 8, more, id), data) }));
  const seg = tcp6({ src: CLIENT, dst: VIP6, sport: 43000, dport: 80, flags: TCP_SYN, payload: new Uint8Array(60).fill(7) });

  it('discards a datagram when a fragment overlaps one held, and ignores one inside what is held', () => {
    const dp = plane();
    const a = frag(0, true, seg.subarray(0, 48));
    expect(reason(dp.process(a, a.length, 0))).toBe('fragment-held');
    const dup = frag(16, true, seg.subarray(16, 32));
    expect(reason(dp.process(dup, dup.length, 0))).toBe('fragment-held');
    const over = frag(40, false, seg.subarray(40));
    expect(reason(dp.process(over, over.length, 0))).toBe('fragment-overlap');
    expect(dp.defrag6.held).toBe(0);
    const b = frag(0, true, seg.subarray(0, 48), 10);
    dp.process(b, b.length, 0);
    const inside = frag(8, true, seg.subarray(8, 24), 10);
    expect(reason(dp.process(inside, inside.length, 0))).toBe('fragment-held');
    const c = frag(48, false, seg.subarray(48), 10);
    const v = dp.process(c, c.length, 0);
    expect([v.kind, v.parts]).toEqual([VerdictKind.Forward, 2]);
    expect(v.partLens.slice(0, 2)).toEqual([14 + 40 + 8 + 48, 14 + 40 + 8 + 32]);
  });

  it('sends a datagram no longer than its largest fragment whole', () => {
    const dp = plane();
    const d = udp6({ src: CLIENT, dst: VIP6, sport: 7, dport: 53, payload: new Uint8Array(8).fill(1) });
    const a = frag(0, true, d.subarray(0, 8), 11, IPPROTO_UDP);
    dp.process(a, a.length, 0);
    const b = frag(8, false, d.subarray(8), 11, IPPROTO_UDP);
    const v = dp.process(b, b.length, 0);
    expect([v.kind, v.parts, v.len]).toEqual([VerdictKind.Forward, 0, 14 + 40 + 16]);
    expect(hex(v.frame!.subarray(14 + 40, v.len))).toBe(hex(d));
    expect(v.frame![14 + 6]).toBe(IPPROTO_UDP);
  });

  it('forgets a datagram after 60 s', () => {
    const dp = plane();
    const a = frag(0, true, seg.subarray(0, 48), 12);
    dp.process(a, a.length, 0);
    dp.tick(59_999);
    expect(dp.defrag6.held).toBe(1);
    dp.tick(60_000);
    expect(dp.defrag6.held).toBe(0);
    expect(dp.defrag6.timeouts).toBe(1);
  });
});
