/**
 * What the kernel does with IPv4 frames to a VIP before and beside IPVS, as pure functions over a
 * decoded frame (FrameInfo) — checked against Linux 6.1 with the oracle (test/fixtures/ipvs-oracle/edges):
 *
 * - ip_rcv drops a header whose checksum is wrong, and ip_rcv_options one whose options do not
 *   parse (answering ICMP parameter problem): `ipHeaderChecksumOk`, `ipOptionsOk`;
 * - ip_rcv trims the frame to the IPv4 total length: Ethernet padding never leaves the director;
 * - the VIP is a local address: an echo request gets an echo reply from the director's own stack
 *   (`buildEchoReply`);
 * - the DR transmit lowers the TTL; at 1 or 0 it drops the packet (after scheduling it) and sends
 *   ICMP time exceeded (`buildTimeExceeded`), rate-limited as icmp_send is (icmp-limit.ts);
 * - ip_vs_in_icmp forwards an ICMP error (destination unreachable, source quench, time exceeded)
 *   that quotes a known connection to that connection's real server (`quotedFlow`).
 *
 * No I/O, no clock, no allocation: replies are written into a caller's buffer.
 */
import { internetChecksum, setIpv4HeaderChecksum, type FrameInfo } from '../packet/index.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

/**
 * True when the IPv4 header checksum at `l3Off` (header of `hl` bytes) is right. Every frame to a
 * VIP pays this (ip_rcv does too): the common 20-byte header is summed unrolled, as 10 words.
 */
export function ipHeaderChecksumOk(buf: Uint8Array, l3Off: number, hl: number): boolean {
  if (hl !== 20) return internetChecksum(buf, l3Off, hl) === 0;
  const o = l3Off;
  let s = ((buf[o]! << 8) | buf[o + 1]!) + ((buf[o + 2]! << 8) | buf[o + 3]!) + ((buf[o + 4]! << 8) | buf[o + 5]!) +
    ((buf[o + 6]! << 8) | buf[o + 7]!) + ((buf[o + 8]! << 8) | buf[o + 9]!) + ((buf[o + 10]! << 8) | buf[o + 11]!) +
    ((buf[o + 12]! << 8) | buf[o + 13]!) + ((buf[o + 14]! << 8) | buf[o + 15]!) + ((buf[o + 16]! << 8) | buf[o + 17]!) +
    ((buf[o + 18]! << 8) | buf[o + 19]!);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/**
 * The structural checks of ip_options_compile for a host: every option's length fits the header,
 * record-route / source-route pointers are at least 4 and timestamps' at least 5. A header without
 * options is fine.
 */
export function ipOptionsOk(buf: Uint8Array, l3Off: number, hl: number): boolean {
  let o = l3Off + 20;
  const end = l3Off + hl;
  while (o < end) {
    const type = buf[o]!;
    if (type === 0) return true; // end of option list
    if (type === 1) {
      o++; // no-operation
      continue;
    }
    if (o + 1 >= end) return false;
    const len = buf[o + 1]!;
    if (len < 2 || o + len > end) return false;
    if ((type === 7 || type === 131 || type === 137) && (len < 3 || buf[o + 2]! < 4)) return false; // RR, LSRR, SSRR
    if (type === 68 && (len < 4 || buf[o + 2]! < 5)) return false; // timestamp
    o += len;
  }
  return true;
}

/** True for the ICMP types ip_vs_in_icmp treats as errors about a connection. */
export function isIcmpErrorForIpvs(type: number): boolean {
  return type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_TIME_EXCEEDED;
}

/** The flow an ICMP error quotes, seen from the client's side (the quoted packet went VIP -> client). */
export interface QuotedFlow {
  proto: number;
  /** The client: the quoted packet's destination. */
  client: number;
  clientPort: number;
  /** The virtual service: the quoted packet's source. */
  vip: number;
  vport: number;
}

/**
 * Reads the quoted IPv4 header and ports of an ICMP error (its payload starts at info.payloadOff).
 * Null when the quote is shorter than its IP header plus the two ports, is a later fragment, or
 * carries neither TCP nor UDP — the kernel then leaves the error to the local stack.
 */
export function quotedFlow(buf: Uint8Array, info: FrameInfo, out: QuotedFlow): QuotedFlow | null {
  const q = info.payloadOff;
  const end = info.l3End;
  if (end - q < 20) return null;
  const hl = (buf[q]! & 15) * 4;
  if (buf[q]! >> 4 !== 4 || hl < 20) return null;
  const fragOff = ((buf[q + 6]! << 8) | buf[q + 7]!) & 0x1fff;
  if (fragOff !== 0) return null;
  const proto = buf[q + 9]!;
  if (proto !== 6 && proto !== 17) return null;
  if (end - q < hl + 4) return null;
  out.proto = proto;
  out.vip = ((buf[q + 12]! << 24) | (buf[q + 13]! << 16) | (buf[q + 14]! << 8) | buf[q + 15]!) >>> 0;
  out.client = ((buf[q + 16]! << 24) | (buf[q + 17]! << 16) | (buf[q + 18]! << 8) | buf[q + 19]!) >>> 0;
  out.vport = (buf[q + hl]! << 8) | buf[q + hl + 1]!;
  out.clientPort = (buf[q + hl + 2]! << 8) | buf[q + hl + 3]!;
  return out;
}

function writeIpv4(out: Uint8Array, o: number, total: number, proto: number, src: number, dst: number): void {
  out[o] = 0x45;
  out[o + 1] = 0;
  out[o + 2] = total >>> 8;
  out[o + 3] = total & 0xff;
  out[o + 4] = 0; // identification: one datagram, never fragmented (DF off, as Linux's ICMP socket sends)
  out[o + 5] = 0;
  out[o + 6] = 0;
  out[o + 7] = 0;
  out[o + 8] = 64;
  out[o + 9] = proto;
  out[o + 12] = src >>> 24; out[o + 13] = (src >>> 16) & 0xff; out[o + 14] = (src >>> 8) & 0xff; out[o + 15] = src & 0xff;
  out[o + 16] = dst >>> 24; out[o + 17] = (dst >>> 16) & 0xff; out[o + 18] = (dst >>> 8) & 0xff; out[o + 19] = dst & 0xff;
  setIpv4HeaderChecksum(out, o);
}

/** Ethernet header of a reply: back to the frame's sender, from `selfMac`, same VLAN tag. */
function writeEthernet(out: Uint8Array, frame: Uint8Array, info: FrameInfo, selfMac: Uint8Array): number {
  out.set(frame.subarray(6, 12), 0);
  out.set(selfMac, 6);
  if (info.l3Off === 18) out.set(frame.subarray(12, 16), 12); // keep the 802.1Q tag
  out[info.l3Off - 2] = 0x08;
  out[info.l3Off - 1] = 0x00;
  return info.l3Off;
}

/**
 * Writes the echo reply to an echo request (to the VIP) into `out` and returns its length, or 0 when
 * `out` is too small. The reply carries the request's identifier, sequence and data, from the VIP.
 */
export function buildEchoReply(frame: Uint8Array, info: FrameInfo, selfMac: Uint8Array, out: Uint8Array): number {
  const icmpLen = info.l3End - info.l4Off;
  const l3 = info.l3Off;
  const total = 20 + icmpLen;
  if (l3 + total > out.length) return 0;
  writeEthernet(out, frame, info, selfMac);
  writeIpv4(out, l3, total, 1, info.ipDst, info.ipSrc);
  const o = l3 + 20;
  out.set(frame.subarray(info.l4Off, info.l3End), o);
  out[o] = ICMP_ECHO_REPLY;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = 0;
  const c = internetChecksum(out, o, icmpLen);
  out[o + 2] = c >>> 8;
  out[o + 3] = c & 0xff;
  return l3 + total;
}

/**
 * Writes ICMP time exceeded (TTL exceeded in transit) about `frame` into `out`, from `from` (the
 * VIP: the address the client sent to) to the frame's source, quoting its IPv4 header and the first
 * 8 bytes after it, as icmp_send does. Returns the length, or 0 when `out` is too small.
 */
export function buildTimeExceeded(frame: Uint8Array, info: FrameInfo, selfMac: Uint8Array, from: number, out: Uint8Array): number {
  const l3 = info.l3Off;
  const quote = Math.min(info.ipHeaderLen + 8, info.l3End - l3);
  const icmpLen = 8 + quote;
  const total = 20 + icmpLen;
  if (l3 + total > out.length) return 0;
  writeEthernet(out, frame, info, selfMac);
  writeIpv4(out, l3, total, 1, from, info.ipSrc);
  const o = l3 + 20;
  out[o] = ICMP_TIME_EXCEEDED;
  out[o + 1] = 0;
  out.fill(0, o + 2, o + 8);
  out.set(frame.subarray(l3, l3 + quote), o + 8);
  const c = internetChecksum(out, o, icmpLen);
  out[o + 2] = c >>> 8;
  out[o + 3] = c & 0xff;
  return l3 + total;
}
