/**
 * NdpResolver (the IPv6 reals' MACs by Neighbor Discovery) with a fake clock, and the unsolicited
 * advertisements for the VIP6s on the gratuitous ARP plan (GarpAnnouncer with prebuilt frames).
 */
import { describe, expect, it } from 'vitest';
import { GarpAnnouncer, NdpResolver } from '../../src/arp/index.ts';
import { parseIPv6, parseMac, solicitedNode } from '../../src/model/index.ts';
import { buildNeighborAdvertisement, buildNeighborSolicitation, buildUnsolicitedNa, parseNdp } from '../../src/packet/index.ts';

const ip = (s: string): Uint8Array => parseIPv6(s)!;
const mac = (s: string): Uint8Array => parseMac(s)!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const SELF = mac('02:00:00:00:00:01');
const ME = ip('2001:db8::1');
const R1 = ip('2001:db8::21');
const R1_MAC = mac('02:00:00:00:00:21');

function na(o: { from?: Uint8Array; target?: Uint8Array; solicited?: boolean; override?: boolean; toUs?: boolean } = {}): Uint8Array {
  const from = o.from ?? R1_MAC;
  return buildNeighborAdvertisement({
    srcMac: from, dstMac: o.toUs === false ? mac('33:33:00:00:00:01') : SELF, target: o.target ?? R1,
    dstIp: o.toUs === false ? ip('ff02::1') : ME, router: false, solicited: o.solicited ?? true, override: o.override ?? true, tlla: true,
  });
}

describe('NdpResolver', () => {
  it('solicits the solicited-node group 3 times 1 s apart from the sender address, then fails', () => {
    const r = new NdpResolver({ mac: SELF, senderIp: ME });
    r.watch(R1);
    const sent: Array<[number, string, string]> = [];
    for (let t = 0; t <= 3000; t += 100) {
      for (const f of r.tick(t)) {
        const m = parseNdp(f)!;
        sent.push([t, hex(m.dstIp), hex(m.srcIp)]);
        expect(hex(m.target)).toBe(hex(R1));
        expect(hex(m.lladdr!)).toBe(hex(SELF));
      }
    }
    const group = hex(solicitedNode(R1));
    expect(sent).toEqual([[0, group, hex(ME)], [1000, group, hex(ME)], [2000, group, hex(ME)]]);
    expect(r.state(R1)).toBe('failed');
    expect(r.drainEvents()).toEqual([{ kind: 'failed', ip6: R1 }]);
    // A failed entry is retried every 5 s.
    expect(r.tick(7999)).toEqual([]);
    expect(r.tick(8000)).toHaveLength(1);
  });

  it('resolves on a solicited NA to us, refreshes by unicast NS before it goes stale', () => {
    const r = new NdpResolver({ mac: SELF, senderIp: ME });
    r.watch(R1);
    r.tick(0);
    const ev = r.input(na(), 86, 10);
    expect(ev).toEqual({ kind: 'resolved', ip6: R1, mac: R1_MAC });
    expect(r.state(R1)).toBe('reachable');
    expect(hex(r.lookup(R1)!)).toBe(hex(R1_MAC));
    // Unicast probes at 27, 28 and 29 s after the confirmation, to the real's MAC and address.
    expect(r.tick(27_009)).toEqual([]);
    const probe = parseNdp(r.tick(27_010)[0]!)!;
    expect([hex(probe.dstMac), hex(probe.dstIp)]).toEqual([hex(R1_MAC), hex(R1)]);
    // Its answer keeps it reachable, with no event.
    expect(r.input(na(), 86, 27_020)).toBeNull();
    expect(r.state(R1)).toBe('reachable');
  });

  it('learns stale from an unsolicited NA or the real\'s own NS; ignores a new MAC without Override', () => {
    const r = new NdpResolver({ mac: SELF, senderIp: ME });
    r.watch(R1);
    expect(r.input(na({ solicited: false, toUs: false }), 86, 0)?.kind).toBe('resolved');
    expect(r.state(R1)).toBe('stale');
    const other = mac('02:00:00:00:00:99');
    expect(r.input(na({ from: other, override: false }), 86, 10)).toBeNull();
    expect(hex(r.lookup(R1)!)).toBe(hex(R1_MAC));
    const ev = r.input(na({ from: other }), 86, 20);
    expect(ev).toEqual({ kind: 'changed', ip6: R1, mac: other, previous: R1_MAC });

    const r2 = new NdpResolver({ mac: SELF });
    r2.watch(R1);
    const ns = buildNeighborSolicitation({ srcMac: R1_MAC, srcIp: R1, target: ME });
    expect(r2.input(ns, ns.length, 0)).toEqual({ kind: 'resolved', ip6: R1, mac: R1_MAC });
  });

  it('sends nothing without a sender address, and ignores our own and unwatched frames', () => {
    const r = new NdpResolver({ mac: SELF });
    r.watch(R1);
    expect(r.tick(0)).toEqual([]);
    expect(r.input(na({ target: ip('2001:db8::22') }), 86, 0)).toBeNull();
    expect(r.input(na({ from: SELF }), 86, 0)).toBeNull();
    expect(() => r.watch(ip('ff02::1'))).toThrow(/not a unicast/);
  });
});

describe('unsolicited advertisements for the VIP6s', () => {
  it('go out on the gratuitous ARP plan: count instants, intervalMs apart, one NA per VIP6 each', () => {
    const vips = [ip('2001:db8::10'), ip('2001:db8::11')];
    const frames = vips.map((v) => buildUnsolicitedNa(SELF, v, true));
    const a = new GarpAnnouncer({ mac: SELF, ips: [], frames, count: 5, intervalMs: 200 });
    a.start(1000);
    const times: Array<[number, number]> = [];
    for (let i = 0; i < 20; i++) {
      const t = a.nextAt();
      if (t === null) break;
      const out = a.due(t);
      for (const f of out) {
        const m = parseNdp(f)!;
        expect([m.router, m.solicited, m.override, hex(m.dstIp)]).toEqual([true, false, true, hex(ip('ff02::1'))]);
      }
      times.push([t, out.length]);
    }
    expect(times).toEqual([[1000, 2], [1200, 2], [1400, 2], [1600, 2], [1800, 2]]);
  });
});
