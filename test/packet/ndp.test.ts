/**
 * IPv6 addresses and Neighbor Discovery frames, against frames Linux 6.18 put on a veth in the
 * namespaces of docs/arp-problem.md ("The NDP problem"), copied from tcpdump -XX.
 */
import { describe, expect, it } from 'vitest';
import { canonicalIPv6, ipv6MulticastMac, ipv6ToHex, ipv6ToString, macToString, parseIPv6, parseMac, solicitedNode } from '../../src/model/index.ts';
import { buildNeighborSolicitation, ICMPV6_NA, ICMPV6_NS, icmpv6Checksum, parseNdp } from '../../src/packet/index.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ip = (s: string): Uint8Array => parseIPv6(s)!;

/** The kernel's NS from the client (2001:db8::1, 02:d6:00:00:00:01) for 2001:db8::10, to its solicited-node group. */
const KERNEL_NS = hex(`3333 ff00 0010 02d6 0000 0001 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0001 ff02 0000 0000 0000 0000 0001 ff00 0010 8700 1b35 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0101 02d6 0000 0001`);
/** A solicited NA: r1 (02:d6:00:00:00:02) answering for its own 2001:db8::2. */
const KERNEL_NA = hex(`02d6 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001 8800 899b 6000 0000 2001
  0db8 0000 0000 0000 0000 0000 0002 0201 02d6 0000 0002`);
/** A DAD probe of r2 (from ::, with the RFC 7527 nonce option 14). */
const KERNEL_DAD = hex(`3333 ff00 0010 02d6 0000 0003 86dd 6000 0000 0020 3aff 0000 0000 0000 0000 0000
  0000 0000 0000 ff02 0000 0000 0000 0000 0001 ff00 0010 8700 a2fa 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0e01 7096 140d 1728`);
/** r1 defending 2001:db8::10 (on its eth0) against r2's DAD probe: an NA to all nodes, override set. */
const KERNEL_DAD_DEFENCE = hex(`3333 0000 0001 02d6 0000 0002 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 0010 ff02 0000 0000 0000 0000 0000 0000 0001 8800 f835 2000 0000 2001
  0db8 0000 0000 0000 0000 0000 0010 0201 02d6 0000 0002`);

describe('IPv6 address text', () => {
  it('parses the RFC 4291 forms and prints the RFC 5952 one', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8::10', '2001:db8::10'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0010', '2001:db8::10'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::d6:ff:fe00:2', 'fe80::d6:ff:fe00:2'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not shortened
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['1::', '1::'],
    ];
    for (const [i, o] of cases) expect(canonicalIPv6(i), i).toBe(o);
  });

  it('refuses everything else with null', () => {
    for (const s of ['', ':', '2001:db8::10/128', 'fe80::1%eth0', '[2001:db8::10]', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1',
      '1:2:3:4:5:6:7', '::1.2.3.256', '192.168.0.10', '1:2:3:4:5:6:7::8', ':1::']) {
      expect(parseIPv6(s), s).toBeNull();
    }
  });

  it('the solicited-node group, its MAC, the hex form nft takes', () => {
    const v = ip('2001:db8::10');
    expect(ipv6ToString(solicitedNode(v))).toBe('ff02::1:ff00:10');
    expect(macToString(ipv6MulticastMac(solicitedNode(v)))).toBe('33:33:ff:00:00:10');
    expect(ipv6ToHex(v)).toBe('20010db8000000000000000000000010');
  });
});

describe('Neighbor Discovery frames', () => {
  it('builds, byte for byte, the NS the kernel sent for the same question', () => {
    const ns = buildNeighborSolicitation({ srcMac: parseMac('02:d6:00:00:00:01')!, srcIp: ip('2001:db8::1'), target: ip('2001:db8::10') });
    expect(Buffer.from(ns).toString('hex')).toBe(Buffer.from(KERNEL_NS).toString('hex'));
  });

  it('builds a unicast NS (NUD) and a DAD probe without the link-layer option, both readable back', () => {
    const u = buildNeighborSolicitation({ srcMac: parseMac('02:d6:00:00:00:01')!, srcIp: ip('2001:db8::1'), target: ip('2001:db8::10'),
      unicast: { dstMac: parseMac('02:d6:00:00:00:02')!, dstIp: ip('2001:db8::10') } });
    const m = parseNdp(u)!;
    expect([m.type, macToString(m.dstMac), ipv6ToString(m.dstIp), ipv6ToString(m.target), macToString(m.lladdr!)])
      .toEqual([ICMPV6_NS, '02:d6:00:00:00:02', '2001:db8::10', '2001:db8::10', '02:d6:00:00:00:01']);
    const d = buildNeighborSolicitation({ srcMac: parseMac('02:d6:00:00:00:03')!, srcIp: ip('::'), target: ip('2001:db8::10') });
    expect(d.length).toBe(78);
    const dm = parseNdp(d)!;
    expect([ipv6ToString(dm.srcIp), dm.lladdr]).toEqual(['::', null]);
  });

  it('reads the kernel\'s NA, DAD probe and DAD defence, flags and options included', () => {
    const na = parseNdp(KERNEL_NA)!;
    expect([na.type, ipv6ToString(na.target), na.solicited, na.override, na.router, macToString(na.lladdr!)]).toEqual([ICMPV6_NA, '2001:db8::2', true, true, false, '02:d6:00:00:00:02']);
    const dad = parseNdp(KERNEL_DAD)!;
    expect([dad.type, ipv6ToString(dad.srcIp), ipv6ToString(dad.target), dad.lladdr]).toEqual([ICMPV6_NS, '::', '2001:db8::10', null]);
    const def = parseNdp(KERNEL_DAD_DEFENCE)!;
    expect([ipv6ToString(def.dstIp), def.solicited, def.override, macToString(def.lladdr!)]).toEqual(['ff02::1', false, true, '02:d6:00:00:00:02']);
  });

  it('ignores what a host must ignore: bad checksum, hop limit not 255, truncated, zero-length option, not ICMPv6, code not 0', () => {
    // Each change but the first keeps a correct ICMPv6 checksum, so only the check named can refuse it.
    const resum = (b: Uint8Array): void => {
      b[56] = 0;
      b[57] = 0;
      const c = icmpv6Checksum(b.subarray(22, 38), b.subarray(38, 54), b, 54, 32);
      b[56] = c >> 8;
      b[57] = c & 0xff;
    };
    const variants: Array<[string, (b: Uint8Array) => void, number?]> = [
      ['checksum', (b) => (b[57] ^= 1)],
      ['hop limit', (b) => (b[21] = 64)],
      ['truncated', () => {}, 70],
      ['option length 0', (b) => ((b[79] = 0), resum(b))],
      ['next header', (b) => (b[20] = 17)],
      ['code', (b) => ((b[55] = 1), resum(b))],
      ['ethertype', (b) => (b[12] = 0x08)],
    ];
    const same = KERNEL_NA.slice();
    resum(same);
    expect(Buffer.from(same).equals(Buffer.from(KERNEL_NA))).toBe(true);
    expect(parseNdp(KERNEL_NA)).not.toBeNull();
    for (const [name, f, len] of variants) {
      const b = KERNEL_NA.slice();
      f(b);
      expect(parseNdp(b, len ?? b.length), name).toBeNull();
    }
  });
});
