/**
 * The Neighbor Advertisement and ICMPv6 echo reply builders: byte for byte against advertisements
 * Linux 6.18 sent (test/packet/ndp.test.ts has where they come from), and with the checksum summed
 * here independently of src/packet.
 */
import { describe, expect, it } from 'vitest';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import {
  buildNeighborAdvertisement, buildUnsolicitedNa, decodeIPv6Frame, icmp6, IPPROTO_ICMPV6, ipv6, Ipv6Info, parseNdp, writeEchoReply6,
} from '../../src/packet/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ip = (s: string): Uint8Array => parseIPv6(s)!;
const mac = (s: string): Uint8Array => parseMac(s)!;

/** r1 (02:d6:00:00:00:02) answering a multicast NS from 2001:db8::1 for its own 2001:db8::2 (flags S, O). */
const KERNEL_NA = hex(`02d6 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001 8800 899b 6000 0000 2001
  0db8 0000 0000 0000 0000 0000 0002 0201 02d6 0000 0002`);
/** r1 defending 2001:db8::10 against a DAD probe: to all nodes, flag O only. */
const KERNEL_DAD_DEFENCE = hex(`3333 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0010 ff02 0000 0000 0000 0000 0000 0000 0001 8800 f835 2000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0201 02d6 0000 0002`);

/** The ICMPv6 checksum, summed here word by word (RFC 8200 8.1 pseudo-header), not with src/packet. */
function independentChecksum(frame: Uint8Array, l3 = 14): number {
  const plen = (frame[l3 + 4]! << 8) | frame[l3 + 5]!;
  const words: number[] = [];
  for (let i = l3 + 8; i < l3 + 40; i += 2) words.push((frame[i]! << 8) | frame[i + 1]!);
  words.push(plen >>> 16, plen & 0xffff, 0, 58);
  const body = frame.slice(l3 + 40, l3 + 40 + plen);
  body[2] = 0;
  body[3] = 0;
  for (let i = 0; i < body.length; i += 2) words.push((body[i]! << 8) | (body[i + 1] ?? 0));
  let s = words.reduce((a, b) => a + b, 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
const storedChecksum = (f: Uint8Array, l3 = 14): number => (f[l3 + 42]! << 8) | f[l3 + 43]!;

describe('Neighbor Advertisement builder', () => {
  it('builds the solicited advertisement Linux sent, byte for byte', () => {
    const na = buildNeighborAdvertisement({
      srcMac: mac('02:d6:00:00:00:02'), dstMac: mac('02:d6:00:00:00:01'), target: ip('2001:db8::2'), dstIp: ip('2001:db8::1'),
      router: false, solicited: true, override: true, tlla: true,
    });
    expect(Buffer.from(na).toString('hex')).toBe(Buffer.from(KERNEL_NA).toString('hex'));
    expect(storedChecksum(na)).toBe(independentChecksum(na));
  });

  it('builds the unsolicited advertisement the way Linux defends an address (to ff02::1, O only)', () => {
    const na = buildUnsolicitedNa(mac('02:d6:00:00:00:02'), ip('2001:db8::10'), false);
    expect(Buffer.from(na).toString('hex')).toBe(Buffer.from(KERNEL_DAD_DEFENCE).toString('hex'));
  });

  it('sets R, S and O independently, and leaves the option out when asked (an answer to a unicast NS)', () => {
    for (const [router, solicited, override, tlla] of [[true, false, false, false], [false, true, false, false], [true, true, true, true]] as const) {
      const na = buildNeighborAdvertisement({
        srcMac: mac('02:00:00:00:00:01'), dstMac: mac('02:00:00:00:00:99'), target: ip('2001:db8::10'), dstIp: ip('2001:db8:1::5'),
        router, solicited, override, tlla,
      });
      expect(na.length).toBe(tlla ? 86 : 78);
      expect(storedChecksum(na)).toBe(independentChecksum(na));
      const m = parseNdp(na)!;
      expect(m).not.toBeNull();
      expect([m.router, m.solicited, m.override]).toEqual([router, solicited, override]);
      expect(m.lladdr === null).toBe(!tlla);
      expect(na[14 + 7]).toBe(255);
    }
  });
});

describe('ICMPv6 echo reply builder', () => {
  it('answers from the address asked, with id, sequence, data and traffic class copied, hop limit 64', () => {
    const src = '2001:db8:1::5';
    const dst = '2001:db8::10';
    const body = Uint8Array.of(0x12, 0x34, 0x00, 0x07, ...Buffer.from('hello, odd!'));
    const pkt = ipv6({ src, dst, next: IPPROTO_ICMPV6, hopLimit: 61, trafficClass: 0xb8, flowLabel: 0x12345, payload: icmp6(src, dst, 128, 0, body) });
    const frame = new Uint8Array(14 + pkt.length + 6); // Ethernet padding behind it is not echoed
    frame.set(mac('02:00:00:00:00:01'), 0);
    frame.set(mac('02:00:00:00:00:99'), 6);
    frame[12] = 0x86;
    frame[13] = 0xdd;
    frame.set(pkt, 14);
    const i6 = new Ipv6Info();
    expect(decodeIPv6Frame(frame, frame.length, i6)).toBe(true);
    const out = new Uint8Array(2048);
    const n = writeEchoReply6(frame, i6, mac('02:00:00:00:00:01'), out);
    const r = out.subarray(0, n);
    expect(n).toBe(14 + 40 + 4 + body.length);
    expect([...r.subarray(0, 6)]).toEqual([...mac('02:00:00:00:00:99')]);
    expect([...r.subarray(6, 12)]).toEqual([...mac('02:00:00:00:00:01')]);
    expect([...r.subarray(14, 18)]).toEqual([0x6b, 0x80, 0, 0]); // tclass 0xb8, no flow label
    expect(r[14 + 6]).toBe(58);
    expect(r[14 + 7]).toBe(64);
    expect([...r.subarray(22, 38)]).toEqual([...ip(dst)]);
    expect([...r.subarray(38, 54)]).toEqual([...ip(src)]);
    expect(r[54]).toBe(129);
    expect(r[55]).toBe(0);
    expect([...r.subarray(58)]).toEqual([...body]);
    expect(storedChecksum(r)).toBe(independentChecksum(r));
  });
});
