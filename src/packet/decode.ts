/**
 * The zero-allocation frame decoder used on the packet path.
 *
 * `decodeFrame(buf, len, info)` fills a caller-owned FrameInfo in place and returns true, or
 * returns false with `info.errLayer`, `info.errOffset` and `info.errReason` naming what is wrong
 * (`describeDecodeError(info)` adds the numbers). Neither path allocates.
 * It never throws and never reads past `len` (nor past `buf.length`): every field is bounds-checked
 * before it is read. Offsets are absolute within the frame.
 */

export type Layer = 'ethernet' | 'vlan' | 'arp' | 'ipv4' | 'tcp' | 'udp' | 'icmp';

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export class FrameInfo {
  /** Bytes of the frame considered (min of len and buf.length). */
  len = 0;
  /** 802.1Q VLAN id, or -1 when the frame is untagged. */
  vlanId = -1;
  /** EtherType after any VLAN tag. */
  etherType = 0;
  /** Offset of the layer-3 header (14, or 18 behind one VLAN tag). */
  l3Off = 0;

  // --- IPv4 (valid when etherType === ETHERTYPE_IPV4) ---
  ipHeaderLen = 0;
  ipTotalLen = 0;
  ttl = 0;
  ipProto = 0;
  /** u32, host order. */
  ipSrc = 0;
  ipDst = 0;
  /** Fragment offset in 8-byte units; non-zero means a later fragment (no L4 header). */
  fragOffset = 0;
  moreFragments = false;
  dontFragment = false;
  /** Offset of the L4 header, or -1 when there is none (later fragment). */
  l4Off = -1;
  /** End of the IPv4 packet (l3Off + ipTotalLen): bytes past it are Ethernet padding. */
  l3End = 0;

  // --- TCP / UDP ---
  srcPort = 0;
  dstPort = 0;
  /** TCP flags byte (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 …), 0 for UDP. */
  tcpFlags = 0;
  /** Offset of the L4 payload. */
  payloadOff = 0;

  // --- ICMP ---
  icmpType = 0;
  icmpCode = 0;

  // --- ARP (valid when etherType === ETHERTYPE_ARP) ---
  arpOp = 0;
  /** Sender / target protocol addresses, u32. Hardware addresses are at arpShaOff / arpThaOff. */
  arpSpa = 0;
  arpTpa = 0;
  arpShaOff = 0;
  arpThaOff = 0;

  // --- error (valid when decodeFrame returned false) ---
  errLayer: Layer = 'ethernet';
  errOffset = 0;
  /** A constant phrase (no numbers, no allocation); '' when the decode succeeded. */
  errReason = '';
  /** The numbers behind errReason: what the frame had and what was needed (see describeDecodeError). */
  errHave = 0;
  errWant = 0;

  /** Clears every field, so nothing from a previous frame survives into the next decode. */
  reset(): void {
    this.len = 0;
    this.vlanId = -1;
    this.etherType = 0;
    this.l3Off = 0;
    this.ipHeaderLen = 0;
    this.ipTotalLen = 0;
    this.ttl = 0;
    this.ipProto = 0;
    this.ipSrc = 0;
    this.ipDst = 0;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.dontFragment = false;
    this.l4Off = -1;
    this.l3End = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.payloadOff = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.arpOp = 0;
    this.arpSpa = 0;
    this.arpTpa = 0;
    this.arpShaOff = 0;
    this.arpThaOff = 0;
    this.errLayer = 'ethernet';
    this.errOffset = 0;
    this.errReason = '';
    this.errHave = 0;
    this.errWant = 0;
  }
}

/** Records an error. `reason` is always a string literal and the numbers go to fields: no allocation. */
function fail(info: FrameInfo, layer: Layer, offset: number, reason: string, have: number, want: number): false {
  info.errLayer = layer;
  info.errOffset = offset;
  info.errReason = reason;
  info.errHave = have;
  info.errWant = want;
  return false;
}

/**
 * The error of a failed decode as one sentence with its numbers, e.g. "truncated IPv4 packet (46 of
 * 47 bytes)". Allocates: for logs, tools and PacketError, not for the packet path.
 */
export function describeDecodeError(info: FrameInfo): string {
  const r = info.errReason;
  const have = info.errHave;
  const want = info.errWant;
  if (r.startsWith('truncated')) return `${r} (${have} of ${want} bytes)`;
  switch (r) {
    case 'IP version is not 4':
      return `IP version ${have}, not 4`;
    case 'IPv4 header length below 20':
      return `IPv4 header length ${have} below 20`;
    case 'IPv4 total length below header length':
      return `IPv4 total length ${have} below header length ${want}`;
    case 'TCP data offset below 20':
      return `TCP data offset ${have} below 20`;
    case 'UDP length out of range':
      return `UDP length ${have} outside 8..${want}`;
    default:
      return r;
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes Ethernet II (optionally one 802.1Q tag), then ARP or IPv4 and its TCP/UDP/ICMP header.
 * Other EtherTypes and IP protocols decode successfully with only the layers that are known.
 */
export function decodeFrame(buf: Uint8Array, len: number, info: FrameInfo): boolean {
  info.reset();
  // A length that is not a non-negative number (NaN, negative) counts as 0; fractions round down.
  const n = len >= 0 ? Math.floor(len < buf.length ? len : buf.length) : 0;
  info.len = n;
  if (n < ETH_HLEN) return fail(info, 'ethernet', n, 'truncated Ethernet header', n, 14);
  let type = u16(buf, 12);
  let off = ETH_HLEN;
  if (type === ETHERTYPE_VLAN) {
    if (n < 18) return fail(info, 'vlan', n, 'truncated 802.1Q tag', n, 18);
    info.vlanId = u16(buf, 14) & 0x0fff;
    type = u16(buf, 16);
    off = 18;
  }
  info.etherType = type;
  info.l3Off = off;
  if (type === ETHERTYPE_IPV4) return decodeIPv4(buf, n, off, info);
  if (type === ETHERTYPE_ARP) return decodeArp(buf, n, off, info);
  return true;
}

function decodeArp(buf: Uint8Array, n: number, off: number, info: FrameInfo): boolean {
  if (n - off < 28) return fail(info, 'arp', n, 'truncated ARP packet', n - off, 28);
  if (u16(buf, off) !== 1 || u16(buf, off + 2) !== ETHERTYPE_IPV4 || buf[off + 4] !== 6 || buf[off + 5] !== 4) {
    return fail(info, 'arp', off, 'ARP for something other than Ethernet/IPv4', 0, 0);
  }
  info.arpOp = u16(buf, off + 6);
  info.arpShaOff = off + 8;
  info.arpSpa = u32(buf, off + 14);
  info.arpThaOff = off + 18;
  info.arpTpa = u32(buf, off + 24);
  return true;
}

function decodeIPv4(buf: Uint8Array, n: number, off: number, info: FrameInfo): boolean {
  if (n - off < 20) return fail(info, 'ipv4', n, 'truncated IPv4 header', n - off, 20);
  const vihl = buf[off]!;
  if (vihl >> 4 !== 4) return fail(info, 'ipv4', off, 'IP version is not 4', vihl >> 4, 4);
  const hl = (vihl & 15) * 4;
  if (hl < 20) return fail(info, 'ipv4', off, 'IPv4 header length below 20', hl, 20);
  if (n - off < hl) return fail(info, 'ipv4', n, 'truncated IPv4 options', n - off, hl);
  const total = u16(buf, off + 2);
  if (total < hl) return fail(info, 'ipv4', off + 2, 'IPv4 total length below header length', total, hl);
  if (total > n - off) return fail(info, 'ipv4', n, 'truncated IPv4 packet', n - off, total);
  const frag = u16(buf, off + 6);
  info.ipHeaderLen = hl;
  info.ipTotalLen = total;
  info.l3End = off + total;
  info.dontFragment = (frag & 0x4000) !== 0;
  info.moreFragments = (frag & 0x2000) !== 0;
  info.fragOffset = frag & 0x1fff;
  info.ttl = buf[off + 8]!;
  info.ipProto = buf[off + 9]!;
  info.ipSrc = u32(buf, off + 12);
  info.ipDst = u32(buf, off + 16);
  if (info.fragOffset !== 0) return true; // a later fragment carries no L4 header
  const l4 = off + hl;
  const end = off + total;
  info.l4Off = l4;
  // A first fragment may carry less than its L4 header: the datagram is decoded once reassembled.
  if (info.moreFragments && end - l4 < (info.ipProto === 6 ? 20 : 8)) return true;
  switch (info.ipProto) {
    case 6: {
      if (end - l4 < 20) return fail(info, 'tcp', end, 'truncated TCP header', end - l4, 20);
      const doff = (buf[l4 + 12]! >> 4) * 4;
      if (doff < 20) return fail(info, 'tcp', l4 + 12, 'TCP data offset below 20', doff, 20);
      if (doff > end - l4) {
        if (info.moreFragments) return true;
        return fail(info, 'tcp', end, 'truncated TCP options', end - l4, doff);
      }
      info.srcPort = u16(buf, l4);
      info.dstPort = u16(buf, l4 + 2);
      info.tcpFlags = buf[l4 + 13]!;
      info.payloadOff = l4 + doff;
      return true;
    }
    case 17: {
      if (end - l4 < 8) return fail(info, 'udp', end, 'truncated UDP header', end - l4, 8);
      const ulen = u16(buf, l4 + 4);
      // The UDP length covers the whole datagram: in a first fragment (MF set) it may exceed what
      // this fragment carries, so only the lower bound applies there.
      if (ulen < 8 || (ulen > end - l4 && !info.moreFragments)) {
        return fail(info, 'udp', l4 + 4, 'UDP length out of range', ulen, end - l4);
      }
      info.srcPort = u16(buf, l4);
      info.dstPort = u16(buf, l4 + 2);
      info.payloadOff = l4 + 8;
      return true;
    }
    case 1: {
      if (end - l4 < 8) return fail(info, 'icmp', end, 'truncated ICMP header', end - l4, 8);
      info.icmpType = buf[l4]!;
      info.icmpCode = buf[l4 + 1]!;
      info.payloadOff = l4 + 8;
      return true;
    }
    default:
      return true;
  }
}
