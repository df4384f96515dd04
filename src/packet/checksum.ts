/**
 * The Internet checksum (RFC 1071), the TCP/UDP pseudo-header over IPv4, verification helpers for a
 * decoded frame, and the incremental update of RFC 1624 used when the director decrements the TTL.
 *
 * Everything here works on numbers and caller-owned bytes: no allocation, no exceptions. Ranges are
 * clamped to the buffer, so a bad offset or length yields a wrong sum, never a read out of bounds.
 *
 * Vocabulary: a "sum" is the 16-bit one's complement sum of big-endian words, folded (end-around
 * carry) into 0..0xffff; the "checksum" is its complement, the value stored in a header.
 */

import { ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
import type { FrameInfo } from './decode.ts';

/** Folds a non-negative integer sum of 16-bit words (any safe integer) into 0..0xffff with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) {
    sum = sum > 0xffffffff ? (sum % 0x10000) + Math.floor(sum / 0x10000) : (sum & 0xffff) + (sum >>> 16);
  }
  return sum;
}

/**
 * Adds the bytes buf[off .. off+len) as big-endian 16-bit words to `initial` (a folded sum, or 0)
 * and returns the folded sum. An odd trailing byte counts as the high half of a word padded with
 * zero (RFC 1071 4.1). The range is clamped to the buffer.
 */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let i = off > 0 ? Math.floor(off) : 0;
  let end = Math.floor(off + len);
  if (!(end <= buf.length)) end = buf.length;
  let sum = initial;
  if (i >= end) return foldSum(sum);
  const pairsEnd = end - ((end - i) & 1);
  // A plain number holds 2^37 words before losing precision, far beyond any frame.
  for (; i < pairsEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (pairsEnd < end) sum += buf[pairsEnd]! << 8;
  return foldSum(sum);
}

/** The RFC 1071 checksum of buf[off .. off+len): the complement of the folded sum. */
export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  return ~onesSum(buf, off, len) & 0xffff;
}

/**
 * Folded sum of the IPv4 pseudo-header for TCP/UDP: source, destination (u32, host order), zero,
 * protocol and the L4 length (header + payload, in bytes).
 */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4Len: number): number {
  return foldSum(
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (proto & 0xff) + (l4Len & 0xffff),
  );
}

/**
 * The TCP or UDP checksum of buf[off .. off+len) with the IPv4 pseudo-header. The checksum field in
 * the range must be zero when computing (or hold the stored value when verifying: the result is then
 * 0 for a correct segment). For UDP, a computed 0 is sent as 0xffff (RFC 768); see udpChecksumOut.
 */
export function l4Checksum(
  buf: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
  proto: number,
): number {
  return ~onesSum(buf, off, len, pseudoHeaderSum(src, dst, proto, len)) & 0xffff;
}

/** The value to store in a UDP checksum field: 0 means "no checksum" on the wire, so 0 becomes 0xffff. */
export function udpChecksumOut(computed: number): number {
  return computed === 0 ? 0xffff : computed;
}

function isIPv4(buf: Uint8Array, info: FrameInfo): boolean {
  return (
    info.etherType === ETHERTYPE_IPV4 &&
    info.ipHeaderLen >= 20 &&
    info.l3Off >= 0 &&
    info.l3Off + info.ipHeaderLen <= buf.length &&
    info.l3End <= buf.length
  );
}

/** True when the IPv4 header checksum of a decoded frame is correct. False when there is no IPv4 header. */
export function ipv4HeaderChecksumOk(buf: Uint8Array, info: FrameInfo): boolean {
  if (!isIPv4(buf, info)) return false;
  return onesSum(buf, info.l3Off, info.ipHeaderLen) === 0xffff;
}

/** Unfragmented packets only: a fragment's L4 checksum covers bytes this frame does not hold. */
function l4Verifiable(buf: Uint8Array, info: FrameInfo, proto: number): boolean {
  return (
    isIPv4(buf, info) &&
    info.ipProto === proto &&
    info.l4Off >= 0 &&
    info.fragOffset === 0 &&
    !info.moreFragments
  );
}

/**
 * True when the TCP checksum of a decoded, unfragmented IPv4 frame is correct. False for anything
 * else (not TCP, a fragment, or a bad checksum).
 */
export function tcpChecksumOk(buf: Uint8Array, info: FrameInfo): boolean {
  if (!l4Verifiable(buf, info, IPPROTO_TCP)) return false;
  const len = info.l3End - info.l4Off;
  return onesSum(buf, info.l4Off, len, pseudoHeaderSum(info.ipSrc, info.ipDst, IPPROTO_TCP, len)) === 0xffff;
}

/**
 * True when the UDP checksum of a decoded, unfragmented IPv4 frame is correct, or absent (a zero
 * field means the sender computed none, which IPv4 allows). The sum covers the UDP length field's
 * bytes, not any IP-level slack behind them.
 */
export function udpChecksumOk(buf: Uint8Array, info: FrameInfo): boolean {
  if (!l4Verifiable(buf, info, IPPROTO_UDP)) return false;
  const o = info.l4Off;
  if (buf[o + 6] === 0 && buf[o + 7] === 0) return true;
  const len = (buf[o + 4]! << 8) | buf[o + 5]!;
  if (len < 8 || o + len > info.l3End) return false;
  return onesSum(buf, o, len, pseudoHeaderSum(info.ipSrc, info.ipDst, IPPROTO_UDP, len)) === 0xffff;
}

/** True when the ICMP checksum (over the whole ICMP message, no pseudo-header) of an unfragmented frame is correct. */
export function icmpChecksumOk(buf: Uint8Array, info: FrameInfo): boolean {
  if (!l4Verifiable(buf, info, IPPROTO_ICMP)) return false;
  return onesSum(buf, info.l4Off, info.l3End - info.l4Off) === 0xffff;
}

/**
 * RFC 1624 eqn 3: the new checksum after one 16-bit word of the covered data changes from `oldWord`
 * to `newWord`: HC' = ~(~HC + ~m + m'). Working on the complemented values with end-around carry
 * never produces 0xffff from a valid header, so the result equals a full recompute — the "minus
 * zero" trap of eqn 2 (HC - ~m - m') does not arise.
 */
export function checksumAdjust(hc: number, oldWord: number, newWord: number): number {
  const sum = (~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/**
 * Decrements the TTL of the IPv4 header at `l3Off` in place and updates the header checksum
 * incrementally (RFC 1624), as the kernel does when forwarding. The caller decides what to do with
 * TTL 0 or 1 before calling (IPVS drops and answers ICMP time exceeded); a TTL of 0 is left alone
 * rather than wrapped to 255. Does nothing when the header's TTL and checksum bytes lie outside buf.
 */
export function decrementTtl(buf: Uint8Array, l3Off: number): void {
  if (!(l3Off >= 0) || l3Off + 12 > buf.length) return;
  const ttl = buf[l3Off + 8]!;
  if (ttl === 0) return;
  const proto = buf[l3Off + 9]!;
  const hc = (buf[l3Off + 10]! << 8) | buf[l3Off + 11]!;
  // TTL is the high byte of the word it shares with the protocol.
  const next = checksumAdjust(hc, (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
  buf[l3Off + 8] = ttl - 1;
  buf[l3Off + 10] = next >>> 8;
  buf[l3Off + 11] = next & 0xff;
}

/** Recomputes and stores the IPv4 header checksum at `l3Off` (header length from the IHL field). */
export function setIpv4HeaderChecksum(buf: Uint8Array, l3Off: number): void {
  if (!(l3Off >= 0) || l3Off + 20 > buf.length) return;
  const hl = (buf[l3Off]! & 15) * 4;
  if (hl < 20 || l3Off + hl > buf.length) return;
  buf[l3Off + 10] = 0;
  buf[l3Off + 11] = 0;
  const c = internetChecksum(buf, l3Off, hl);
  buf[l3Off + 10] = c >>> 8;
  buf[l3Off + 11] = c & 0xff;
}
