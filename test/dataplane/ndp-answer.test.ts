/**
 * Dataplane's answers for a VIP6: Neighbor Solicitations as Linux's ndisc_recv_ns answers them
 * (checked against frames Linux 6.18 sent, test/packet/ndp.test.ts), the checks it makes first, and
 * ICMPv6 echo; a standby director and one that answers no ARP stay silent.
 */
import { describe, expect, it } from 'vitest';
import { Dataplane, DROP_REASON_NAMES, VerdictKind, type Verdict } from '../../src/dataplane/index.ts';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import {
  buildNeighborSolicitation, ethernet, ETHERTYPE_IPV6, icmp6, IPPROTO_ICMPV6, IPPROTO_TCP, ipv6, parseNdp, tcp6, TCP_SYN,
} from '../../src/packet/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ip = (s: string): Uint8Array => parseIPv6(s)!;
const mac = (s: string): Uint8Array => parseMac(s)!;
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The kernel's NS from the client (2001:db8::1, 02:d6:00:00:00:01) for 2001:db8::10, to its solicited-node group. */
const KERNEL_NS = hex(`3333 ff00 0010 02d6 0000 0001 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0001 ff02 0000 0000 0000 0000 0001 ff00 0010 8700 1b35 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0101 02d6 0000 0001`);
/** A DAD probe of r2 for 2001:db8::10 (from ::, with the RFC 7527 nonce option). */
const KERNEL_DAD = hex(`3333 ff00 0010 02d6 0000 0003 86dd 6000 0000 0020 3aff 0000 0000 0000 0000 0000
  0000 0000 0000 ff02 0000 0000 0000 0000 0001 ff00 0010 8700 a2fa 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0e01 7096 140d 1728`);
/** r1 (02:d6:00:00:00:02, holding 2001:db8::10) defending it against that probe. */
const KERNEL_DAD_DEFENCE = hex(`3333 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0010 ff02 0000 0000 0000 0000 0000 0000 0001 8800 f835 2000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0201 02d6 0000 0002`);
/** r1 answering a multicast NS from 2001:db8::1 for its 2001:db8::2: S and O, with its MAC. */
const KERNEL_NA = hex(`02d6 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001 8800 899b 6000 0000 2001
  0db8 0000 0000 0000 0000 0000 0002 0201 02d6 0000 0002`);

const SELF = mac('02:d6:00:00:00:02');
const CLIENT_MAC = mac('02:d6:00:00:00:01');

function plane(o: { vip6?: string; active?: boolean; answerArp?: boolean; router?: boolean } = {}): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, active: o.active, answerArp: o.answerArp, ndpRouter: o.router, connCapacity: 64 });
  dp.services.addService6({ proto: 'tcp', vip6: ip(o.vip6 ?? '2001:db8::10'), port: 80, scheduler: 'rr' });
  return dp;
}
const reason = (v: Verdict): string => DROP_REASON_NAMES[v.reason]!;
const run = (dp: Dataplane, f: Uint8Array): Verdict => dp.process(f.slice(), f.length, 1000);
const reply = (v: Verdict): Uint8Array => v.frame!.slice(0, v.len);

/** Re-checksums an NS after a test changed it (so only the change under test is wrong). */
function resum(f: Uint8Array): Uint8Array {
  const plen = (f[18]! << 8) | f[19]!;
  f[56] = 0;
  f[57] = 0;
  let s = 0;
  for (let i = 22; i < 54; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  s += plen + 58;
  for (let i = 54; i < 54 + plen; i += 2) s += (f[i]! << 8) | (i + 1 < 54 + plen ? f[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  f[56] = c >> 8;
  f[57] = c & 0xff;
  return f;
}

describe('Neighbor Solicitation for a VIP6', () => {
  it('answers a multicast NS as Linux does: the kernel\'s own advertisement, byte for byte', () => {
    const dp = plane({ vip6: '2001:db8::2' });
    const ns = buildNeighborSolicitation({ srcMac: CLIENT_MAC, srcIp: ip('2001:db8::1'), target: ip('2001:db8::2') });
    const v = run(dp, ns);
    expect(v.kind).toBe(VerdictKind.Reply);
    expect(toHex(reply(v))).toBe(toHex(KERNEL_NA));
  });

  it('answers the kernel\'s multicast NS for 2001:db8::10 to the MAC of its source link-layer option', () => {
    const v = run(plane(), KERNEL_NS);
    expect(v.kind).toBe(VerdictKind.Reply);
    const m = parseNdp(reply(v))!;
    expect(toHex(m.dstMac)).toBe(toHex(CLIENT_MAC));
    expect(toHex(m.dstIp)).toBe(toHex(ip('2001:db8::1')));
    expect(toHex(m.srcIp)).toBe(toHex(ip('2001:db8::10')));
    expect([m.router, m.solicited, m.override]).toEqual([false, true, true]);
    expect(toHex(m.lladdr!)).toBe(toHex(SELF));
  });

  it('defends the VIP6 against a DAD probe exactly as Linux does (to all nodes, S=0, O=1)', () => {
    const v = run(plane(), KERNEL_DAD);
    expect(v.kind).toBe(VerdictKind.Reply);
    expect(toHex(reply(v))).toBe(toHex(KERNEL_DAD_DEFENCE));
  });

  it('answers a tagged NS on its VLAN (the tag copied, the rest as untagged)', () => {
    const tagged = Uint8Array.from([...KERNEL_NS.subarray(0, 12), 0x81, 0x00, 0x20, 0x64, ...KERNEL_NS.subarray(12)]);
    const v = run(plane(), tagged);
    expect(v.kind).toBe(VerdictKind.Reply);
    const r = reply(v);
    expect(toHex(r.subarray(12, 16))).toBe('81002064');
    const untagged = reply(run(plane(), KERNEL_NS));
    expect(toHex(Uint8Array.from([...r.subarray(0, 12), ...r.subarray(16)]))).toBe(toHex(untagged));
  });

  it('sets the Router flag when told (forwarding on)', () => {
    const m = parseNdp(reply(run(plane({ router: true }), KERNEL_NS)))!;
    expect(m.router).toBe(true);
  });

  it('answers a unicast NS (NUD) with S=1, O=0 and no option, to the frame\'s source when it has no option', () => {
    const ns = buildNeighborSolicitation({ srcMac: CLIENT_MAC, srcIp: ip('2001:db8::1'), target: ip('2001:db8::10'), unicast: { dstMac: SELF, dstIp: ip('2001:db8::10') } });
    // Without the source link-layer option: cut it off (payload 24) and re-checksum.
    const bare = resum(Uint8Array.from([...ns.subarray(0, 14 + 40 + 24)]));
    bare[19] = 24;
    resum(bare);
    for (const f of [ns, bare]) {
      const v = run(plane(), f);
      expect(v.kind).toBe(VerdictKind.Reply);
      const m = parseNdp(reply(v))!;
      expect(toHex(m.dstMac)).toBe(toHex(CLIENT_MAC));
      expect([m.solicited, m.override, m.lladdr]).toEqual([true, false, null]);
      expect(v.len).toBe(78);
    }
  });

  it('drops what ndisc ignores under ndp-invalid, each for one reason', () => {
    const bad: Array<[string, (f: Uint8Array) => void]> = [
      ['hop limit 254', (f) => { f[21] = 254; }],
      ['code 1', (f) => { f[55] = 1; resum(f); }],
      ['bad checksum', (f) => { f[57] ^= 1; }],
      ['option of length 0', (f) => { f[79] = 0; resum(f); }],
      ['option past the end', (f) => { f[79] = 2; resum(f); }],
      ['source link-layer option of 16 bytes', (f) => { f[19] = 40; f[79] = 2; resum(f); }],
    ];
    for (const [what, change] of bad) {
      const f = new Uint8Array(KERNEL_NS.length + 8);
      f.set(KERNEL_NS);
      change(f);
      const v = run(plane(), f.subarray(0, 14 + 40 + ((f[18]! << 8) | f[19]!)));
      expect([what, v.kind, reason(v)]).toEqual([what, VerdictKind.Drop, 'ndp-invalid']);
    }
    // A DAD probe (from ::) with a source link-layer option, and one sent to all nodes.
    const dadWithOption = KERNEL_DAD.slice();
    dadWithOption[78] = 1;
    resum(dadWithOption);
    const dadToAll = KERNEL_DAD.slice();
    dadToAll.set(ip('ff02::1'), 38);
    dadToAll.set([0x33, 0x33, 0, 0, 0, 1], 0);
    resum(dadToAll);
    for (const f of [dadWithOption, dadToAll]) expect(reason(run(plane(), f))).toBe('ndp-invalid');
    // The valid frames themselves are answered (the mutations, not the fixtures, were wrong).
    expect(run(plane(), KERNEL_NS).kind).toBe(VerdictKind.Reply);
  });

  it('leaves an NS for any other address to the host, and stays silent when standby or not answering', () => {
    const other = buildNeighborSolicitation({ srcMac: CLIENT_MAC, srcIp: ip('2001:db8::1'), target: ip('2001:db8::99') });
    const v = run(plane(), other);
    expect([v.kind, reason(v)]).toEqual([VerdictKind.Pass, 'not-a-vip']);
    const standby = run(plane({ active: false }), KERNEL_NS);
    expect([standby.kind, reason(standby)]).toEqual([VerdictKind.Drop, 'inactive']);
    const ecmp = run(plane({ answerArp: false }), KERNEL_NS);
    expect([ecmp.kind, reason(ecmp)]).toEqual([VerdictKind.Drop, 'ndp-not-answered']);
    const dad = run(plane({ active: false }), KERNEL_DAD);
    expect(dad.kind).toBe(VerdictKind.Drop);
    // A unicast NS to another host's MAC (promiscuous capture).
    const ns = buildNeighborSolicitation({ srcMac: CLIENT_MAC, srcIp: ip('2001:db8::1'), target: ip('2001:db8::10'), unicast: { dstMac: mac('02:00:00:00:00:77'), dstIp: ip('2001:db8::10') } });
    expect(reason(run(plane(), ns))).toBe('not-our-mac');
  });
});

describe('ICMPv6 echo to a VIP6', () => {
  const src = '2001:db8:1::5';
  const vip = '2001:db8::10';
  function echo(o: { dstMac?: Uint8Array; corrupt?: boolean } = {}): Uint8Array {
    const body = Uint8Array.of(0xab, 0xcd, 0, 3, 1, 2, 3, 4, 5);
    const p = ipv6({ src, dst: vip, next: IPPROTO_ICMPV6, hopLimit: 50, payload: icmp6(src, vip, 128, 0, body) });
    const f = ethernet(o.dstMac ?? SELF, CLIENT_MAC, ETHERTYPE_IPV6, p);
    if (o.corrupt) f[f.length - 1] ^= 0xff;
    return f;
  }

  it('answers from the VIP6 with hop limit 64 and counts it as an ICMP reply', () => {
    const dp = plane();
    const v = run(dp, echo());
    expect(v.kind).toBe(VerdictKind.Reply);
    expect(v.icmp).toBe(true);
    const r = reply(v);
    expect(r[21]).toBe(64);
    expect(r[54]).toBe(129);
    expect(toHex(r.subarray(22, 38))).toBe(toHex(ip(vip)));
    expect(toHex(r.subarray(58))).toBe('abcd0003010203040' + '5');
    expect(dp.icmpReplies).toBe(1);
  });

  it('drops a bad checksum, and says nothing while standby or for another MAC', () => {
    expect(reason(run(plane(), echo({ corrupt: true })))).toBe('bad-icmp-checksum');
    expect(reason(run(plane({ active: false }), echo()))).toBe('inactive');
    expect(reason(run(plane(), echo({ dstMac: mac('02:00:00:00:00:77') })))).toBe('not-our-mac');
  });

  it('keeps TCP to the VIP6 on the service path (the ICMPv6 hook takes only ICMPv6)', () => {
    const p = ipv6({ src, dst: vip, next: IPPROTO_TCP, payload: tcp6({ src, dst: vip, sport: 1234, dport: 80, flags: TCP_SYN }) });
    const f = ethernet(SELF, CLIENT_MAC, ETHERTYPE_IPV6, p);
    expect(reason(run(plane(), f))).toBe('no-real-available');
  });
});
