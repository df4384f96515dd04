/**
 * DirectorPacketPath with IPv6 services, over a fake FrameIO and clock: unsolicited NAs for the
 * VIP6s with the gratuitous ARP, the IPv6 reals resolved by NDP (neigh events with ip6), NS and
 * echo for the VIP6 answered only while active, IPv6 reals on this host through the local path,
 * and with N workers the reals' NDP frames shared as ARP frames are.
 */
import { describe, expect, it } from 'vitest';
import { DirectorPacketPath, type FromPacket, type PacketPathInit } from '../../src/engine/index.ts';
import { macToString, parseIPv6, parseMac, solicitedNode } from '../../src/model/index.ts';
import {
  buildNeighborAdvertisement, buildNeighborSolicitation, ethernet, ETHERTYPE_IPV6, icmp6, IPPROTO_ICMPV6, IPPROTO_TCP, ipv6, parseNdp, tcp6, TCP_SYN,
} from '../../src/packet/index.ts';
import type { FrameIO, FrameIOStats } from '../../src/ports/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const ip = (s: string): Uint8Array => parseIPv6(s)!;
const mac = (s: string): Uint8Array => parseMac(s)!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const SELF = mac('02:00:00:00:00:01');
const CLIENT_MAC = mac('02:00:00:00:00:99');
const VIP6 = '2001:db8::10';
const REAL6 = '2001:db8::21';
const REAL_MAC = mac('02:00:00:00:00:21');
const ME6 = '2001:db8::1';


class FakeIO implements FrameIO {
  readonly iface = 'eth0';
  closed = false;
  readonly sent: { at: number; frame: Uint8Array }[] = [];
  constructor(private readonly clock: FakeClock, readonly mac = SELF) {}
  onFrame(): void {}
  send(frame: Uint8Array, len?: number): boolean {
    this.sent.push({ at: this.clock.now(), frame: frame.slice(0, len ?? frame.length) });
    return true;
  }
  close(): void { this.closed = true; }
  stats(): FrameIOStats { return { received: 0, sent: this.sent.length, sendErrors: 0, truncated: 0, unhandled: 0 }; }
  /** The NDP frames sent, decoded. */
  ndp() { return this.sent.flatMap((s) => { const m = parseNdp(s.frame); return m ? [{ at: s.at, ...m }] : []; }); }
}

function init(o: Partial<PacketPathInit> = {}): PacketPathInit {
  return {
    services: [],
    services6: [{ spec: { proto: 'tcp', vip6: ip(VIP6), port: 80, scheduler: 'rr' }, reals: [{ addr6: ip(REAL6), port: 80, weight: 1 }] }],
    ndpSenderIp6: ME6,
    localAddrs: [],
    arpSenderIp: 0,
    garp: { count: 3, intervalMs: 10 },
    active: true,
    connCapacity: 256,
    tickMs: 100,
    ...o,
  };
}

function start(o: Partial<PacketPathInit> = {}, localIo: FakeIO | null = null) {
  const clock = new FakeClock();
  const io = new FakeIO(clock);
  const posted: FromPacket[] = [];
  const pp = new DirectorPacketPath(init(o), io, localIo, (m) => posted.push(m), clock);
  return { clock, io, posted, pp };
}

const feed = (pp: DirectorPacketPath, f: Uint8Array): void => pp.onFrame(Buffer.from(f), f.length);

function realNa(): Uint8Array {
  return buildNeighborAdvertisement({ srcMac: REAL_MAC, dstMac: SELF, target: ip(REAL6), dstIp: ip(ME6), router: false, solicited: true, override: true, tlla: true });
}

function syn(): Uint8Array {
  const src = '2001:db8:1::5';
  const p = ipv6({ src, dst: VIP6, next: IPPROTO_TCP, payload: tcp6({ src, dst: VIP6, sport: 4000, dport: 80, flags: TCP_SYN }) });
  return ethernet(SELF, CLIENT_MAC, ETHERTYPE_IPV6, p);
}

describe('DirectorPacketPath with IPv6 services', () => {
  it('announces the VIP6 by unsolicited NA on the gratuitous ARP plan and solicits the real from ndpSenderIp6', () => {
    const { clock, io } = start({ ndpRouter: true });
    clock.advance(50);
    const nas = io.ndp().filter((m) => m.type === 136);
    expect(nas.map((m) => m.at)).toEqual([0, 10, 20]);
    for (const m of nas) {
      expect([hex(m.target), hex(m.dstIp), m.solicited, m.override, m.router]).toEqual([hex(ip(VIP6)), hex(ip('ff02::1')), false, true, true]);
    }
    const ns = io.ndp().filter((m) => m.type === 135);
    expect(ns.length).toBe(1);
    expect([hex(ns[0]!.target), hex(ns[0]!.dstIp), hex(ns[0]!.srcIp)]).toEqual([hex(ip(REAL6)), hex(solicitedNode(ip(REAL6))), hex(ip(ME6))]);
  });

  it('learns the real\'s MAC from its NA (neigh event with ip6), then forwards a SYN to it', () => {
    const { io, posted, pp } = start();
    feed(pp, realNa());
    expect(posted).toContainEqual({ ev: 'neigh', kind: 'resolved', ip: expect.any(Number), ip6: REAL6, mac: macToString(REAL_MAC) });
    io.sent.length = 0;
    feed(pp, syn());
    expect(io.sent.length).toBe(1);
    expect(hex(io.sent[0]!.frame.subarray(0, 6))).toBe(hex(REAL_MAC));
    expect(pp.snapshot(false).services[0]!.reals[0]!.mac).toBe(macToString(REAL_MAC));
  });

  it('answers an NS and an echo request for the VIP6 while active; silent while standby until setActive(true)', () => {
    const ns = buildNeighborSolicitation({ srcMac: CLIENT_MAC, srcIp: ip('2001:db8::5'), target: ip(VIP6) });
    const src = '2001:db8::5';
    const e = ipv6({ src, dst: VIP6, next: IPPROTO_ICMPV6, payload: icmp6(src, VIP6, 128, 0, Uint8Array.of(0, 1, 0, 1)) });
    const echo = new Uint8Array(14 + e.length);
    echo.set(SELF, 0);
    echo.set(CLIENT_MAC, 6);
    echo.set([0x86, 0xdd], 12);
    echo.set(e, 14);

    const a = start();
    a.io.sent.length = 0;
    feed(a.pp, ns);
    feed(a.pp, echo);
    expect(a.io.sent.map((s) => s.frame[54])).toEqual([136, 129]);
    const snap = a.pp.snapshot(false);
    expect([snap.arpReplies, snap.icmpReplies]).toEqual([1, 1]);

    const b = start({ active: false });
    b.clock.advance(50);
    expect(b.io.ndp().filter((m) => m.type === 136)).toEqual([]);
    feed(b.pp, ns);
    feed(b.pp, echo);
    expect(b.io.sent.filter((s) => s.frame[54] === 136 || s.frame[54] === 129)).toEqual([]);
    b.pp.onMessage({ op: 'setActive', id: 1, active: true });
    b.clock.advance(50);
    expect(b.io.ndp().filter((m) => m.type === 136 && !m.solicited).length).toBe(3);
  });

  it('serves an IPv6 real on this host through the local path (its MAC the local peer\'s, hop limit kept)', () => {
    const clock = new FakeClock();
    const localIo = new FakeIO(clock, mac('02:00:00:00:00:aa'));
    const { io, pp } = start({ localAddrs6: [REAL6], localPeerMac: '02:00:00:00:00:bb' }, localIo);
    expect(io.ndp().filter((m) => m.type === 135)).toEqual([]); // a local real is not solicited
    const f = syn();
    feed(pp, f);
    expect(localIo.sent.length).toBe(1);
    const out = localIo.sent[0]!.frame;
    expect(macToString(out.subarray(0, 6))).toBe('02:00:00:00:00:bb');
    expect(out[21]).toBe(f[21]);
    const r = pp.snapshot(false).services[0]!.reals[0]!;
    expect([r.local, r.mac]).toEqual([true, '02:00:00:00:00:bb']);
  });

  it('with N workers: only worker 0 solicits and announces; a real\'s NA is shared (ev arp) and taken back (op arpInput)', () => {
    const w1 = start({ worker: { index: 1, count: 2 } });
    w1.clock.advance(50);
    expect(w1.io.ndp()).toEqual([]);
    feed(w1.pp, realNa());
    const shared = w1.posted.find((m) => m.ev === 'arp') as { ev: 'arp'; frame: Uint8Array } | undefined;
    expect(shared).toBeDefined();
    expect(hex(shared!.frame)).toBe(hex(realNa()));

    const w0 = start({ worker: { index: 0, count: 2 } });
    w0.pp.onMessage({ op: 'arpInput', id: 7, frame: shared!.frame });
    expect(w0.posted).toContainEqual({ ev: 'neigh', kind: 'resolved', ip: expect.any(Number), ip6: REAL6, mac: macToString(REAL_MAC) });
    expect(w0.posted).toContainEqual({ ev: 'reply', id: 7, ok: true, snapshot: undefined });
  });

  it('reports another host advertising a VIP6 (ev arpVip with ip6), at most once a second per VIP6; not its own NAs', () => {
    const { clock, posted, pp } = start();
    const other = parseMac('02:d5:00:00:00:08')!;
    const claim = () => buildNeighborAdvertisement({ srcMac: other, dstMac: parseMac('33:33:00:00:00:01')!, target: ip(VIP6), dstIp: ip('ff02::1'), router: false, solicited: false, override: true, tlla: true });
    feed(pp, claim());
    feed(pp, claim());
    const claims = () => posted.filter((m) => m.ev === 'arpVip');
    expect(claims()).toEqual([{ ev: 'arpVip', ip: expect.any(Number), ip6: VIP6, mac: macToString(other), op: 'reply', active: true }]);
    clock.advance(1000);
    feed(pp, claim());
    expect(claims().length).toBe(2);
    // Its own announcement, seen again on the wire, is not a claim; nor is an NA for a real.
    feed(pp, buildNeighborAdvertisement({ srcMac: SELF, dstMac: parseMac('33:33:00:00:00:01')!, target: ip(VIP6), dstIp: ip('ff02::1'), router: false, solicited: false, override: true, tlla: true }));
    feed(pp, realNa());
    clock.advance(1000);
    feed(pp, buildNeighborAdvertisement({ srcMac: SELF, dstMac: parseMac('33:33:00:00:00:01')!, target: ip(VIP6), dstIp: ip('ff02::1'), router: false, solicited: false, override: true, tlla: true }));
    expect(claims().length).toBe(2);
  });
});
