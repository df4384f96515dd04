/**
 * The IPv6 side of describeFrame: an IPv6 frame as the same WireFrame fields an IPv4 one fills.
 * - TCP and UDP: `ip` (the hop limit in `ttl`, `v6` set) and `l4`, the checksum checked over the
 *   IPv6 pseudo-header.
 * - Neighbor Solicitation and Advertisement: `arp`, with `ndp` set, because NDP plays ARP's part in
 *   DSR. A solicitation is a question ("who has the target?", asked by `sha`/`spa`); an
 *   advertisement an answer ("the target is at `sha`"), sent to `tha`/`tpa`. An unsolicited
 *   advertisement is the IPv6 form of a gratuitous ARP.
 * - ICMPv6 errors (destination unreachable, packet too big, time exceeded): `icmp`, with the flow
 *   they quote, so that they join that flow's ladder as ICMP errors do.
 * - l3Key: the IPv6 packet with the hop limit blanked, to find the same packet forwarded.
 */
import { ipv6ToString, macToString } from '../model/index.ts';
import { decodeIPv6Frame, describeIpv6Error, foldSum, ICMPV6_NA, ICMPV6_NS, Ipv6Info, onesSum, parseNdp } from '../packet/index.ts';
import type { WireFrame } from './frames.ts';

type Described = Omit<WireFrame, 'n' | 'timeMs' | 'seenAt'>;

const info = new Ipv6Info();
const TCP_FLAGS: Array<[number, string]> = [[0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR']];

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** The one's-complement sum over the pseudo-header and the upper-layer bytes: 0xffff when sound. */
function checksumOk(b: Uint8Array, srcOff: number, dstOff: number, proto: number, l4: number, len: number): boolean {
  let sum = onesSum(b, srcOff, 16);
  sum = onesSum(b, dstOff, 16, sum);
  sum = foldSum(sum + (len >>> 16) + (len & 0xffff) + proto);
  return onesSum(b, l4, len, sum) === 0xffff;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Fills `out` from an IPv6 frame (EtherType 0x86dd, untagged or one VLAN tag). */
export function describeIPv6(data: Uint8Array, out: Described): void {
  const ndp = parseNdp(data);
  if (ndp) {
    const ns = ndp.type === ICMPV6_NS;
    const sha = macToString(ndp.lladdr ?? ndp.srcMac, 0);
    const target = ipv6ToString(ndp.target);
    const src = ipv6ToString(ndp.srcIp);
    const dst = ipv6ToString(ndp.dstIp);
    out.arp = ns
      ? { op: 'request', sha, spa: src, tha: '00:00:00:00:00:00', tpa: target, gratuitous: false, ndp: true }
      : {
          op: 'reply', sha, spa: target, tha: macToString(ndp.dstMac, 0),
          // An unsolicited advertisement announces the target to all nodes.
          tpa: ndp.solicited ? dst : target, gratuitous: !ndp.solicited, ndp: true,
        };
    return;
  }
  if (!decodeIPv6Frame(data, data.length, info)) {
    out.error = describeIpv6Error(info);
    return;
  }
  const l3 = info.l3Off;
  out.ip = {
    src: ipv6ToString(data, info.srcOff), dst: ipv6ToString(data, info.dstOff), ttl: info.hopLimit, id: info.flowLabel,
    proto: info.upperProto, totalLength: info.l3End - l3, headerChecksumOk: true, v6: true,
  };
  const key = data.slice(l3, info.l3End);
  key[7] = 0;
  out.l3Key = hex(key);
  const l4 = info.l4Off;
  if (l4 < 0) return;
  const len = info.l3End - l4;
  if (info.upperProto === 6 && len >= 20) {
    const fl = data[l4 + 13]!;
    out.l4 = {
      proto: 'tcp', srcPort: info.srcPort, dstPort: info.dstPort, flags: TCP_FLAGS.filter(([m]) => fl & m).map(([, n]) => n),
      seq: u32(data, l4 + 4), ack: u32(data, l4 + 8), payloadLength: Math.max(0, len - (data[l4 + 12]! >> 4) * 4),
      checksumOk: info.isFragment ? null : checksumOk(data, info.srcOff, info.dstOff, 6, l4, len),
    };
  } else if (info.upperProto === 17 && len >= 8) {
    out.l4 = {
      proto: 'udp', srcPort: info.srcPort, dstPort: info.dstPort, flags: [], seq: 0, ack: 0, payloadLength: len - 8,
      // IPv6 UDP must carry a checksum (RFC 8200 8.1): 0 is wrong, and the sum finds it.
      checksumOk: info.isFragment ? null : checksumOk(data, info.srcOff, info.dstOff, 17, l4, len),
    };
  } else if (info.upperProto === 58 && len >= 8) {
    out.icmp = icmp6Info(data, l4, info.l3End);
  }
}

/** An ICMPv6 message at `l4`; for the errors, the TCP/UDP flow of the packet they quote. */
function icmp6Info(b: Uint8Array, l4: number, end: number): NonNullable<WireFrame['icmp']> {
  const type = b[l4]!;
  const r: NonNullable<WireFrame['icmp']> = { type, code: b[l4 + 1]!, mtu: type === 2 ? u32(b, l4 + 4) : 0, quoted: null, v6: true };
  const q = l4 + 8;
  // Only a quoted packet whose upper layer follows the fixed header right away.
  if (type >= 1 && type <= 3 && end - q >= 44 && b[q]! >> 4 === 6) {
    const nh = b[q + 6];
    if (nh === 6 || nh === 17) {
      r.quoted = {
        proto: nh === 6 ? 'tcp' : 'udp', src: ipv6ToString(b, q + 8), dst: ipv6ToString(b, q + 24),
        srcPort: u16(b, q + 40), dstPort: u16(b, q + 42),
      };
    }
  }
  return r;
}

/** "ICMPv6 packet too big (MTU 1280)", … */
export function icmp6Text(type: number, code: number, mtu: number): string {
  if (type === 1) {
    const codes = ['no route', 'administratively prohibited', 'beyond scope of source', 'address unreachable', 'port unreachable'];
    return `ICMPv6 ${codes[code] ?? `destination unreachable (code ${code})`}`;
  }
  if (type === 2) return `ICMPv6 packet too big (MTU ${mtu})`;
  if (type === 3) return 'ICMPv6 time exceeded';
  if (type === 128) return 'ICMPv6 echo request';
  if (type === 129) return 'ICMPv6 echo reply';
  if (type === 143) return 'MLDv2 listener report';
  if (type === ICMPV6_NS || type === ICMPV6_NA) return type === ICMPV6_NS ? 'Neighbor Solicitation' : 'Neighbor Advertisement';
  return `ICMPv6 type ${type} code ${code}`;
}

/** Link-local (fe80::/10): an address a host uses on the link only, never its own "name". */
export function isLinkLocal6(ip: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(ip);
}
