/**
 * The ICMPv6 echo reply a host sends for an echo request to one of its addresses (Linux's
 * icmpv6_echo_reply): from the address asked, to the requester, with the request's identifier,
 * sequence number and data, the request's traffic class (ipc6.tclass = the request's dsfield), no
 * flow label and the default hop limit (64). Extension headers of the request are not echoed.
 * Linux does not rate-limit echo replies by default (net.ipv6.icmp.ratemask leaves type 129 out),
 * and neither does this.
 */
import { ETHERTYPE_IPV6, icmpv6Checksum, IPPROTO_ICMPV6 } from './ndp.ts';
import type { Ipv6Info } from './ipv6.ts';

export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
/** The hop limit of a reply: net.ipv6.conf.*.hop_limit, 64 by default. */
export const ECHO_REPLY_HOP_LIMIT = 64;

/**
 * Writes the echo reply to the echo request in `frame` (decoded into `i6`, l4Off at its ICMPv6
 * header) into `out` and returns its length; 0 when `out` is too small. The Ethernet header keeps
 * the request's (a VLAN tag stays), with the MACs swapped for the director's.
 */
export function writeEchoReply6(frame: Uint8Array, i6: Ipv6Info, selfMac: Uint8Array, out: Uint8Array): number {
  const l3 = i6.l3Off;
  const icmpLen = i6.l3End - i6.l4Off;
  const n = l3 + 40 + icmpLen;
  if (icmpLen < 8 || n > out.length) return 0;
  out.set(frame.subarray(6, 12), 0);
  out.set(selfMac, 6);
  out.set(frame.subarray(12, l3), 12);
  out[l3 - 2] = ETHERTYPE_IPV6 >> 8;
  out[l3 - 1] = ETHERTYPE_IPV6 & 0xff;
  const tclass = i6.trafficClass;
  out[l3] = 0x60 | (tclass >> 4);
  out[l3 + 1] = (tclass & 15) << 4;
  out[l3 + 2] = 0;
  out[l3 + 3] = 0;
  out[l3 + 4] = icmpLen >> 8;
  out[l3 + 5] = icmpLen & 0xff;
  out[l3 + 6] = IPPROTO_ICMPV6;
  out[l3 + 7] = ECHO_REPLY_HOP_LIMIT;
  out.set(frame.subarray(i6.dstOff, i6.dstOff + 16), l3 + 8);
  out.set(frame.subarray(i6.srcOff, i6.srcOff + 16), l3 + 24);
  const o = l3 + 40;
  out.set(frame.subarray(i6.l4Off, i6.l3End), o);
  out[o] = ICMPV6_ECHO_REPLY;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = 0;
  const c = icmpv6Checksum(out.subarray(l3 + 8, l3 + 24), out.subarray(l3 + 24, l3 + 40), out, o, icmpLen);
  out[o + 2] = c >> 8;
  out[o + 3] = c & 0xff;
  return n;
}
