/**
 * IPv6 Neighbor Discovery frames (RFC 4861): builders for Neighbor Solicitations and
 * Advertisements and a reader for both. The packet path answers solicitations for its VIP6s and
 * resolves its IPv6 reals with them (dataplane/ndp-answer.ts, arp/ndp-resolver.ts); dsrlb doctor's
 * NDP probe and the tests of the real servers' NDP suppression use them too. The ICMPv6 echo reply
 * lives in icmpv6-echo.ts.
 *
 * Layout of a frame built here (untagged):
 *   dst MAC (6) | src MAC (6) | 0x86dd | IPv6 header (40, hop limit 255, next header 58) |
 *   ICMPv6 type 135, code 0, checksum, reserved (4) | target (16) | [option 1: source link-layer address (8)]
 *
 * The source link-layer option is left out when the source address is unspecified (::), as RFC 4861
 * 7.2.2 asks of a Duplicate Address Detection probe.
 */
import { ipv6MulticastMac, solicitedNode } from '../model/index.ts';
import { foldSum, onesSum } from './checksum.ts';
import { ETHERTYPE_VLAN } from './decode.ts';

export const ETHERTYPE_IPV6 = 0x86dd;
export const IPPROTO_ICMPV6 = 58;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
const IP6_HLEN = 40;
/** An NA's flag bits (RFC 4861 4.4), in the first byte after the checksum. */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
/** ff02::1, the all-nodes group: unsolicited advertisements and answers to DAD probes go there. */
export const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export interface NeighborSolicitationSpec {
  srcMac: Uint8Array;
  /** 16 bytes; all zero makes a DAD probe (no source link-layer option). */
  srcIp: Uint8Array;
  /** The address asked for. */
  target: Uint8Array;
  /**
   * Unicast solicitation (how a neighbour re-checks an entry it holds, NUD): to this MAC and
   * IPv6 destination. Absent: to the target's solicited-node group and its multicast MAC.
   */
  unicast?: { dstMac: Uint8Array; dstIp: Uint8Array };
}

/** The ICMPv6 checksum of `icmp` (its checksum field zero) with the IPv6 pseudo-header (RFC 8200 8.1). */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array, off = 0, len = icmp.length - off): number {
  let sum = onesSum(src, 0, 16);
  sum = onesSum(dst, 0, 16, sum);
  sum = foldSum(sum + (len >>> 16) + (len & 0xffff) + IPPROTO_ICMPV6);
  return ~onesSum(icmp, off, len, sum) & 0xffff;
}

/** A Neighbor Solicitation as an Ethernet frame (78 bytes for a DAD probe, 86 with the source link-layer option). */
export function buildNeighborSolicitation(s: NeighborSolicitationSpec): Uint8Array {
  const dad = s.srcIp.every((b) => b === 0);
  const icmpLen = 24 + (dad ? 0 : 8);
  const f = new Uint8Array(14 + IP6_HLEN + icmpLen);
  const dstIp = s.unicast ? s.unicast.dstIp : solicitedNode(s.target);
  const dstMac = s.unicast ? s.unicast.dstMac : ipv6MulticastMac(dstIp);
  f.set(dstMac, 0);
  f.set(s.srcMac, 6);
  f[12] = ETHERTYPE_IPV6 >> 8;
  f[13] = ETHERTYPE_IPV6 & 0xff;
  const ip = 14;
  f[ip] = 0x60;
  f[ip + 4] = icmpLen >> 8;
  f[ip + 5] = icmpLen & 0xff;
  f[ip + 6] = IPPROTO_ICMPV6;
  f[ip + 7] = 255;
  f.set(s.srcIp, ip + 8);
  f.set(dstIp, ip + 24);
  const ic = ip + IP6_HLEN;
  f[ic] = ICMPV6_NS;
  f.set(s.target, ic + 8);
  if (!dad) {
    f[ic + 24] = 1;
    f[ic + 25] = 1;
    f.set(s.srcMac, ic + 26);
  }
  const c = icmpv6Checksum(s.srcIp, dstIp, f, ic, icmpLen);
  f[ic + 2] = c >> 8;
  f[ic + 3] = c & 0xff;
  return f;
}

export interface NdpMessage {
  type: typeof ICMPV6_NS | typeof ICMPV6_NA;
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  target: Uint8Array;
  /** NA flags (RFC 4861 4.4); all false for an NS. */
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** The link-layer address option: source (NS) or target (NA), when present. */
  lladdr: Uint8Array | null;
}

/**
 * Reads a Neighbor Solicitation or Advertisement from an Ethernet frame (untagged or one 802.1Q
 * tag); null for anything else or for one a host must ignore (RFC 4861 7.1.1/7.1.2: hop limit not
 * 255, code not 0, too short, bad checksum, an option of length 0).
 */
export function parseNdp(frame: Uint8Array, len = frame.length): NdpMessage | null {
  const n = Math.min(len, frame.length);
  let ip = 14;
  if (n < 14) return null;
  let type = (frame[12]! << 8) | frame[13]!;
  if (type === ETHERTYPE_VLAN) {
    if (n < 18) return null;
    type = (frame[16]! << 8) | frame[17]!;
    ip = 18;
  }
  if (type !== ETHERTYPE_IPV6 || n < ip + IP6_HLEN + 24) return null;
  if (frame[ip]! >> 4 !== 6 || frame[ip + 6] !== IPPROTO_ICMPV6 || frame[ip + 7] !== 255) return null;
  const plen = (frame[ip + 4]! << 8) | frame[ip + 5]!;
  const ic = ip + IP6_HLEN;
  if (plen < 24 || ic + plen > n) return null;
  const t = frame[ic]!;
  if ((t !== ICMPV6_NS && t !== ICMPV6_NA) || frame[ic + 1] !== 0) return null;
  const srcIp = frame.slice(ip + 8, ip + 24);
  const dstIp = frame.slice(ip + 24, ip + 40);
  const sum = icmpv6Checksum(srcIp, dstIp, frame, ic, plen);
  // The sum over a message that carries its checksum is 0 (complemented: 0xffff -> 0).
  if (sum !== 0) return null;
  let lladdr: Uint8Array | null = null;
  const want = t === ICMPV6_NS ? 1 : 2;
  for (let o = ic + 24; o + 2 <= ic + plen; ) {
    const olen = frame[o + 1]! * 8;
    if (olen === 0 || o + olen > ic + plen) return null;
    if (frame[o] === want && olen >= 8) lladdr = frame.slice(o + 2, o + 8);
    o += olen;
  }
  const flags = frame[ic + 4]!;
  return {
    type: t,
    dstMac: frame.slice(0, 6),
    srcMac: frame.slice(6, 12),
    srcIp,
    dstIp,
    target: frame.slice(ic + 8, ic + 24),
    router: t === ICMPV6_NA && (flags & 0x80) !== 0,
    solicited: t === ICMPV6_NA && (flags & 0x40) !== 0,
    override: t === ICMPV6_NA && (flags & 0x20) !== 0,
    lladdr,
  };
}

export interface NeighborAdvertisementSpec {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** The advertised address; also the IPv6 source, as Linux's ndisc_send_na sends it for its own address. */
  target: Uint8Array;
  dstIp: Uint8Array;
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** Carry the target link-layer address option (srcMac); Linux adds it unless answering a unicast NS. */
  tlla: boolean;
  /** An 802.1Q tag's 16-bit TCI (priority and VLAN id), for an answer to a tagged solicitation; untagged when absent. */
  vlanTci?: number;
}

/**
 * Writes a Neighbor Advertisement frame into `out` (72 bytes, 80 with the target link-layer
 * option) and returns its length. Hop limit 255 (RFC 4861 7.1.2 makes receivers check it).
 */
export function writeNeighborAdvertisement(out: Uint8Array, s: NeighborAdvertisementSpec): number {
  const icmpLen = 24 + (s.tlla ? 8 : 0);
  const ip = s.vlanTci === undefined ? 14 : 18;
  const n = ip + IP6_HLEN + icmpLen;
  out.fill(0, 0, n);
  out.set(s.dstMac, 0);
  out.set(s.srcMac, 6);
  if (s.vlanTci !== undefined) {
    out[12] = ETHERTYPE_VLAN >> 8;
    out[13] = ETHERTYPE_VLAN & 0xff;
    out[14] = (s.vlanTci >> 8) & 0xff;
    out[15] = s.vlanTci & 0xff;
  }
  out[ip - 2] = ETHERTYPE_IPV6 >> 8;
  out[ip - 1] = ETHERTYPE_IPV6 & 0xff;
  out[ip] = 0x60;
  out[ip + 5] = icmpLen;
  out[ip + 6] = IPPROTO_ICMPV6;
  out[ip + 7] = 255;
  out.set(s.target, ip + 8);
  out.set(s.dstIp, ip + 24);
  const ic = ip + IP6_HLEN;
  out[ic] = ICMPV6_NA;
  out[ic + 4] = (s.router ? NA_FLAG_ROUTER : 0) | (s.solicited ? NA_FLAG_SOLICITED : 0) | (s.override ? NA_FLAG_OVERRIDE : 0);
  out.set(s.target, ic + 8);
  if (s.tlla) {
    out[ic + 24] = 2;
    out[ic + 25] = 1;
    out.set(s.srcMac, ic + 26);
  }
  const c = icmpv6Checksum(s.target, s.dstIp, out, ic, icmpLen);
  out[ic + 2] = c >> 8;
  out[ic + 3] = c & 0xff;
  return n;
}

/** A Neighbor Advertisement as a new frame (see writeNeighborAdvertisement). */
export function buildNeighborAdvertisement(s: NeighborAdvertisementSpec): Uint8Array {
  const out = new Uint8Array(18 + IP6_HLEN + 32);
  return out.slice(0, writeNeighborAdvertisement(out, s));
}

/**
 * The unsolicited advertisement a host sends when an address moves to it (RFC 4861 7.2.6): to
 * all nodes, Solicited 0, Override 1, with the target link-layer option, as Linux's
 * ndisc_send_unsol_na does.
 */
export function buildUnsolicitedNa(mac: Uint8Array, target: Uint8Array, router: boolean): Uint8Array {
  return buildNeighborAdvertisement({
    srcMac: mac, dstMac: ipv6MulticastMac(ALL_NODES), target, dstIp: ALL_NODES,
    router, solicited: false, override: true, tlla: true,
  });
}
