/**
 * The director's answers to Neighbor Discovery and ICMPv6 echo for its VIP6s: what the director's
 * kernel would do if the VIP6 were one of its addresses (the IPv6 counterpart of the ARP answers,
 * arp/responder.ts, and of the IPv4 echo reply, icmp.ts).
 *
 * A Neighbor Solicitation is checked as Linux checks it (icmpv6_rcv's checksum, ndisc_rcv's hop
 * limit 255 and code 0, ndisc_recv_ns's length, target, DAD and option rules) and answered as
 * ndisc_recv_ns answers one for its own address:
 *
 * - from a unicast source: a solicited advertisement to that source (Solicited 1). Linux sets
 *   Override and adds the target link-layer option only when the solicitation came to a multicast
 *   group (ndisc_send_na(..., override = ifp && inc, inc_opt = inc)): a unicast solicitation (a
 *   neighbour re-checking its entry, NUD) gets neither. The Ethernet destination is the
 *   solicitation's source link-layer option, else the frame's source (the kernel uses its cache
 *   entry for the source, which holds the same MAC);
 * - from :: (duplicate address detection by another host): an advertisement to all nodes,
 *   Solicited 0, Override 1, with the option: the VIP6 is defended.
 *
 * The Router flag is the caller's (net.ipv6.conf.IFACE.forwarding on the director).
 * Pure: the reply is written into the caller's buffer; no allocation.
 */
import { ipv6Equals } from '../model/index.ts';
import {
  ALL_NODES, icmpv6Checksum, ICMPV6_NS, type Ipv6Info, writeEchoReply6, writeNeighborAdvertisement,
} from '../packet/index.ts';

/** What answerNs made of a solicitation. A positive number is the reply's length in `out`. */
export const enum NsResult {
  /** Not a solicitation for a VIP6: the host's business. */
  NotForVip = 0,
  /** For a VIP6, but malformed or breaking a rule of RFC 4861 7.1.1 (Linux drops it silently). */
  Invalid = -1,
  /** A unicast solicitation sent to another host's MAC (seen in promiscuous mode). */
  NotOurMac = -2,
}

export interface NsAnswerer {
  mac: Uint8Array;
  /** Whether `buf[off..off+16)` is a VIP6. */
  isVip6(buf: Uint8Array, off: number): boolean;
  /** The Router flag of our advertisements. */
  router: boolean;
}

const MAX_REPLY = 18 + 40 + 32;
// Scratch for the NA's addresses: the builder takes whole arrays (these never escape).
const target = new Uint8Array(16);
const dstIp = new Uint8Array(16);
const dstMac = new Uint8Array(6);

function isSolicitedNodeOf(buf: Uint8Array, d: number, t: number): boolean {
  // ff02::1:ffXX:XXXX with the target's last 24 bits (RFC 4291 2.7.1).
  if (buf[d] !== 0xff || buf[d + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (buf[d + i] !== 0) return false;
  return buf[d + 11] === 1 && buf[d + 12] === 0xff && buf[d + 13] === buf[t + 13] && buf[d + 14] === buf[t + 14] && buf[d + 15] === buf[t + 15];
}

function isUnspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/**
 * A Neighbor Solicitation (the frame decoded into `i6`, its ICMPv6 type 135 at i6.l4Off): for a
 * VIP6 the advertisement is written into `out` and its length returned; else an NsResult.
 * The caller has checked that answering is on (active, answerArp).
 */
export function answerNs(frame: Uint8Array, i6: Ipv6Info, self: NsAnswerer, out: Uint8Array): number {
  const ic = i6.l4Off;
  const icmpLen = i6.l3End - ic;
  // The target decides whose solicitation it is; a frame too short to hold one is not ours to judge.
  if (icmpLen < 24 || !self.isVip6(frame, ic + 8)) return NsResult.NotForVip;
  if (frame[i6.l3Off + 7] !== 255 || frame[ic + 1] !== 0 || frame[ic] !== ICMPV6_NS) return NsResult.Invalid;
  const src = i6.srcOff;
  const dst = i6.dstOff;
  if (icmpv6Checksum(frame.subarray(src, src + 16), frame.subarray(dst, dst + 16), frame, ic, icmpLen) !== 0) return NsResult.Invalid;
  const dad = isUnspecified(frame, src);
  const multicast = frame[dst] === 0xff;
  if (dad && !isSolicitedNodeOf(frame, dst, ic + 8)) return NsResult.Invalid;
  // Options: each at least 8 bytes and inside the message; a source link-layer option is 8 bytes
  // on Ethernet (ndisc_opt_addr_data) and forbidden with the unspecified source. The first one counts.
  let slla = -1;
  for (let o = ic + 24; o < ic + icmpLen; ) {
    if (o + 2 > ic + icmpLen) return NsResult.Invalid;
    const olen = frame[o + 1]! * 8;
    if (olen === 0 || o + olen > ic + icmpLen) return NsResult.Invalid;
    if (frame[o] === 1 && slla < 0) {
      if (olen !== 8 || dad) return NsResult.Invalid;
      slla = o + 2;
    }
    o += olen;
  }
  // Where it was sent: our own MAC, or a group the VIP6's owner listens to (its solicited-node
  // group, all nodes); an address, a VIP6 or one of those groups.
  if (multicast) {
    if ((frame[0]! & 1) === 0) return NsResult.Invalid;
    if (!isSolicitedNodeOf(frame, dst, ic + 8) && !ipv6Equals(frame, dst, ALL_NODES, 0)) return NsResult.NotForVip;
  } else {
    const m = self.mac;
    if (frame[0] !== m[0] || frame[1] !== m[1] || frame[2] !== m[2] || frame[3] !== m[3] || frame[4] !== m[4] || frame[5] !== m[5]) return NsResult.NotOurMac;
    if (!self.isVip6(frame, dst)) return NsResult.NotForVip;
  }
  if (out.length < MAX_REPLY) return NsResult.Invalid;
  target.set(frame.subarray(ic + 8, ic + 24));
  // A tagged solicitation is answered on its VLAN, as the ARP answers are.
  const vlanTci = i6.l3Off === 18 ? (frame[14]! << 8) | frame[15]! : undefined;
  if (dad) {
    dstIp.set(ALL_NODES);
    dstMac.set([0x33, 0x33, 0, 0, 0, 1]);
    return writeNeighborAdvertisement(out, { srcMac: self.mac, dstMac, target, dstIp, router: self.router, solicited: false, override: true, tlla: true, vlanTci });
  }
  dstIp.set(frame.subarray(src, src + 16));
  dstMac.set(frame.subarray(slla >= 0 ? slla : 6, (slla >= 0 ? slla : 6) + 6));
  return writeNeighborAdvertisement(out, {
    srcMac: self.mac, dstMac, target, dstIp, router: self.router, solicited: true, override: multicast, tlla: multicast, vlanTci,
  });
}

/**
 * An echo request to a VIP6 (already checked to be ours, active): the reply's length in `out`, or
 * 0 when its checksum is wrong (icmpv6_rcv drops it) or its source is :: (nowhere to answer).
 */
export function answerEcho6(frame: Uint8Array, i6: Ipv6Info, selfMac: Uint8Array, out: Uint8Array): number {
  const ic = i6.l4Off;
  const icmpLen = i6.l3End - ic;
  if (icmpLen < 8 || isUnspecified(frame, i6.srcOff)) return 0;
  const src = i6.srcOff;
  const dst = i6.dstOff;
  if (icmpv6Checksum(frame.subarray(src, src + 16), frame.subarray(dst, dst + 16), frame, ic, icmpLen) !== 0) return 0;
  return writeEchoReply6(frame, i6, selfMac, out);
}
