/**
 * A pure, zero-allocation decoder for IPv6 frames to a VIP6: Ethernet (optionally one 802.1Q tag),
 * the fixed IPv6 header, the chain of extension headers, and the TCP/UDP/ICMPv6 header behind it.
 * Nothing on the packet path uses it yet; it is what an IPv6 data path will read frames with.
 *
 * `decodeIPv6Frame(buf, len, info)` fills a caller-owned Ipv6Info and returns true, or returns false
 * with `info.reason` set to one of IPV6_DROP_REASONS (a constant string, like the IPv4 data path's
 * drop reasons) and `info.errOffset/errHave/errWant` giving where and the numbers. It never throws
 * and never reads past `len` or `buf.length`.
 *
 * It refuses what Linux refuses before IPVS sees a packet, and accepts what IPVS then takes, as
 * recorded with the kernel oracle (test/fixtures/ipvs-oracle/ipv6/edges/, replayed by
 * test/packet/ipv6-edges.test.ts):
 * - on receipt (ip6_rcv_core()): version 6, a Payload Length that fits the frame (0 in front of a
 *   hop-by-hop header means "the whole frame", since the kernel only checks it against a Jumbo
 *   option), no multicast source; a loopback source (::1) was dropped too in the oracle runs; then
 *   the hop-by-hop header, when it comes first, is checked option by option as ip6_parse_tlv() does
 *   with the default sysctls (hopByHopBadOption below);
 * - IPVS (ip_vs_fill_iph_skb) finds the transport header with ipv6_find_hdr() (exthdrs_core.c):
 *   hop-by-hop (0), routing (43), fragment (44), authentication (51) and destination options (60) are
 *   skipped, wherever they are and however many; any other Next Header value is the upper layer; a
 *   non-first fragment ends the walk with no transport header (l4Off = -1). Routing headers with
 *   segments left, destination options with unknown options, TCP data offsets and UDP lengths that
 *   make no sense: IPVS schedules all of them (they are only looked at after it has taken the packet),
 *   so they decode, with the odd values left in the fields.
 * Where the walk ends on an extension header that can never lead to TCP or UDP (ESP, Mobility, HIP,
 * Shim6, the experimental 253 and 254: RFC 7045's list), the decoder says so by name; the kernel just
 * sees another protocol, which is not IPVS's business either.
 */

import { ETH_HLEN, ETHERTYPE_VLAN, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
import { ETHERTYPE_IPV6, IPPROTO_ICMPV6 } from './ndp.ts';

export const IPV6_HLEN = 40;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** Linux's default net.ipv6.max_hbh_opts_number: options (not counting padding) in a hop-by-hop header. */
export const IPV6_MAX_HBH_OPTIONS = 8;

/**
 * Why an IPv6 frame was not decoded. Stable names, for counters and logs, in the style of the IPv4
 * data path's drop reasons (src/dataplane/verdict.ts); IPV6_DROP_REASON_HELP says what each means.
 */
export const IPV6_DROP_REASONS = [
  'ipv6-truncated-ethernet',
  'ipv6-not-ipv6',
  'ipv6-truncated-header',
  'ipv6-bad-version',
  'ipv6-truncated-packet',
  'ipv6-bad-source',
  'ipv6-truncated-ext-header',
  'ipv6-hop-by-hop-option',
  'ipv6-unknown-ext-header',
  'ipv6-truncated-l4-header',
] as const;

export type Ipv6DropReason = (typeof IPV6_DROP_REASONS)[number];

export const IPV6_DROP_REASON_HELP: Readonly<Record<Ipv6DropReason, string>> = {
  'ipv6-truncated-ethernet': 'fewer than 14 bytes (18 with an 802.1Q tag): no EtherType',
  'ipv6-not-ipv6': 'the EtherType is not 0x86dd',
  'ipv6-truncated-header': 'fewer than the 40 bytes of the fixed IPv6 header',
  'ipv6-bad-version': 'the version field is not 6',
  'ipv6-truncated-packet': 'the Payload Length runs past the end of the frame',
  'ipv6-bad-source': 'a multicast or loopback source address, which Linux drops on receipt (RFC 4291 section 2.7)',
  'ipv6-truncated-ext-header': 'an extension header (or its length byte) runs past the end of the packet',
  'ipv6-hop-by-hop-option': 'a hop-by-hop option Linux refuses: unknown with a discard action, a malformed router alert, IOAM or jumbo option, padding over 7 bytes or not zero, more than 8 options, or an option past the header',
  'ipv6-unknown-ext-header': 'an extension header the decoder cannot look behind (ESP, Mobility, HIP, Shim6, experimental 253/254): no TCP/UDP port to schedule on',
  'ipv6-truncated-l4-header': 'the TCP, UDP or ICMPv6 header runs past the end of the packet',
};

/** Extension headers with the generic (next, length) layout that the decoder does not walk. */
function isOpaqueExt(nh: number): boolean {
  return nh === IPPROTO_ESP || nh === 135 || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

/** The decoded fields of one IPv6 frame, reused from frame to frame (reset() clears it). */
export class Ipv6Info {
  /** Bytes considered: min(len, buf.length). */
  len = 0;
  vlanId = -1;
  /** Offset of the fixed IPv6 header (14, or 18 behind one VLAN tag). */
  l3Off = 0;
  payloadLen = 0;
  /** End of the IPv6 packet (l3Off + 40 + payloadLen): bytes past it are Ethernet padding. */
  l3End = 0;
  hopLimit = 0;
  trafficClass = 0;
  flowLabel = 0;
  /** The fixed header's Next Header. */
  nextHeader = 0;
  /** Offsets of the 16-byte source and destination addresses in the buffer. */
  srcOff = 0;
  dstOff = 0;
  /** Extension headers walked, and their total length in bytes. */
  extCount = 0;
  extLen = 0;
  /** A hop-by-hop header right after the fixed header (checked option by option). */
  hasHopByHop = false;
  /** A hop-by-hop header further down the chain: walked, not checked (as in Linux before IPVS). */
  hopByHopNotFirst = false;
  hasDstOpts = false;
  hasAuth = false;
  /** Segments Left of the routing header, -1 without one. */
  routingSegmentsLeft = -1;
  routingType = -1;
  /** A fragment header was seen: its offset (8-byte units), M flag and identification. */
  isFragment = false;
  fragOffset = 0;
  moreFragments = false;
  fragId = 0;
  /** Offset of the (last) fragment header, -1 without one, and of the Next Header byte that named it. */
  fragHeaderOff = -1;
  fragPrevNextOff = -1;
  /** The upper-layer protocol (6 TCP, 17 UDP, 58 ICMPv6, 59 none, …) where the walk ended. */
  upperProto = -1;
  /** Offset of the upper-layer header; -1 for a non-first fragment or No Next Header. */
  l4Off = -1;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  /** TCP data offset in bytes as written; payloadOff uses it only when it is 20..(bytes left). */
  tcpDataOffset = 0;
  /** The UDP Length field as written (IPVS does not check it). */
  udpLength = 0;
  payloadOff = 0;
  icmpType = 0;
  icmpCode = 0;
  /** '' after a successful decode. */
  reason: Ipv6DropReason | '' = '';
  errOffset = 0;
  errHave = 0;
  errWant = 0;

  reset(): void {
    this.len = 0;
    this.vlanId = -1;
    this.l3Off = 0;
    this.payloadLen = 0;
    this.l3End = 0;
    this.hopLimit = 0;
    this.trafficClass = 0;
    this.flowLabel = 0;
    this.nextHeader = 0;
    this.srcOff = 0;
    this.dstOff = 0;
    this.extCount = 0;
    this.extLen = 0;
    this.hasHopByHop = false;
    this.hopByHopNotFirst = false;
    this.hasDstOpts = false;
    this.hasAuth = false;
    this.routingSegmentsLeft = -1;
    this.routingType = -1;
    this.isFragment = false;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.fragId = 0;
    this.fragHeaderOff = -1;
    this.fragPrevNextOff = -1;
    this.upperProto = -1;
    this.l4Off = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpDataOffset = 0;
    this.udpLength = 0;
    this.payloadOff = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.reason = '';
    this.errOffset = 0;
    this.errHave = 0;
    this.errWant = 0;
  }
}

function fail(info: Ipv6Info, reason: Ipv6DropReason, offset: number, have: number, want: number): false {
  info.reason = reason;
  info.errOffset = offset;
  info.errHave = have;
  info.errWant = want;
  return false;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** "truncated ... (have of want bytes)" style text of a failed decode. Allocates: logs and tools only. */
export function describeIpv6Error(info: Ipv6Info): string {
  if (info.reason === '') return '';
  return `${info.reason} at byte ${info.errOffset}: ${IPV6_DROP_REASON_HELP[info.reason]} (have ${info.errHave}, want ${info.errWant})`;
}

/**
 * Decodes an Ethernet frame carrying IPv6. True when the headers up to the upper layer's are sound
 * (a non-first fragment, No Next Header or an upper layer other than TCP/UDP/ICMPv6 decode with just
 * the layers known); false with `info.reason` otherwise.
 */
export function decodeIPv6Frame(buf: Uint8Array, len: number, info: Ipv6Info): boolean {
  info.reset();
  const n = len >= 0 ? Math.floor(len < buf.length ? len : buf.length) : 0;
  info.len = n;
  if (n < ETH_HLEN) return fail(info, 'ipv6-truncated-ethernet', n, n, ETH_HLEN);
  let type = u16(buf, 12);
  let off = ETH_HLEN;
  if (type === ETHERTYPE_VLAN) {
    if (n < 18) return fail(info, 'ipv6-truncated-ethernet', n, n, 18);
    info.vlanId = u16(buf, 14) & 0x0fff;
    type = u16(buf, 16);
    off = 18;
  }
  if (type !== ETHERTYPE_IPV6) return fail(info, 'ipv6-not-ipv6', off - 2, type, ETHERTYPE_IPV6);
  return decodeIPv6Packet(buf, n, off, info);
}

/** The IPv6 packet at `off` (bytes up to `n`); decodeIPv6Frame without the Ethernet layer. */
export function decodeIPv6Packet(buf: Uint8Array, n: number, off: number, info: Ipv6Info): boolean {
  info.l3Off = off;
  if (n - off < IPV6_HLEN) return fail(info, 'ipv6-truncated-header', n, n - off, IPV6_HLEN);
  const v = buf[off]! >> 4;
  if (v !== 6) return fail(info, 'ipv6-bad-version', off, v, 6);
  info.trafficClass = ((buf[off]! & 15) << 4) | (buf[off + 1]! >> 4);
  info.flowLabel = ((buf[off + 1]! & 15) << 16) | u16(buf, off + 2);
  const plen = u16(buf, off + 4);
  info.payloadLen = plen;
  info.nextHeader = buf[off + 6]!;
  info.hopLimit = buf[off + 7]!;
  info.srcOff = off + 8;
  info.dstOff = off + 24;
  const start = off + IPV6_HLEN;
  if (plen > n - start) return fail(info, 'ipv6-truncated-packet', n, n - start, plen);
  // Payload Length 0 in front of a hop-by-hop header announces a jumbogram (RFC 2675). Linux checks
  // that only against a Jumbo option, and without one takes the packet as the whole frame.
  const end = plen === 0 && info.nextHeader === IPPROTO_HOPOPTS ? n : start + plen;
  info.l3End = end;
  const s0 = buf[off + 8]!;
  if (s0 === 0xff) return fail(info, 'ipv6-bad-source', off + 8, s0, 0);
  if (isLoopback(buf, off + 8)) return fail(info, 'ipv6-bad-source', off + 8, 1, 0);

  let nh = info.nextHeader;
  let p = start;
  let nhOff = off + 6;
  for (;;) {
    if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_DSTOPTS || nh === IPPROTO_AH || nh === IPPROTO_FRAGMENT) {
      // Every header is at least 8 bytes, so the walk ends within (end - start) / 8 steps.
      if (end - p < 8) return fail(info, 'ipv6-truncated-ext-header', end, end - p, 8);
      // Length: fragment 8; AH (payload len + 2) 4-byte units; the others (hdr ext len + 1) 8-byte units.
      const hl = nh === IPPROTO_FRAGMENT ? 8 : nh === IPPROTO_AH ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
      if (hl > end - p) return fail(info, 'ipv6-truncated-ext-header', end, end - p, hl);
      const next = buf[p]!;
      info.extCount++;
      info.extLen += hl;
      if (nh === IPPROTO_HOPOPTS) {
        if (p === start) {
          info.hasHopByHop = true;
          const bad = hopByHopBadOption(buf, off, p, hl);
          if (bad >= 0) return fail(info, 'ipv6-hop-by-hop-option', bad, buf[bad]!, 0);
        } else {
          info.hopByHopNotFirst = true;
        }
      } else if (nh === IPPROTO_DSTOPTS) info.hasDstOpts = true;
      else if (nh === IPPROTO_AH) info.hasAuth = true;
      else if (nh === IPPROTO_ROUTING) {
        info.routingType = buf[p + 2]!;
        info.routingSegmentsLeft = buf[p + 3]!;
      } else {
        const w = u16(buf, p + 2);
        info.isFragment = true;
        info.fragOffset = w >> 3;
        info.moreFragments = (w & 1) !== 0;
        info.fragId = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
        info.fragHeaderOff = p;
        info.fragPrevNextOff = nhOff;
        if (info.fragOffset !== 0) {
          // A later fragment: what follows is the middle of the datagram, not a header.
          info.upperProto = next;
          info.payloadOff = p + 8;
          return true;
        }
      }
      nh = next;
      nhOff = p;
      p += hl;
      continue;
    }
    break;
  }
  info.upperProto = nh;
  if (isOpaqueExt(nh)) return fail(info, 'ipv6-unknown-ext-header', p, nh, 0);
  if (nh === IPPROTO_NONE) {
    info.payloadOff = p;
    return true;
  }
  info.l4Off = p;
  // A first fragment (M set) may stop before the end of its upper-layer header: it is read once
  // the datagram is reassembled.
  const partial = info.isFragment && info.moreFragments;
  switch (nh) {
    case IPPROTO_TCP: {
      if (end - p < 20) return partial ? true : fail(info, 'ipv6-truncated-l4-header', end, end - p, 20);
      const doff = (buf[p + 12]! >> 4) * 4;
      info.tcpDataOffset = doff;
      info.srcPort = u16(buf, p);
      info.dstPort = u16(buf, p + 2);
      info.tcpFlags = buf[p + 13]!;
      info.payloadOff = doff >= 20 && doff <= end - p ? p + doff : p + 20;
      return true;
    }
    case IPPROTO_UDP: {
      if (end - p < 8) return partial ? true : fail(info, 'ipv6-truncated-l4-header', end, end - p, 8);
      info.udpLength = u16(buf, p + 4);
      info.srcPort = u16(buf, p);
      info.dstPort = u16(buf, p + 2);
      info.payloadOff = p + 8;
      return true;
    }
    case IPPROTO_ICMPV6: {
      if (end - p < 4) return partial ? true : fail(info, 'ipv6-truncated-l4-header', end, end - p, 4);
      info.icmpType = buf[p]!;
      info.icmpCode = buf[p + 1]!;
      info.payloadOff = p + 4;
      return true;
    }
    default:
      info.payloadOff = p;
      return true;
  }
}

function isLoopback(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 15; i++) if (b[o + i] !== 0) return false;
  return b[o + 15] === 1;
}

const TLV_PAD1 = 0;
const TLV_PADN = 1;
const TLV_ROUTER_ALERT = 5;
const TLV_CALIPSO = 7;
const TLV_IOAM = 0x31;
const TLV_JUMBO = 0xc2;

/**
 * The option checks of a leading hop-by-hop header, as Linux 6.1's ip6_parse_tlv(hopbyhop) with
 * the default sysctls (at most IPV6_MAX_HBH_OPTIONS options, unknown options allowed): returns the
 * offset of the first option it would drop the packet for, or -1. `l3` is the IPv6 header, `p` and
 * `hl` the hop-by-hop header. Padding (Pad1/PadN) may not run over 7 bytes in a row and PadN must
 * be zeros; an unknown option's two high bits say skip (00) or drop (01, 10, and 11 — the VIP is
 * never multicast); router alert must be 2 bytes; an IOAM option must sit at a multiple of 4 (it is
 * then ignored, IOAM being off by default); a Jumbo option is always refused here, since the length
 * it must carry (over 65535) cannot fit an Ethernet frame; CALIPSO is checked for its own length
 * fields only (the kernel also asks the CALIPSO labelling engine, which is not modelled).
 */
function hopByHopBadOption(buf: Uint8Array, l3: number, p: number, hl: number): number {
  const end = p + hl;
  let o = p + 2;
  let padlen = 0;
  let count = 0;
  while (o < end) {
    const t = buf[o]!;
    if (t === TLV_PAD1) {
      if (++padlen > 7) return o;
      o++;
      continue;
    }
    if (end - o < 2) return o;
    const optlen = buf[o + 1]! + 2;
    if (optlen > end - o) return o;
    if (t === TLV_PADN) {
      padlen += optlen;
      if (padlen > 7) return o;
      for (let i = 2; i < optlen; i++) if (buf[o + i] !== 0) return o;
    } else {
      if (++count > IPV6_MAX_HBH_OPTIONS) return o;
      const optoff = o - l3;
      switch (t) {
        case TLV_ROUTER_ALERT:
          if (optlen !== 4) return o;
          break;
        case TLV_IOAM:
          if ((optoff & 3) !== 0) return o;
          break;
        case TLV_JUMBO:
          // ipv6_hop_jumbo: 4 bytes at 4n+2, a value over 65535, Payload Length 0, and the value
          // within the frame — which no Ethernet frame can satisfy.
          return o;
        case TLV_CALIPSO:
          if (optlen - 2 < 8 || buf[o + 6]! * 4 + 8 > optlen - 2) return o;
          break;
        default:
          if ((t & 0xc0) !== 0) return o;
      }
      padlen = 0;
    }
    o += optlen;
  }
  return -1;
}

/**
 * Lowers the hop limit of the IPv6 packet at `l3Off` by one, in place, as IPVS does to every frame
 * it forwards (OUT.json's `hlim-1`). IPv6 has no header checksum and the hop limit is not part of
 * the upper-layer pseudo-header, so nothing else changes. Returns false, leaving the frame as it
 * was, when the hop limit is 0 or 1 (or the header is not there): such a packet must not be
 * forwarded (RFC 8200 section 3; the sender is owed an ICMPv6 Time Exceeded, code 0).
 */
export function decrementHopLimit(buf: Uint8Array, l3Off: number): boolean {
  const o = l3Off + 7;
  if (l3Off < 0 || o >= buf.length) return false;
  const h = buf[o]!;
  if (h <= 1) return false;
  buf[o] = h - 1;
  return true;
}
