/**
 * Frame fixtures as tables. The bytes were written by a separate Python script (struct + its own
 * RFC 1071 sum) and checked with `tcpdump -vvv`, which reported every checksum correct; they do not
 * come from our builders, so the builders can be checked against them.
 *
 * `expected` is a partial ParsedFrame in which byte fields are hex strings (see normalize()).
 * Hex is written one header per string: Ethernet | IPv4 | L4 | payload | trailer.
 */

import type { Layer } from '../../src/packet/index.ts';
import { hex } from './helpers.ts';

export interface GoodFixture {
  description: string;
  bytes: Uint8Array;
  expected: Record<string, unknown>;
}

export interface BadFixture {
  description: string;
  bytes: Uint8Array;
  error: { layer: Layer; offset: number; reason: RegExp };
}

const CLIENT = '02:00:00:00:00:0a';
const DIRECTOR = '02:00:00:00:00:01';
const ETH = '020000000001' + '02000000000a' + '0800';
const SYN_OPTS = '020405b40402080a0001e2400000000001030307';
const ipDefaults = { version: 4, src: '10.0.0.10', dst: '10.0.0.100', srcU32: 0x0a00000a, dstU32: 0x0a000064 };

export const GOOD: GoodFixture[] = [
  {
    description: 'TCP SYN with MSS, SACK-permitted, timestamps, window scale; DF',
    bytes: hex(ETH + '4500003c123440004006141b0a00000a0a000064' + '9c4000501122334400000000a002faf075690000' + SYN_OPTS),
    expected: {
      length: 74,
      eth: { dst: DIRECTOR, src: CLIENT, vlan: null, etherType: 0x0800, headerLength: 14 },
      l3Offset: 14,
      l4Offset: 34,
      ipv4: {
        ...ipDefaults, ihl: 5, headerLength: 20, tos: 0, totalLength: 60, id: 0x1234,
        flags: { reserved: false, df: true, mf: false }, fragOffset: 0, ttl: 64, protocol: 6,
        checksum: 0x141b, checksumOk: true, options: '',
      },
      tcp: {
        srcPort: 40000, dstPort: 80, seq: 0x11223344, ack: 0, headerLength: 40, flags: ['SYN'], flagBits: 0x02,
        window: 64240, checksum: 0x7569, checksumOk: true, urgent: 0, options: SYN_OPTS, payloadLength: 0, payload: '',
      },
      udp: null, icmp: null, arp: null, trailer: '',
    },
  },
  {
    description: 'the same SYN behind an 802.1Q tag (VLAN 100, priority 3)',
    bytes: hex('020000000001' + '02000000000a' + '8100' + '6064' + '0800' +
      '4500003c123440004006141b0a00000a0a000064' + '9c4000501122334400000000a002faf075690000' + SYN_OPTS),
    expected: {
      length: 78,
      eth: { dst: DIRECTOR, src: CLIENT, vlan: { pcp: 3, dei: false, id: 100 }, etherType: 0x0800, headerLength: 18 },
      l3Offset: 18,
      l4Offset: 38,
      ipv4: { ...ipDefaults, totalLength: 60, ttl: 64, checksumOk: true },
      tcp: { srcPort: 40000, dstPort: 80, flags: ['SYN'], checksumOk: true, options: SYN_OPTS },
      trailer: '',
    },
  },
  {
    description: 'TCP PSH|ACK carrying an HTTP request, TTL 63',
    bytes: hex(ETH + '4500003a123540003f06151c0a00000a0a000064' + '9c40005011223345aabbccdd501801f662260000' +
      '474554202f20485454502f312e300d0a0d0a'),
    expected: {
      ipv4: { ...ipDefaults, totalLength: 58, id: 0x1235, ttl: 63, checksum: 0x151c, checksumOk: true },
      tcp: {
        seq: 0x11223345, ack: 0xaabbccdd, headerLength: 20, flags: ['PSH', 'ACK'], flagBits: 0x18, window: 502,
        checksum: 0x6226, checksumOk: true, options: '', payloadLength: 18,
        payload: '474554202f20485454502f312e300d0a0d0a',
      },
      trailer: '',
    },
  },
  {
    description: 'IPv4 with a Record Route option (IHL 8) and TOS 0x10, carrying a SYN',
    bytes: hex(ETH + '4810003412344000400606080a00000a0a000064' + '070b04000000000000000000' +
      '9c41005000000007000000005002faf003ec0000'),
    expected: {
      l4Offset: 46,
      ipv4: {
        ...ipDefaults, ihl: 8, headerLength: 32, tos: 0x10, totalLength: 52, checksum: 0x0608, checksumOk: true,
        options: '070b04000000000000000000', payload: '9c41005000000007000000005002faf003ec0000',
      },
      tcp: { srcPort: 40001, dstPort: 80, seq: 7, flags: ['SYN'], checksum: 0x03ec, checksumOk: true },
    },
  },
  {
    description: 'UDP (DNS-like query) padded to the 60-byte Ethernet minimum',
    bytes: hex(ETH + '4500002800420000401166160a00000a0a000064' + '14e900350014296c' + 'abcd01000001000000000000' +
      '000000000000'),
    expected: {
      length: 60,
      ipv4: { ...ipDefaults, totalLength: 40, id: 0x42, flags: { reserved: false, df: false, mf: false }, protocol: 17, checksumOk: true },
      udp: { srcPort: 5353, dstPort: 53, length: 20, checksum: 0x296c, checksumOk: true, payloadLength: 12, payload: 'abcd01000001000000000000' },
      tcp: null,
      trailer: '000000000000',
    },
  },
  {
    description: 'UDP without a checksum (field 0)',
    bytes: hex(ETH + '4500003000070000401166490a00000a0a000064' + '03e807d0001c0000' + '78'.repeat(20)),
    expected: {
      ipv4: { totalLength: 48, checksum: 0x6649, checksumOk: true },
      udp: { srcPort: 1000, dstPort: 2000, length: 28, checksum: 0, checksumOk: null, payloadLength: 20, payload: '78'.repeat(20) },
    },
  },
  {
    description: 'ICMP echo request id 0x1234 seq 1, DF, 2 bytes of padding',
    bytes: hex(ETH + '4500002c01004000400125640a00000a0a000064' + '0800ad8a12340001' + '000102030405060708090a0b0c0d0e0f' + '0000'),
    expected: {
      l4Offset: 34,
      ipv4: { ...ipDefaults, protocol: 1, id: 0x100, checksum: 0x2564, checksumOk: true },
      icmp: { type: 8, code: 0, checksum: 0xad8a, checksumOk: true, rest: 0x12340001, id: 0x1234, seq: 1, payload: '000102030405060708090a0b0c0d0e0f' },
      tcp: null, udp: null,
      trailer: '0000',
    },
  },
  {
    description: 'ICMP echo reply from the VIP, TTL 255',
    bytes: hex('02000000000a' + '020000000001' + '0800' + '4500002c02000000ff01a5630a0000640a00000a' + '0000b58a12340001' +
      '000102030405060708090a0b0c0d0e0f' + '0000'),
    expected: {
      eth: { dst: CLIENT, src: DIRECTOR },
      ipv4: { src: '10.0.0.100', dst: '10.0.0.10', ttl: 255, id: 0x200, checksum: 0xa563, checksumOk: true },
      icmp: { type: 0, code: 0, checksum: 0xb58a, checksumOk: true, id: 0x1234, seq: 1 },
    },
  },
  {
    description: 'first fragment (MF, offset 0) of a 48-byte UDP datagram: UDP length exceeds the fragment',
    bytes: hex(ETH + '4500002c0bad200040113aa70a00000a0a000064' + '0fa00fa100304949' + '404142434445464748494a4b4c4d4e4f' + '0000'),
    expected: {
      l4Offset: 34,
      ipv4: { id: 0x0bad, flags: { reserved: false, df: false, mf: true }, fragOffset: 0, checksum: 0x3aa7, checksumOk: true },
      udp: { srcPort: 4000, dstPort: 4001, length: 48, checksum: 0x4949, checksumOk: null, payloadLength: 16, payload: '404142434445464748494a4b4c4d4e4f' },
      trailer: '0000',
    },
  },
  {
    description: 'later fragment (offset 3 = 24 bytes): no L4 header',
    bytes: hex(ETH + '4500002c0bad000340115aa40a00000a0a000064' + '505152535455565758595a5b5c5d5e5f6061626364656667' + '0000'),
    expected: {
      l4Offset: -1,
      ipv4: {
        id: 0x0bad, flags: { reserved: false, df: false, mf: false }, fragOffset: 3, protocol: 17, checksumOk: true,
        payload: '505152535455565758595a5b5c5d5e5f6061626364656667',
      },
      tcp: null, udp: null, icmp: null,
      trailer: '0000',
    },
  },
  {
    description: 'ARP request who-has 10.0.0.100 tell 10.0.0.10, broadcast, padded',
    bytes: hex('ffffffffffff' + '02000000000a' + '0806' + '000108000604000102000000000a0a00000a0000000000000a000064' + '00'.repeat(18)),
    expected: {
      length: 60,
      eth: { dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT, vlan: null, etherType: 0x0806 },
      l4Offset: -1,
      ipv4: null,
      arp: { htype: 1, ptype: 0x0800, op: 1, sha: CLIENT, spa: '10.0.0.10', spaU32: 0x0a00000a, tha: '00:00:00:00:00:00', tpa: '10.0.0.100', tpaU32: 0x0a000064 },
      trailer: '00'.repeat(18),
    },
  },
  {
    description: 'ARP reply 10.0.0.100 is-at the director, on VLAN 100',
    bytes: hex('02000000000a' + '020000000001' + '8100' + '0064' + '0806' +
      '00010800060400020200000000010a00006402000000000a0a00000a' + '00'.repeat(14)),
    expected: {
      eth: { vlan: { pcp: 0, dei: false, id: 100 }, etherType: 0x0806, headerLength: 18 },
      arp: { op: 2, sha: DIRECTOR, spa: '10.0.0.100', tha: CLIENT, tpa: '10.0.0.10' },
      trailer: '00'.repeat(14),
    },
  },
  {
    description: 'IPv6 (an EtherType we do not decode): Ethernet only',
    bytes: hex('333300000001' + '02000000000a' + '86dd' + '6000000000083aff' + '00'.repeat(40)),
    expected: { eth: { etherType: 0x86dd }, l4Offset: -1, ipv4: null, arp: null, tcp: null, trailer: '' },
  },
  {
    description: 'IPv4 carrying GRE (a protocol we do not decode): IPv4 only',
    bytes: hex(ETH + '4500002c12344000402f14020a00000a0a000064' + '00000800' + '00'.repeat(20) + '0000'),
    expected: {
      l4Offset: 34,
      ipv4: { protocol: 47, checksum: 0x1402, checksumOk: true, payload: '00000800' + '00'.repeat(20) },
      tcp: null, udp: null, icmp: null,
    },
  },
];

function patch(base: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const b = base.slice();
  b.set(bytes, at);
  return b;
}

const SYN = GOOD[0]!.bytes;
const UDP = GOOD[4]!.bytes;
const ICMP = GOOD[6]!.bytes;
const ARP = GOOD[10]!.bytes;

export const BAD: BadFixture[] = [
  { description: 'runt of 13 bytes', bytes: SYN.subarray(0, 13), error: { layer: 'ethernet', offset: 13, reason: /truncated Ethernet/ } },
  { description: 'empty frame', bytes: new Uint8Array(0), error: { layer: 'ethernet', offset: 0, reason: /0 of 14/ } },
  { description: 'VLAN tag cut short', bytes: GOOD[1]!.bytes.subarray(0, 16), error: { layer: 'vlan', offset: 16, reason: /802\.1Q/ } },
  { description: 'IPv4 EtherType with IP version 6', bytes: patch(SYN, 14, [0x65]), error: { layer: 'ipv4', offset: 14, reason: /version 6/ } },
  { description: 'IHL 4 (16-byte header)', bytes: patch(SYN, 14, [0x44]), error: { layer: 'ipv4', offset: 14, reason: /below 20/ } },
  { description: 'IHL 15 beyond a short frame', bytes: patch(UDP, 14, [0x4f]), error: { layer: 'ipv4', offset: 60, reason: /options/ } },
  { description: 'total length 19, below the header', bytes: patch(SYN, 16, [0, 19]), error: { layer: 'ipv4', offset: 16, reason: /total length 19/ } },
  { description: 'total length past the end of the frame', bytes: patch(UDP, 16, [0, 47]), error: { layer: 'ipv4', offset: 60, reason: /46 of 47/ } },
  { description: 'TCP data offset 4 (16 bytes)', bytes: patch(SYN, 46, [0x40]), error: { layer: 'tcp', offset: 46, reason: /data offset 16/ } },
  { description: 'TCP data offset 60 past the packet', bytes: patch(SYN, 46, [0xf0]), error: { layer: 'tcp', offset: 74, reason: /40 of 60/ } },
  {
    description: 'TCP options that run past the IPv4 packet into the Ethernet padding',
    bytes: hex(ETH + '4500002800010000400600000a00000a0a000064' + '9c40005000000001000000006002000000000000' + '00'.repeat(6)),
    error: { layer: 'tcp', offset: 54, reason: /20 of 24/ },
  },
  { description: 'TCP header cut by the IPv4 total length', bytes: patch(SYN, 16, [0, 30]), error: { layer: 'tcp', offset: 44, reason: /10 of 20/ } },
  { description: 'UDP length 7', bytes: patch(UDP, 38, [0, 7]), error: { layer: 'udp', offset: 38, reason: /UDP length 7/ } },
  { description: 'UDP length past the IPv4 packet (not a fragment)', bytes: patch(UDP, 38, [0, 21]), error: { layer: 'udp', offset: 38, reason: /UDP length 21/ } },
  { description: 'ICMP shorter than its 8-byte header', bytes: patch(ICMP, 16, [0, 27]), error: { layer: 'icmp', offset: 41, reason: /7 of 8/ } },
  { description: 'ARP for IEEE 802 hardware (htype 6)', bytes: patch(ARP, 14, [0, 6]), error: { layer: 'arp', offset: 14, reason: /Ethernet\/IPv4/ } },
  { description: 'ARP with 16-byte protocol addresses', bytes: patch(ARP, 19, [16]), error: { layer: 'arp', offset: 14, reason: /Ethernet\/IPv4/ } },
  { description: 'ARP body cut short', bytes: ARP.subarray(0, 41), error: { layer: 'arp', offset: 41, reason: /27 of 28/ } },
];
