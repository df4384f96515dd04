import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DsrlbError } from '../../src/errors/index.ts';
import { ipToString, macToString } from '../../src/model/index.ts';
import {
  FrameInfo,
  arpReply,
  arpRequest,
  decodeFrame,
  decrementTtl,
  ethernet,
  icmpEchoFrame,
  ipv4,
  padFrame,
  parseFrame,
  synOptions,
  tcp,
  tcpChecksumOk,
  tcpFrame,
  udp,
  udpChecksumOk,
  udpFrame,
} from '../../src/packet/index.ts';
import { arbCommon, arbIcmpFields, arbIp, arbMac, arbTcpFields, arbUdpFields, arbValidFrame } from './arbitraries.ts';
import { GOOD } from './fixtures.ts';
import { hex, toHex } from './helpers.ts';

const CLIENT = '02:00:00:00:00:0a';
const DIRECTOR = '02:00:00:00:00:01';
const FLAG_ORDER = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const;
const seq16 = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => from + i);

describe('builders reproduce the independently written fixtures byte for byte', () => {
  const whole = udp({ src: '10.0.0.10', dst: '10.0.0.100', sport: 4000, dport: 4001, payload: seq16(0x40, 40) });
  const cases: Array<[string, Uint8Array, Uint8Array]> = [
    [GOOD[0]!.description, GOOD[0]!.bytes,
      tcpFrame({ srcMac: CLIENT, dstMac: DIRECTOR, ipId: 0x1234, seq: 0x11223344, flags: 'SYN', window: 64240, options: synOptions({ tsVal: 123456 }) })],
    [GOOD[1]!.description, GOOD[1]!.bytes,
      tcpFrame({ vlan: { id: 100, pcp: 3 }, ipId: 0x1234, seq: 0x11223344, flags: ['SYN'], window: 64240, options: synOptions({ tsVal: 123456 }) })],
    [GOOD[2]!.description, GOOD[2]!.bytes,
      tcpFrame({ ttl: 63, ipId: 0x1235, seq: 0x11223345, ack: 0xaabbccdd, flags: 'PSH|ACK', window: 502, payload: 'GET / HTTP/1.0\r\n\r\n' })],
    [GOOD[3]!.description, GOOD[3]!.bytes,
      tcpFrame({ tos: 0x10, ipId: 0x1234, ipOptions: hex('070b04' + '00'.repeat(8)) /* record route, 11 bytes: padded by the builder */, sport: 40001, seq: 7, flags: 0x02, window: 64240 })],
    [GOOD[4]!.description, GOOD[4]!.bytes,
      udpFrame({ ipId: 0x42, sport: 5353, dport: 53, payload: hex('abcd01000001000000000000'), pad: true })],
    [GOOD[5]!.description, GOOD[5]!.bytes, udpFrame({ ipId: 7, sport: 1000, dport: 2000, payload: 'x'.repeat(20), checksum: false })],
    [GOOD[6]!.description, GOOD[6]!.bytes, icmpEchoFrame({ ipId: 0x100, df: true, id: 0x1234, seq: 1, payload: seq16(0, 16), pad: true })],
    [GOOD[7]!.description, GOOD[7]!.bytes,
      icmpEchoFrame({ type: 'reply', srcMac: DIRECTOR, dstMac: CLIENT, src: '10.0.0.100', dst: '10.0.0.10', ttl: 255, ipId: 0x200, id: 0x1234, seq: 1, payload: seq16(0, 16), pad: 60 })],
    [GOOD[8]!.description, GOOD[8]!.bytes,
      padFrame(ethernet(DIRECTOR, CLIENT, 0x0800, ipv4({ src: '10.0.0.10', dst: '10.0.0.100', proto: 'udp', id: 0x0bad, flags: { mf: true }, payload: whole.subarray(0, 24) })))],
    [GOOD[9]!.description, GOOD[9]!.bytes,
      padFrame(ethernet(DIRECTOR, CLIENT, 0x0800, ipv4({ src: 0x0a00000a, dst: 0x0a000064, proto: 17, id: 0x0bad, fragOffset: 3, payload: whole.subarray(24) })))],
    [GOOD[13]!.description, GOOD[13]!.bytes,
      padFrame(ethernet(DIRECTOR, CLIENT, 0x0800, ipv4({ src: '10.0.0.10', dst: '10.0.0.100', proto: 47, id: 0x1234, flags: { df: true }, payload: hex('00000800' + '00'.repeat(20)) })))],
  ];
  it.each(cases)('%s', (_d, want, got) => {
    expect(toHex(got)).toBe(toHex(want));
  });
});

describe('the ARP builders of arp.ts agree with the ARP fixtures', () => {
  const mac = (m: string): Uint8Array => hex(m);
  it('request who-has 10.0.0.100 tell 10.0.0.10', () => {
    const got = arpRequest({ senderMac: mac(CLIENT), senderIp: 0x0a00000a, targetIp: 0x0a000064 });
    expect(toHex(got)).toBe(toHex(GOOD[10]!.bytes));
  });
  it('reply 10.0.0.100 is-at the director on VLAN 100', () => {
    const got = arpReply({ senderMac: mac(DIRECTOR), senderIp: 0x0a000064, targetMac: mac(CLIENT), targetIp: 0x0a00000a, vlan: 100 });
    expect(toHex(got)).toBe(toHex(GOOD[11]!.bytes));
  });
  it('parseFrame reads back every field of a random reply (fast-check)', () => {
    fc.assert(
      fc.property(arbMac, arbMac, arbIp, arbIp, fc.integer({ min: 0, max: 4095 }), (sha, tha, spa, tpa, vlan) => {
        const r = parseFrame(arpReply({ senderMac: sha, senderIp: spa, targetMac: tha, targetIp: tpa, vlan }));
        if (!r.ok) throw r.error;
        expect(r.frame.eth).toMatchObject({ dst: macToString(tha), src: macToString(sha), etherType: 0x0806, vlan: { id: vlan } });
        expect(r.frame.arp).toEqual({
          htype: 1, ptype: 0x0800, op: 2, sha: macToString(sha), spa: ipToString(spa), spaU32: spa,
          tha: macToString(tha), tpa: ipToString(tpa), tpaU32: tpa,
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('build -> parse round trip (fast-check)', () => {
  it('TCP frames keep every field', () => {
    fc.assert(
      fc.property(arbCommon, arbTcpFields, (c, t) => {
        const f = tcpFrame({ ...c, ...t });
        const r = parseFrame(f);
        if (!r.ok) throw r.error;
        const { eth, ipv4: ip, tcp: s } = r.frame;
        expect(eth).toMatchObject({ dst: macToString(c.dstMac), src: macToString(c.srcMac), etherType: 0x0800 });
        expect(eth.vlan).toEqual(c.vlan);
        expect(ip).toMatchObject({
          version: 4, headerLength: 20 + c.ipOptions.length, tos: c.tos, id: c.ipId, ttl: c.ttl, protocol: 6,
          flags: { reserved: false, df: c.df, mf: false }, fragOffset: 0, checksumOk: true,
          src: ipToString(c.src), dst: ipToString(c.dst), srcU32: c.src, dstU32: c.dst,
        });
        expect(ip!.options).toEqual(c.ipOptions);
        expect(s).toMatchObject({
          srcPort: t.sport, dstPort: t.dport, seq: t.seq, ack: t.ack, window: t.window, urgent: t.urgent,
          headerLength: 20 + t.options.length, flags: FLAG_ORDER.filter((n) => t.flags.includes(n)), checksumOk: true,
          payloadLength: t.payload.length,
        });
        expect(s!.options).toEqual(t.options);
        expect(s!.payload).toEqual(t.payload);
        const info = new FrameInfo();
        expect(decodeFrame(f, f.length, info)).toBe(true);
        expect(tcpChecksumOk(f, info)).toBe(true);
        const minLen = c.pad === true ? 60 : typeof c.pad === 'number' ? c.pad : 0;
        expect(f.length).toBe(Math.max(minLen, (c.vlan ? 18 : 14) + ip!.totalLength));
      }),
      { numRuns: 500 },
    );
  });

  it('UDP frames keep every field', () => {
    fc.assert(
      fc.property(arbCommon, arbUdpFields, (c, u) => {
        const f = udpFrame({ ...c, ...u });
        const r = parseFrame(f);
        if (!r.ok) throw r.error;
        expect(r.frame.ipv4).toMatchObject({ protocol: 17, srcU32: c.src, dstU32: c.dst, ttl: c.ttl, checksumOk: true });
        expect(r.frame.udp).toMatchObject({ srcPort: u.sport, dstPort: u.dport, length: 8 + u.payload.length, checksumOk: true });
        expect(r.frame.udp!.checksum).not.toBe(0);
        expect(r.frame.udp!.payload).toEqual(u.payload);
        const info = new FrameInfo();
        decodeFrame(f, f.length, info);
        expect(udpChecksumOk(f, info)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('ICMP echo frames keep every field', () => {
    fc.assert(
      fc.property(arbCommon, arbIcmpFields, (c, e) => {
        const r = parseFrame(icmpEchoFrame({ ...c, ...e }));
        if (!r.ok) throw r.error;
        expect(r.frame.icmp).toMatchObject({ type: e.type === 'request' ? 8 : 0, code: 0, id: e.id, seq: e.seq, checksumOk: true });
        expect(r.frame.icmp!.payload).toEqual(e.payload);
      }),
      { numRuns: 300 },
    );
  });

  it('decrementTtl keeps the frame valid and touches only TTL and header checksum', () => {
    fc.assert(
      fc.property(arbValidFrame, (frame) => {
        const before = parseFrame(frame);
        if (!before.ok) throw before.error;
        const ip = before.frame.ipv4;
        if (!ip || ip.ttl === 0) return;
        const b = frame.slice();
        const l3 = before.frame.l3Offset;
        decrementTtl(b, l3);
        const after = parseFrame(b);
        if (!after.ok) throw after.error;
        expect(after.frame.ipv4!.ttl).toBe(ip.ttl - 1);
        expect(after.frame.ipv4!.checksumOk).toBe(true);
        const untouched = b.slice();
        untouched.set(frame.subarray(l3 + 8, l3 + 9), l3 + 8);
        untouched.set(frame.subarray(l3 + 10, l3 + 12), l3 + 10);
        expect(toHex(untouched)).toBe(toHex(frame));
        for (const l4 of ['tcp', 'udp', 'icmp'] as const) {
          expect(after.frame[l4]?.checksumOk ?? null).toBe(before.frame[l4]?.checksumOk ?? null);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('overrides build broken frames on purpose', () => {
  it.each([
    ['TCP data offset 16', tcpFrame({ headerLength: 16 }), 'tcp', 46],
    ['bad IHL', tcpFrame({ ip: { ihl: 4 } }), 'ipv4', 14],
    ['IP version 6', udpFrame({ ip: { version: 6 } }), 'ipv4', 14],
    ['total length too large', udpFrame({ payload: 'abc', ip: { totalLength: 100 } }), 'ipv4', 45],
    ['UDP length 7', udpFrame({ length: 7 }), 'udp', 38],
  ] as const)('%s', (_d, frame, layer, offset) => {
    const r = parseFrame(frame);
    expect(r.ok ? null : [r.error.layer, r.error.offset]).toEqual([layer, offset]);
  });

  it('writes a given checksum as is', () => {
    const r = parseFrame(tcpFrame({ checksum: 0xbeef, ip: { checksum: 0x1234 } }));
    if (!r.ok) throw r.error;
    expect([r.frame.tcp!.checksum, r.frame.tcp!.checksumOk, r.frame.ipv4!.checksum, r.frame.ipv4!.checksumOk]).toEqual([0xbeef, false, 0x1234, false]);
  });
});

describe('builder input errors', () => {
  it.each([
    ['bad MAC', () => tcpFrame({ srcMac: '02:00:00:00:00' })],
    ['MAC of 5 bytes', () => ethernet(new Uint8Array(5), CLIENT, 0x0800, '')],
    ['bad IPv4', () => udpFrame({ dst: '10.0.0.256' })],
    ['IPv4 as a negative number', () => udpFrame({ src: -1 })],
    ['port 65536', () => tcpFrame({ dport: 65536 })],
    ['fractional seq', () => tcpFrame({ seq: 1.5 })],
    ['unknown flag', () => tcpFrame({ flags: 'SYN|BOGUS' })],
    ['TCP options over 40 bytes', () => tcp({ src: 0, dst: 0, sport: 1, dport: 2, options: new Uint8Array(41) })],
    ['IPv4 options over 40 bytes', () => ipv4({ src: 0, dst: 0, proto: 'tcp', options: new Uint8Array(44) })],
    ['VLAN id 4096', () => udpFrame({ vlan: 4096 })],
    ['IPv4 packet over 65535 bytes', () => ipv4({ src: 0, dst: 0, proto: 'udp', payload: new Uint8Array(65516) })],
  ])('%s', (_d, build) => {
    let err: unknown;
    try {
      build();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DsrlbError);
    expect((err as DsrlbError).code).toBe('E_PACKET_BUILD');
  });

  it('accepts flags as names in any case and with commas or spaces', () => {
    const bits = (f: Uint8Array): number => f[47]!;
    expect(bits(tcpFrame({ flags: 'syn, ack' }))).toBe(0x12);
    expect(bits(tcpFrame({ flags: 'FIN ACK' }))).toBe(0x11);
    expect(bits(tcpFrame({ flags: ['RST'] }))).toBe(0x04);
    expect(bits(tcpFrame({ flags: 0xc2 }))).toBe(0xc2);
  });

  it('pads options to whole words with zeros', () => {
    const r = parseFrame(tcpFrame({ options: hex('020405b401'), ipOptions: hex('01') }));
    if (!r.ok) throw r.error;
    expect(toHex(r.frame.tcp!.options)).toBe('020405b401000000');
    expect(toHex(r.frame.ipv4!.options)).toBe('01000000');
  });
});
