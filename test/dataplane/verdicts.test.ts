/**
 * The data path as a table of fixtures, katran style: {description, input frame, expected verdict,
 * expected output bytes}. One director (MAC 02:00:00:00:00:01), VIP 10.0.0.100 with TCP :80 (rr over
 * two remote reals and this host) and UDP :53; real MACs known.
 */
import { describe, expect, it } from 'vitest';
import { Dataplane, DROP_REASON_NAMES, VerdictKind } from '../../src/dataplane/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { tcpFrame, udpFrame, icmpEchoFrame, arpRequest, internetChecksum } from '../../src/packet/index.ts';

const SELF = '02:00:00:00:00:01';
const CLIENT = '02:00:00:00:00:0a';
const R1 = { ip: '10.0.0.21', mac: '02:00:00:00:00:15' };
const R2 = { ip: '10.0.0.22', mac: '02:00:00:00:00:16' };
const LOCAL = { ip: '10.0.0.2', mac: '02:00:00:00:00:99' };
const ip = (s: string) => parseIPv4(s)!;

function plane(opts: { sloppy?: boolean; local?: boolean; capacity?: number } = {}) {
  const dp = new Dataplane({
    selfMac: parseMac(SELF)!,
    localAddrs: opts.local ? [ip(LOCAL.ip)] : [],
    sysctls: { sloppyTcp: opts.sloppy ?? false },
    connCapacity: opts.capacity ?? 4096,
  });
  const web = dp.services.addService({ proto: 'tcp', vip: ip('10.0.0.100'), port: 80, scheduler: 'rr' });
  for (const r of opts.local ? [R1, R2, LOCAL] : [R1, R2]) {
    dp.services.setNeighbour(ip(r.ip), parseMac(r.mac)!);
    dp.services.addDest(web, { addr: ip(r.ip), port: 80, weight: 1 });
  }
  const dns = dp.services.addService({ proto: 'udp', vip: ip('10.0.0.100'), port: 53, scheduler: 'rr' });
  dp.services.addDest(dns, { addr: ip(R1.ip), port: 53, weight: 1 });
  dp.refreshVips();
  return dp;
}

const syn = (o: Record<string, unknown> = {}) => tcpFrame({ srcMac: CLIENT, dstMac: SELF, flags: 'SYN', ...o });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Fixture {
  description: string;
  setup?: Parameters<typeof plane>[0];
  before?: Uint8Array[];
  input: Uint8Array;
  verdict: VerdictKind;
  reason?: string;
  /** Expected bytes sent (Forward/Local/Reply), or a check on them. */
  output?: (inp: Uint8Array, out: Uint8Array) => void;
}

/** What DR forwarding must produce from `inp`: new MACs, TTL - 1, checksum fixed, nothing else. */
function drRewrite(mac: string, vlan = false) {
  return (inp: Uint8Array, out: Uint8Array) => {
    const l3 = vlan ? 18 : 14;
    const exp = Uint8Array.from(inp);
    exp.set(parseMac(mac)!, 0);
    exp.set(parseMac(SELF)!, 6);
    exp[l3 + 8] = inp[l3 + 8]! - 1;
    // full header checksum recompute for the expectation
    exp[l3 + 10] = 0;
    exp[l3 + 11] = 0;
    let s = 0;
    const ihl = (exp[l3]! & 15) * 4;
    for (let i = l3; i < l3 + ihl; i += 2) s += (exp[i]! << 8) | exp[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    exp[l3 + 10] = (~s >> 8) & 0xff;
    exp[l3 + 11] = ~s & 0xff;
    expect(hex(out)).toBe(hex(exp));
  };
}

const FIXTURES: Fixture[] = [
  { description: 'SYN to the service: scheduled (rr: newest real first) and forwarded with DR rewrite', input: syn(), verdict: VerdictKind.Forward, output: drRewrite(R2.mac) },
  { description: 'SYN behind an 802.1Q tag: the tag stays, the rewrite is the same', input: syn({ vlan: 42 }), verdict: VerdictKind.Forward, output: drRewrite(R2.mac, true) },
  { description: 'SYN with IPv4 options: scheduled like any SYN (as the kernel does)', input: syn({ ipOptions: Uint8Array.from([1, 1, 1, 0]) }), verdict: VerdictKind.Forward, output: drRewrite(R2.mac) },
  { description: 'later packet of the flow: same real', before: [syn()], input: syn({ flags: 'ACK' }), verdict: VerdictKind.Forward, output: drRewrite(R2.mac) },
  { description: 'ACK of an unknown flow: not scheduled', input: syn({ flags: 'ACK' }), verdict: VerdictKind.Drop, reason: 'no-connection' },
  { description: 'ACK of an unknown flow with sloppy_tcp: scheduled', setup: { sloppy: true }, input: syn({ flags: 'ACK' }), verdict: VerdictKind.Forward, output: drRewrite(R2.mac) },
  { description: 'RST of an unknown flow, even with sloppy_tcp: not scheduled', setup: { sloppy: true }, input: syn({ flags: 'RST' }), verdict: VerdictKind.Drop, reason: 'no-connection' },
  { description: 'UDP to the UDP service: forwarded', input: udpFrame({ srcMac: CLIENT, dstMac: SELF, dport: 53, payload: 'q' }), verdict: VerdictKind.Forward, output: drRewrite(R1.mac) },
  { description: 'TCP to a port with no service', input: syn({ dport: 81 }), verdict: VerdictKind.Drop, reason: 'not-a-service' },
  { description: 'UDP to a TCP-only port', input: udpFrame({ srcMac: CLIENT, dstMac: SELF, dport: 80 }), verdict: VerdictKind.Drop, reason: 'not-a-service' },
  {
    description: 'ICMP echo to the VIP: the director answers, from the VIP, with the same id, sequence and data',
    input: icmpEchoFrame({ srcMac: CLIENT, dstMac: SELF, id: 1, seq: 7, payload: 'abc' }),
    verdict: VerdictKind.Reply,
    output: (inp, out) => {
      expect(hex(out.subarray(0, 12))).toBe(hex(parseMac(CLIENT)!) + hex(parseMac(SELF)!));
      expect([...out.subarray(26, 34)]).toEqual([...inp.subarray(30, 34), ...inp.subarray(26, 30)]); // addresses swapped
      expect(out[34]).toBe(0); // echo reply
      expect(hex(out.subarray(38))).toBe(hex(inp.subarray(38))); // id, sequence, data
      expect(internetChecksum(out, 14, 20)).toBe(0);
      expect(internetChecksum(out, 34, out.length - 34)).toBe(0);
    },
  },
  {
    description: 'TTL 1: scheduled, not sent on; ICMP time exceeded back to the client quoting the header + 8 bytes',
    input: syn({ ttl: 1 }),
    verdict: VerdictKind.Reply,
    reason: 'ttl-expired',
    output: (inp, out) => {
      expect(hex(out.subarray(0, 6))).toBe(hex(parseMac(CLIENT)!));
      expect([out[34], out[35]]).toEqual([11, 0]);
      expect(hex(out.subarray(42))).toBe(hex(inp.subarray(14, 14 + 28)));
      expect(internetChecksum(out, 34, out.length - 34)).toBe(0);
    },
  },
  { description: 'a wrong IPv4 header checksum: dropped before IPVS, as ip_rcv does', input: (() => { const f = syn(); f[24] ^= 0x55; return f; })(), verdict: VerdictKind.Drop, reason: 'bad-ip-checksum' },
  { description: 'IPv4 options that do not parse (option length past the header)', input: syn({ ipOptions: Uint8Array.from([7, 39, 4, 0]) }), verdict: VerdictKind.Drop, reason: 'bad-ip-options' },
  { description: 'a later IPv4 fragment alone: held for reassembly', input: syn({ ip: { fragOffset: 2 } }), verdict: VerdictKind.Drop, reason: 'fragment-held' },
  {
    description: 'Ethernet padding past the IPv4 length is not sent on (ip_rcv trims it)',
    input: (() => { const f = syn(); const p = new Uint8Array(f.length + 6).fill(0xaa); p.set(f); return p; })(),
    verdict: VerdictKind.Forward,
    output: (inp, out) => drRewrite(R2.mac)(inp.subarray(0, inp.length - 6), out),
  },
  { description: 'to the VIP but another host\'s MAC (promiscuous capture)', input: syn({ dstMac: '02:00:00:00:00:77' }), verdict: VerdictKind.Drop, reason: 'not-our-mac' },
  { description: 'truncated inside the TCP header', input: syn().subarray(0, 40), verdict: VerdictKind.Drop, reason: 'malformed' },
  { description: 'IPv4 not to a VIP: the host\'s business', input: syn({ dst: '10.0.0.200' }), verdict: VerdictKind.Pass, reason: 'not-a-vip' },
  { description: 'a reply FROM the VIP reaching the director: DSR broken somewhere', input: tcpFrame({ src: '10.0.0.100', dst: '10.0.0.10', sport: 80, dport: 40000, flags: 'SYN|ACK', dstMac: SELF }), verdict: VerdictKind.Drop, reason: 'from-vip' },
  { description: 'not IPv4 or ARP (IPv6 ethertype)', input: (() => { const f = syn(); f[12] = 0x86; f[13] = 0xdd; return f; })(), verdict: VerdictKind.Pass, reason: 'not-ipv4' },
  {
    description: 'ARP who-has VIP: answered with the director\'s MAC',
    input: arpRequest({ senderMac: parseMac(CLIENT)!, senderIp: ip('10.0.0.10'), targetIp: ip('10.0.0.100') }),
    verdict: VerdictKind.Reply,
    output: (_i, out) => {
      expect(hex(out.subarray(0, 6))).toBe(hex(parseMac(CLIENT)!));
      expect(out[21]).toBe(2); // op reply
      expect(hex(out.subarray(22, 28))).toBe(hex(parseMac(SELF)!));
      expect([...out.subarray(28, 32)]).toEqual([10, 0, 0, 100]);
    },
  },
  { description: 'ARP who-has another address: ignored', input: arpRequest({ senderMac: parseMac(CLIENT)!, senderIp: ip('10.0.0.10'), targetIp: ip('10.0.0.21') }), verdict: VerdictKind.Pass, reason: 'arp-ignored' },
  {
    description: 'flow scheduled to this host: Local, destination MAC = the local path, TTL untouched',
    setup: { local: true },
    // rr walks the kernel's list, newest first: this host's real was added last, so it comes first.
    input: syn({ sport: 3 }),
    verdict: VerdictKind.Local,
    output: (inp, out) => {
      const exp = Uint8Array.from(inp);
      exp.set(parseMac(LOCAL.mac)!, 0);
      expect(hex(out)).toBe(hex(exp));
    },
  },
];

describe.each(FIXTURES)('$description', (f) => {
  it('gives the expected verdict and bytes', () => {
    const dp = plane(f.setup);
    for (const b of f.before ?? []) dp.process(Uint8Array.from(b), b.length, 1000);
    const input = Uint8Array.from(f.input);
    const v = dp.process(input, input.length, 2000);
    expect(v.kind).toBe(f.verdict);
    if (f.reason) expect(DROP_REASON_NAMES[v.reason]).toBe(f.reason);
    if (f.output) f.output(f.input, v.frame!.subarray(0, v.len));
    // Past the Ethernet addresses, only TTL and checksum may change on a forward.
    if (v.kind === VerdictKind.Forward) {
      const l3 = f.input[12] === 0x81 ? 18 : 14;
      for (let i = 12; i < v.len; i++) {
        if (i === l3 + 8 || i === l3 + 10 || i === l3 + 11) continue;
        expect(input[i]).toBe(f.input[i]);
      }
    }
  });
});

describe('data path state', () => {
  it('a standby director answers no ping and sends no time exceeded; the active one counts what it answered', () => {
    const dp = plane();
    dp.setActive(false);
    const echo = icmpEchoFrame({ srcMac: CLIENT, dstMac: SELF, id: 1, seq: 1 });
    let v = dp.process(Uint8Array.from(echo), echo.length, 0);
    expect([v.kind, DROP_REASON_NAMES[v.reason]]).toEqual([VerdictKind.Drop, 'inactive']);
    v = dp.process(Uint8Array.from(syn({ ttl: 1 })), syn().length, 0);
    expect([v.kind, DROP_REASON_NAMES[v.reason]]).toEqual([VerdictKind.Drop, 'inactive']);
    expect(dp.icmpReplies).toBe(0);
    dp.setActive(true);
    expect(dp.process(Uint8Array.from(echo), echo.length, 0).kind).toBe(VerdictKind.Reply);
    expect(dp.process(Uint8Array.from(syn({ ttl: 1, sport: 9 })), syn().length, 0).kind).toBe(VerdictKind.Reply);
    expect(dp.icmpReplies).toBe(2);
  });

  it('weight 0 (quiescent): known flows go on, new flows avoid the real', () => {
    const dp = plane();
    const a = syn({ sport: 1000 });
    expect(dp.process(Uint8Array.from(a), a.length, 0).dest!.addr).toBe(ip(R2.ip));
    const svc = dp.services.find(6, ip('10.0.0.100'), 80)!;
    dp.services.editDest(svc, dp.services.findDest(svc, ip(R2.ip), 80)!, { weight: 0 });
    const ack = syn({ sport: 1000, flags: 'ACK' });
    expect(dp.process(Uint8Array.from(ack), ack.length, 1).dest!.addr).toBe(ip(R2.ip));
    for (let p = 2000; p < 2010; p++) {
      const s = syn({ sport: p });
      expect(dp.process(Uint8Array.from(s), s.length, 2).dest!.addr).toBe(ip(R1.ip));
    }
  });

  it('removed real: its flows are dropped (expire_nodest_conn=0); re-added: they go on', () => {
    const dp = plane();
    const a = syn({ sport: 1000 });
    dp.process(Uint8Array.from(a), a.length, 0);
    const svc = dp.services.find(6, ip('10.0.0.100'), 80)!;
    const d = dp.services.findDest(svc, ip(R2.ip), 80)!;
    dp.services.deleteDest(svc, d);
    const ack = syn({ sport: 1000, flags: 'ACK' });
    const v = dp.process(Uint8Array.from(ack), ack.length, 1);
    expect(DROP_REASON_NAMES[v.reason]).toBe('real-removed');
    dp.services.addDest(svc, { addr: ip(R2.ip), port: 80, weight: 1 });
    expect(dp.process(Uint8Array.from(ack), ack.length, 2).kind).toBe(VerdictKind.Forward);
  });

  it('no real available: every real quiescent', () => {
    const dp = plane();
    const svc = dp.services.find(6, ip('10.0.0.100'), 80)!;
    for (const d of svc.dests) dp.services.editDest(svc, d, { weight: 0 });
    const s = syn();
    expect(DROP_REASON_NAMES[dp.process(Uint8Array.from(s), s.length, 0).reason]).toBe('no-real-available');
  });

  it('an unresolved real gets no new flows; its MAC learnt, it does', () => {
    const dp = plane();
    dp.services.setNeighbour(ip(R2.ip), null);
    for (let p = 1; p <= 4; p++) {
      const s = syn({ sport: p });
      expect(dp.process(Uint8Array.from(s), s.length, 0).dest!.addr).toBe(ip(R1.ip));
    }
    dp.services.setNeighbour(ip(R2.ip), parseMac(R2.mac)!);
    const seen = new Set<number>();
    for (let p = 10; p < 14; p++) {
      const s = syn({ sport: p });
      seen.add(dp.process(Uint8Array.from(s), s.length, 0).dest!.addr);
    }
    expect(seen).toEqual(new Set([ip(R1.ip), ip(R2.ip)]));
  });

  it('a full table of plain connections evicts (our bound; the kernel has none): every SYN forwarded, evictions counted, no table-full', () => {
    const dp = plane({ capacity: 4 });
    const kinds: VerdictKind[] = [];
    for (let p = 1; p <= 50; p++) {
      const s = syn({ sport: p });
      kinds.push(dp.process(Uint8Array.from(s), s.length, 0).kind);
    }
    expect(kinds.filter((k) => k !== VerdictKind.Forward)).toEqual([]);
    expect(dp.conns.size).toBe(4);
    expect(dp.conns.evictions).toBe(46);
    expect(dp.conns.insertFailures).toBe(0);
    expect(dp.dropCounts[DROP_REASON_NAMES.indexOf('table-full')]).toBe(0);
  });

  it('a full table with nothing evictable (capacity 1, persistence: the template being attached holds the only slot): table-full drop, counted', () => {
    const dp = plane({ capacity: 1 });
    dp.services.editService(dp.services.services.find((x) => x.port === 80)!, { persistent: 300 });
    const reasons: string[] = [];
    for (let p = 1; p <= 5; p++) {
      const s = syn({ sport: p });
      const v = dp.process(Uint8Array.from(s), s.length, 0);
      reasons.push(v.kind === VerdictKind.Drop ? DROP_REASON_NAMES[v.reason]! : `kind ${v.kind}`);
    }
    expect(reasons).toEqual(Array(5).fill('table-full'));
    expect(dp.dropCounts[DROP_REASON_NAMES.indexOf('table-full')]).toBe(5);
    expect(dp.conns.insertFailures).toBe(5);
    expect(dp.conns.size).toBe(1); // the template
  });

  it('standby: forwards nothing and does not answer ARP', () => {
    const dp = plane();
    dp.setActive(false);
    const s = syn();
    expect(DROP_REASON_NAMES[dp.process(Uint8Array.from(s), s.length, 0).reason]).toBe('inactive');
    const a = arpRequest({ senderMac: parseMac(CLIENT)!, senderIp: ip('10.0.0.10'), targetIp: ip('10.0.0.100') });
    expect(dp.process(Uint8Array.from(a), a.length, 0).kind).toBe(VerdictKind.Pass);
  });
});
