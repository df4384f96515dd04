/**
 * ICMPv6 at the edges of the IPv6 data path, as Linux 6.1 does it for IPVS in DR mode (checked
 * against the kernel with the oracle run test/fixtures/ipvs-oracle/ipv6/icmp6, replayed by
 * test/replay/icmp6-oracle.test.ts):
 *
 * - ip_vs_in_icmp_v6: an ICMPv6 error (any type below 128: Packet Too Big, Destination
 *   Unreachable, Time Exceeded, Parameter Problem, …) to a VIP6 whose quoted packet is a packet of
 *   a connection, seen the way a router on the way back saw it (VIP6 -> client, the real's direct
 *   reply), is counted to that connection and sent on to its real by the DR transmit: the
 *   Ethernet addresses rewritten and the hop limit lowered, nothing else. This is what makes path
 *   MTU discovery work through DSR: IPv6 routers never fragment, they send Packet Too Big to the
 *   VIP6, and only the real can act on it. The kernel does not check the ICMPv6 checksum here
 *   (the oracle's error with a wrong checksum was sent on), and neither does dsrlb.
 * - Everything else is the director's own stack's business (the kernel accepts it to the local
 *   stack, which consumes it): a quote with no connection, one too short for its IPv6 header and
 *   ports, a quoted later fragment, a quoted protocol other than TCP or UDP.
 * - At hop limit 1 or 0 the DR transmit (decrement_ttl) drops the packet and sends ICMPv6 Time
 *   Exceeded to its source from the VIP6 (icmpv6_send picks the local destination address),
 *   quoting up to 1232 bytes of it, rate-limited as icmpv6_xrlim_allow does. Never about an
 *   ICMPv6 error (is_ineligible), nor to the unspecified address.
 *
 * No I/O, no clock: the caller passes the time and the output buffer.
 */
import type { ConnTable } from '../conn/index.ts';
import { loadKey6 } from '../conn/index.ts';
import type { Dest } from '../model/index.ts';
import { IPPROTO_ICMPV6, onesSum, pseudoHeaderSum6, type Ipv6Info } from '../packet/index.ts';
import type { IcmpRateLimit } from './icmp-limit.ts';
import type { Service, ServiceTable } from './services.ts';
import { DropReason, VerdictKind, type Verdict } from './verdict.ts';

export const ICMPV6_TIME_EXCEEDED = 3;
/** Types at or above it are informational (echo, NDP…): not errors about a flow. */
export const ICMPV6_INFO_MIN = 128;
/** icmp6_send quotes the offending packet up to the IPv6 minimum MTU: 1280 - 40 - 8 bytes. */
export const ICMPV6_QUOTE_MAX = 1232;

/** The flow an ICMPv6 error quotes, from the client's side: offsets of the addresses in the frame. */
export interface QuotedFlow6 {
  proto: number;
  /** The client: the quoted packet's destination. */
  clientOff: number;
  clientPort: number;
  /** The virtual service: the quoted packet's source. */
  vipOff: number;
  vport: number;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/**
 * Reads the quoted packet of the ICMPv6 error in `buf` as IPVS does (ip_vs_fill_iph_skb_icmp with
 * the addresses swapped, then the ports): a whole IPv6 header, its extension headers walked as
 * ipv6_find_hdr walks them, TCP or UDP, and 4 bytes of ports, all within the packet. Null when
 * one of these is missing, or the quote is a later fragment.
 */
export function quotedFlow6(buf: Uint8Array, i6: Ipv6Info, out: QuotedFlow6): QuotedFlow6 | null {
  const q = i6.l4Off + 8;
  const end = i6.l3End;
  if (end - q < 40 || buf[q]! >> 4 !== 6) return null;
  let nh = buf[q + 6]!;
  let p = q + 40;
  // Each header is at least 8 bytes, so the walk ends within (end - q) / 8 steps.
  while (nh === 0 || nh === 43 || nh === 44 || nh === 51 || nh === 60) {
    if (end - p < 2) return null;
    if (nh === 44) {
      if (end - p < 4) return null;
      if ((u16(buf, p + 2) & ~7) !== 0) return null; // a later fragment: no ports to look up
      nh = buf[p]!;
      p += 8;
      continue;
    }
    const hl = nh === 51 ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
    nh = buf[p]!;
    p += hl;
  }
  if (nh !== 6 && nh !== 17) return null;
  if (end - p < 4) return null;
  out.proto = nh;
  out.vipOff = q + 8;
  out.clientOff = q + 24;
  out.vport = u16(buf, p);
  out.clientPort = u16(buf, p + 2);
  return out;
}

/** What the IPv6 edge handling needs of the data plane (Dataplane provides it). */
export interface Ipv6EdgeHost {
  readonly services: ServiceTable;
  readonly conns6: ConnTable;
  readonly frameInfo6: Ipv6Info;
  readonly selfMac: Uint8Array;
  readonly icmpLimit: IcmpRateLimit;
  readonly icmpForwardOn: boolean;
  icmpForwarded: number;
  readonly key6: Int32Array;
  readonly quoted6: QuotedFlow6;
  readonly verdict: Verdict;
  drop(reason: DropReason): Verdict;
  reply(len: number, reason: DropReason): Verdict;
  count6(svc: Service, dest: Dest, bytes: number): void;
  send6(frame: Uint8Array, dest: Dest, now: number): Verdict;
}

/**
 * An ICMPv6 error to a VIP6 (type < 128, the frame decoded in host.frameInfo6): sent on to the
 * real of the connection its quote names, as ip_vs_in_icmp_v6 does, or dropped under a named
 * reason (the kernel's own stack consumes it).
 */
export function icmpError6(host: Ipv6EdgeHost, frame: Uint8Array, now: number): Verdict {
  const i6 = host.frameInfo6;
  // ip_vs_in_icmp_v6 reads the whole 8-byte ICMPv6 header first and drops the packet without it.
  if (i6.l3End - i6.l4Off < 8) return host.drop(DropReason.Ipv6IcmpTruncated);
  if (!host.icmpForwardOn) return host.drop(DropReason.IcmpForwardOff);
  const q = quotedFlow6(frame, i6, host.quoted6);
  if (q === null) return host.drop(DropReason.IcmpNoConnection);
  const svc = host.services.vip6Ports(frame, q.vipOff)?.get(q.proto * 65536 + q.vport);
  if (svc === undefined) return host.drop(DropReason.IcmpNoConnection);
  const key = loadKey6(frame, q.clientOff, q.vipOff, host.key6);
  const h = host.conns6.lookup6(q.proto, key, q.clientPort, q.vport, now);
  if (h < 0) return host.drop(DropReason.IcmpNoConnection);
  const dest = host.services.destsById[host.conns6.destId(h)]!;
  host.count6(svc, dest, i6.l3End - i6.l3Off);
  const v = host.send6(frame, dest, now);
  if (v.kind === VerdictKind.Forward) host.icmpForwarded++;
  return v;
}

/** True when icmp6_send would refuse to answer this packet: an ICMPv6 error, or from `::`. */
function ineligible(frame: Uint8Array, i6: Ipv6Info): boolean {
  if (i6.upperProto === IPPROTO_ICMPV6 && i6.l4Off >= 0 && i6.icmpType < ICMPV6_INFO_MIN) return true;
  for (let i = 0; i < 16; i++) if (frame[i6.srcOff + i] !== 0) return false;
  return true;
}

/**
 * Hop limit 1 or 0 on the DR hop: the packet is dropped, and ICMPv6 Time Exceeded (code 0) goes
 * back to its sender from the VIP6, rate-limited. The kernel's per-destination interval for
 * ICMPv6 shrinks with the prefix length of the route to the destination (1000 ms >> ((128 -
 * plen) >> 5)); dsrlb takes the default route's (plen 0: a sixteenth of the IPv4 interval).
 */
export function timeExceeded6(host: Ipv6EdgeHost, frame: Uint8Array, now: number): Verdict {
  const i6 = host.frameInfo6;
  if (ineligible(frame, i6)) return host.drop(DropReason.Ipv6HopLimitExpired);
  const peer = Buffer.from(frame.buffer, frame.byteOffset + i6.srcOff, 16).toString('hex');
  if (!host.icmpLimit.allow(peer, now, 1 / 16)) return host.drop(DropReason.IcmpRateLimited);
  const n = buildTimeExceeded6(frame, i6, host.selfMac, host.verdict.out);
  if (n === 0) return host.drop(DropReason.Ipv6HopLimitExpired);
  // The verdict's frame is now the reply: point frameInfo6's addresses at the flow's client (the
  // reply's destination) and VIP6 (its source) in it, where a reader of a new flow looks for them.
  const l3 = i6.l3Off;
  i6.srcOff = l3 + 24;
  i6.dstOff = l3 + 8;
  return host.reply(n, DropReason.Ipv6HopLimitExpired);
}

/**
 * Writes ICMPv6 Time Exceeded about the IPv6 packet in `frame` into `out`: back to the frame's
 * sender (its MAC, its VLAN tag), from the packet's destination (the VIP6), hop limit 64, traffic
 * class 0, flow label 0 (the kernel puts a hash there with a key of its own), quoting the packet
 * from its IPv6 header on, at most 1232 bytes. Returns the frame's length, or 0 when `out` is too
 * small.
 */
export function buildTimeExceeded6(frame: Uint8Array, i6: Ipv6Info, selfMac: Uint8Array, out: Uint8Array): number {
  const l3 = i6.l3Off;
  const quote = Math.min(i6.l3End - l3, ICMPV6_QUOTE_MAX);
  const icmpLen = 8 + quote;
  const total = l3 + 40 + icmpLen;
  if (total > out.length) return 0;
  out.set(frame.subarray(6, 12), 0);
  out.set(selfMac, 6);
  out.set(frame.subarray(12, l3), 12); // the EtherType, behind the 802.1Q tag when there is one
  out[l3] = 0x60;
  out[l3 + 1] = 0;
  out[l3 + 2] = 0;
  out[l3 + 3] = 0;
  out[l3 + 4] = icmpLen >>> 8;
  out[l3 + 5] = icmpLen & 0xff;
  out[l3 + 6] = IPPROTO_ICMPV6;
  out[l3 + 7] = 64;
  out.set(frame.subarray(i6.dstOff, i6.dstOff + 16), l3 + 8);
  out.set(frame.subarray(i6.srcOff, i6.srcOff + 16), l3 + 24);
  const o = l3 + 40;
  out[o] = ICMPV6_TIME_EXCEEDED;
  out.fill(0, o + 1, o + 8);
  out.set(frame.subarray(l3, l3 + quote), o + 8);
  const sum = onesSum(out, o, icmpLen, pseudoHeaderSum6(out.subarray(l3 + 8, l3 + 24), out.subarray(l3 + 24, l3 + 40), IPPROTO_ICMPV6, icmpLen));
  const c = ~sum & 0xffff;
  out[o + 2] = c >>> 8;
  out[o + 3] = c & 0xff;
  return total;
}
