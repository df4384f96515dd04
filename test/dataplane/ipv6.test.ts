/**
 * The IPv6 packet path of Dataplane.process() on hand-built frames: what the kernel vectors
 * (test/replay/oracle-replay6.test.ts) do not show — two flows with the same fold and the same
 * ports, every named drop, and that IPv4 and IPv6 services sit side by side.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dataplane, DROP_REASON_NAMES, VerdictKind, type Verdict } from '../../src/dataplane/index.ts';
import { foldIPv6, parseIPv4, parseIPv6, parseMac } from '../../src/model/index.ts';
import {
  ethernet, ETHERTYPE_IPV6, fragmentHeader, icmp6, IPPROTO_FRAGMENT, IPPROTO_TCP, IPPROTO_UDP, ipv6, IPV6_DROP_REASONS, tcp6, TCP_ACK, TCP_SYN, tcpFrame, udp6,
} from '../../src/packet/index.ts';

const SELF = parseMac('02:00:00:00:00:01')!;
const PEER = parseMac('02:00:00:00:00:99')!;
const VIP6 = '2001:db8::10';
const REALS = ['2001:db8::21', '2001:db8::22'];
const MACS = ['02:00:00:00:00:21', '02:00:00:00:00:22'];

function plane(opts: { resolve?: boolean } = {}): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: 256, conn6Capacity: 256 });
  const svc = dp.services.addService6({ proto: 'tcp', vip6: parseIPv6(VIP6)!, port: 80, scheduler: 'rr' });
  const usvc = dp.services.addService6({ proto: 'udp', vip6: parseIPv6(VIP6)!, port: 53, scheduler: 'rr' });
  REALS.forEach((r, i) => {
    if (opts.resolve ?? true) dp.services.setNeighbour6(parseIPv6(r)!, parseMac(MACS[i]!)!);
    dp.services.addDest6(svc, { addr6: parseIPv6(r)!, port: 80, weight: 1 });
    dp.services.addDest6(usvc, { addr6: parseIPv6(r)!, port: 53, weight: 1 });
  });
  return dp;
}

function eth(packet: Uint8Array, dstMac = SELF): Uint8Array {
  return ethernet(dstMac, PEER, ETHERTYPE_IPV6, packet);
}

function syn6(src: string, sport: number, o: { flags?: number; hopLimit?: number; dst?: string; mac?: Uint8Array } = {}): Uint8Array {
  const dst = o.dst ?? VIP6;
  return eth(ipv6({ src, dst, next: IPPROTO_TCP, hopLimit: o.hopLimit, payload: tcp6({ src, dst, sport, dport: 80, flags: o.flags ?? TCP_SYN }) }), o.mac);
}

const macOf = (f: Uint8Array): string => [...f.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const reason = (v: Verdict): string => DROP_REASON_NAMES[v.reason]!;

describe('IPv6 data path', () => {
  it('forwards a SYN to a real: MACs rewritten, hop limit - 1, nothing else changed', () => {
    const dp = plane();
    const f = syn6('2001:db8:1::1', 40000);
    const before = f.slice();
    const v = dp.process(f, f.length, 1000);
    expect(v.kind).toBe(VerdictKind.Forward);
    expect(v.newConn).toBe(true);
    expect(MACS).toContain(macOf(f));
    expect([...f.subarray(6, 12)]).toEqual([...SELF]);
    expect(f[14 + 7]).toBe(before[14 + 7]! - 1);
    const rest = (x: Uint8Array): number[] => [...x.subarray(12)].filter((_, i) => i !== 7 + 2);
    expect(rest(f)).toEqual(rest(before));
    expect(v.len).toBe(f.length);
  });

  it('keeps two clients with the same fold and the same ports on flows of their own', () => {
    const dp = plane();
    const a = '2001:db8::2001:db8';
    const b = '2001:db8:1::2000:db8';
    expect(foldIPv6(parseIPv6(a)!)).toBe(foldIPv6(parseIPv6(b)!));
    const fa = syn6(a, 40000);
    const va = dp.process(fa, fa.length, 1000);
    const ra = va.dest;
    const fb = syn6(b, 40000);
    const vb = dp.process(fb, fb.length, 1001);
    expect(vb.newConn).toBe(true);
    const rb = vb.dest;
    expect(rb).not.toBe(ra); // rr: the second flow went to the other real
    expect(dp.conns6.size).toBe(2);
    // Each one's next packet finds its own connection and real.
    for (const [src, real] of [[a, ra], [b, rb], [a, ra]] as const) {
      const f = syn6(src, 40000, { flags: TCP_ACK });
      const v = dp.process(f, f.length, 1002);
      expect(v.kind).toBe(VerdictKind.Forward);
      expect(v.newConn).toBe(false);
      expect(v.dest).toBe(real);
    }
  });

  it('schedules UDP to a UDP VIP6 port', () => {
    const dp = plane();
    const src = '2001:db8:1::5';
    const f = eth(ipv6({ src, dst: VIP6, next: IPPROTO_UDP, payload: udp6({ src, dst: VIP6, sport: 5353, dport: 53, payload: new Uint8Array(5) }) }));
    const v = dp.process(f, f.length, 0);
    expect(v.kind).toBe(VerdictKind.Forward);
    expect(v.newConn).toBe(true);
  });

  it('drops with a named reason what it does not send on', () => {
    const cases: Array<[string, () => Uint8Array, string, Dataplane?]> = [
      ['another MAC', () => syn6('2001:db8:1::1', 3, { mac: PEER }), 'not-our-mac'],
      ['not a SYN on no flow', () => syn6('2001:db8:1::1', 4, { flags: TCP_ACK }), 'no-connection'],
      ['a port with no service', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: IPPROTO_TCP, payload: tcp6({ src: '2001:db8:1::1', dst: VIP6, sport: 5, dport: 81, flags: TCP_SYN }) })), 'not-a-service'],
      ['ICMPv6 echo reply to the VIP6', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: 58, payload: icmp6('2001:db8:1::1', VIP6, 129, 0, new Uint8Array(8)) })), 'ipv6-icmp-not-handled'],
      ['a first fragment', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: IPPROTO_FRAGMENT, payload: new Uint8Array([...fragmentHeader(IPPROTO_TCP, 0, true, 7), ...tcp6({ src: '2001:db8:1::1', dst: VIP6, sport: 6, dport: 80, flags: TCP_SYN, payload: new Uint8Array(4) })]) })), 'fragment-held'],
      ['a first fragment of 20 bytes (not a multiple of 8)', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: IPPROTO_FRAGMENT, payload: new Uint8Array([...fragmentHeader(IPPROTO_TCP, 0, true, 7), ...tcp6({ src: '2001:db8:1::1', dst: VIP6, sport: 6, dport: 80, flags: TCP_SYN })]) })), 'fragment-invalid'],
      ['a later fragment', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: IPPROTO_FRAGMENT, payload: new Uint8Array([...fragmentHeader(IPPROTO_TCP, 3, false, 7), ...new Uint8Array(16)]) })), 'fragment-held'],
      ['a multicast source', () => syn6('ff0e::1', 7), 'ipv6-bad-source'],
      ['a truncated TCP header', () => eth(ipv6({ src: '2001:db8:1::1', dst: VIP6, next: IPPROTO_TCP, payload: new Uint8Array(10) })), 'ipv6-truncated-l4-header'],
      ['a truncated IPv6 header', () => syn6('2001:db8:1::1', 8).subarray(0, 40), 'ipv6-truncated-header'],
      ['from the VIP6', () => syn6(VIP6, 9, { dst: '2001:db8:1::1' }), 'from-vip'],
      ['no real resolved', () => syn6('2001:db8:1::1', 10), 'no-real-available', plane({ resolve: false })],
    ];
    for (const [what, make, want, dp0] of cases) {
      const dp = dp0 ?? plane();
      const f = make();
      const v = dp.process(f, f.length, 0);
      expect({ what, kind: v.kind, reason: reason(v) }).toEqual({ what, kind: VerdictKind.Drop, reason: want });
    }
    // A flow whose real has lost its MAC since.
    const dp = plane();
    const f = syn6('2001:db8:1::1', 11);
    expect(dp.process(f, f.length, 0).kind).toBe(VerdictKind.Forward);
    for (const r of REALS) dp.services.setNeighbour6(parseIPv6(r)!, null);
    const g = syn6('2001:db8:1::1', 11, { flags: TCP_ACK });
    const v = dp.process(g, g.length, 1);
    expect([v.kind, reason(v)]).toEqual([VerdictKind.Drop, 'real-unresolved']);
  });

  it('leaves IPv6 to other addresses to the host, and all IPv6 when there is no IPv6 service', () => {
    const f = syn6('2001:db8:1::1', 1, { dst: '2001:db8::99' });
    const v = plane().process(f, f.length, 0);
    expect([v.kind, reason(v)]).toEqual([VerdictKind.Pass, 'not-a-vip']);
    const g = syn6('2001:db8:1::1', 1);
    const w = new Dataplane({ selfMac: SELF, connCapacity: 16 }).process(g, g.length, 0);
    expect([w.kind, reason(w)]).toEqual([VerdictKind.Pass, 'not-ipv4']);
  });

  it('trims bytes after the Payload Length and strips an atomic fragment header', () => {
    const dp = plane();
    const src = '2001:db8:1::7';
    const seg = tcp6({ src, dst: VIP6, sport: 7, dport: 80, flags: TCP_SYN });
    const plain = eth(ipv6({ src, dst: VIP6, next: IPPROTO_TCP, payload: seg }));
    const padded = new Uint8Array(plain.length + 10);
    padded.set(plain);
    const v = dp.process(padded, padded.length, 0);
    expect(v.kind).toBe(VerdictKind.Forward);
    expect(v.len).toBe(plain.length);
    const src2 = '2001:db8:1::8';
    const seg2 = tcp6({ src: src2, dst: VIP6, sport: 8, dport: 80, flags: TCP_SYN });
    const atomic = eth(ipv6({ src: src2, dst: VIP6, next: IPPROTO_FRAGMENT, payload: new Uint8Array([...fragmentHeader(IPPROTO_TCP, 0, false, 9), ...seg2]) }));
    const want = eth(ipv6({ src: src2, dst: VIP6, next: IPPROTO_TCP, hopLimit: 63, payload: seg2 }));
    const w = dp.process(atomic, atomic.length, 0);
    expect(w.kind).toBe(VerdictKind.Forward);
    expect([...w.frame!.subarray(12, w.len)]).toEqual([...want.subarray(12)]);
  });

  it('serves IPv4 and IPv6 services side by side; IPv4 goes where it went', () => {
    const dp = plane();
    const vip4 = parseIPv4('10.0.0.100')!;
    const s4 = dp.services.addService({ proto: 'tcp', vip: vip4, port: 80, scheduler: 'rr' });
    dp.services.setNeighbour(parseIPv4('10.0.1.1')!, parseMac('02:00:00:00:01:01')!);
    dp.services.addDest(s4, { addr: parseIPv4('10.0.1.1')!, port: 80, weight: 1 });
    dp.refreshVips();
    // The fold of the VIP6 as an IPv4 address is not a VIP.
    const f4 = tcpFrame({ dstMac: SELF, srcMac: PEER, src: parseIPv4('172.16.0.1')!, dst: vip4, sport: 1, dport: 80, flags: TCP_SYN, ttl: 64 });
    const v4 = dp.process(f4, f4.length, 0);
    expect(v4.kind).toBe(VerdictKind.Forward);
    expect(macOf(f4)).toBe('02:00:00:00:01:01');
    expect(dp.lastWasIPv6).toBe(false);
    const f6 = syn6('2001:db8:1::1', 1);
    expect(dp.process(f6, f6.length, 0).kind).toBe(VerdictKind.Forward);
    expect(dp.lastWasIPv6).toBe(true);
    expect(dp.conns.size).toBe(1);
    expect(dp.conns6.size).toBe(1);
    expect(() => dp.services.addDest(dp.services.services6[0]!, { addr: 1, port: 80, weight: 1 })).toThrow(/IPv6 service/);
    expect(() => dp.services.addDest6(s4, { addr6: parseIPv6('2001:db8::5')!, port: 80, weight: 1 })).toThrow(/IPv4 service/);
    expect(() => dp.services.editService(dp.services.services6[0]!, { persistent: 300 })).toThrow(/persistence is not offered/);
  });

  it('never throws on damaged frames to the VIP6, and a forward never grows the frame', () => {
    const dp = plane();
    const base = syn6('2001:db8:1::1', 1);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length + 40), fc.nat(255)), { maxLength: 12 }),
        fc.integer({ min: 0, max: base.length + 40 }),
        (edits, len) => {
          const f = new Uint8Array(base.length + 40);
          f.set(base);
          // Keep the destination MAC, EtherType and VIP6 so that the frame reaches the IPv6 path.
          for (const [at, b] of edits) if (at >= 14 && (at < 14 + 24 || at >= 14 + 40)) f[at] = b;
          const v = dp.process(f, len, 0);
          expect(DROP_REASON_NAMES[v.reason]).toBeDefined();
          if (v.kind === VerdictKind.Forward) expect(v.len).toBeLessThanOrEqual(len);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('lists every decoder reason among the drop reasons, at Ipv6Decode + its index', () => {
    const base = DROP_REASON_NAMES.indexOf(IPV6_DROP_REASONS[0]);
    expect(base).toBe(25);
    expect(DROP_REASON_NAMES.slice(base, base + IPV6_DROP_REASONS.length)).toEqual([...IPV6_DROP_REASONS]);
    expect(DROP_REASON_NAMES.slice(base + IPV6_DROP_REASONS.length)).toEqual(['ipv6-icmp-truncated', 'ipv6-hop-limit-expired', 'ipv6-icmp-not-handled', 'ndp-invalid', 'ndp-not-answered']);
  });
});
