/**
 * The director's ARP responder for its virtual IPs.
 *
 * With no VIP configured on any interface, the director's kernel never answers ARP for a VIP, so
 * dsrlb answers in userspace while it is the active director. Every ARP frame the capture hands
 * over gets either a reply (its length, written into a caller buffer) or a named reason for not
 * answering, in the spirit of metallb's layer-2 responder. The checks follow what the Linux kernel
 * does for its own addresses (net/ipv4/arp.c: arp_rcv/arp_process), so dsrlb answers the frames a
 * kernel holding the VIP would answer, and writes the reply the kernel would write:
 * - only frames the host would receive: to our MAC or to a group address (a frame captured in
 *   promiscuous mode for another host is PACKET_OTHERHOST to a kernel and is ignored);
 * - requests only; a reply goes to the asker's sender hardware address;
 * - an RFC 5227 probe (sender IP 0.0.0.0) is answered too (the kernel's "DAD" special case), the
 *   reply then carries target IP 0.0.0.0, which is how the prober learns of the conflict;
 * - a gratuitous request (sender IP = target IP) is an announcement, never answered;
 * - a VLAN-tagged request is answered with the same tag (the whole TCI is copied).
 *
 * `respondArp` allocates nothing: the data path calls it for every ARP frame.
 */

import type { FrameInfo } from '../packet/index.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../packet/index.ts';
import {
  ARP_FRAME_LEN,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ARP_PAYLOAD_LEN,
  isGroupMac,
  isZeroMac,
  macEquals,
  writeArpFrame,
} from '../packet/index.ts';

/** Why an ARP frame got no answer. Stable names, used in counters and logs. */
export const ArpDrop = {
  /** Not an ARP frame (the caller should not have asked, but it is not an error). */
  NotArp: 'not-arp',
  /** Truncated, or ARP for something other than Ethernet/IPv4. */
  Malformed: 'malformed',
  /** An ARP reply or an unknown operation: only requests are answered. */
  NotRequest: 'not-request',
  /** Unicast to another host's MAC (seen only in promiscuous mode). */
  NotOurMac: 'not-our-mac',
  /** Sent by this director (its own MAC as Ethernet source or sender hardware address). */
  FromSelf: 'from-self',
  /** Sender IP = target IP: an announcement, not a question. */
  Gratuitous: 'gratuitous',
  /** Sender addresses no host can have (group or zero MAC; multicast, broadcast or loopback IP). */
  BadSender: 'bad-sender',
  /** Asks for an address that is not one of this director's VIPs. */
  NotOurVip: 'not-our-vip',
  /** Asks for a VIP, but this director is standby. */
  Inactive: 'inactive',
  /** The output buffer is shorter than a reply (ARP_FRAME_LEN bytes). */
  NoRoom: 'no-room',
} as const;

export type ArpDropReason = (typeof ArpDrop)[keyof typeof ArpDrop];

/** Every drop reason, in the order the checks run. */
export const ARP_DROP_REASONS: readonly ArpDropReason[] = [
  ArpDrop.NotArp,
  ArpDrop.Malformed,
  ArpDrop.NotRequest,
  ArpDrop.NotOurMac,
  ArpDrop.FromSelf,
  ArpDrop.Gratuitous,
  ArpDrop.BadSender,
  ArpDrop.NotOurVip,
  ArpDrop.Inactive,
  ArpDrop.NoRoom,
];

/** One line per reason, for summaries and docs. */
export const ARP_DROP_HELP: Readonly<Record<ArpDropReason, string>> = {
  'not-arp': 'not an ARP frame',
  malformed: 'truncated ARP, or ARP for something other than Ethernet/IPv4',
  'not-request': 'an ARP reply (or unknown operation): only requests are answered',
  'not-our-mac': "unicast to another host's MAC, seen in promiscuous mode",
  'from-self': "this director's own frame",
  gratuitous: 'a gratuitous ARP (sender IP = target IP): an announcement, not a question',
  'bad-sender': 'sender MAC is a group or zero address, or sender IP is multicast, broadcast or loopback',
  'not-our-vip': 'asks for an address that is not a VIP of this director',
  inactive: 'asks for a VIP while this director is standby',
  'no-room': 'the output buffer is too small for a reply',
};

/** What the responder needs to know about this director. */
export interface ResponderSelf {
  /** The director's MAC on the capture interface (6 bytes). */
  mac: Uint8Array;
  /** The VIPs (u32) this director answers for: a set, or a predicate. */
  vips: ReadonlySet<number> | ((ip: number) => boolean);
  /** True while this director is the active one. */
  active: boolean;
}

/** True when the result of respondArp is a reply length rather than a drop reason. */
export function isArpReply(r: number | ArpDropReason): r is number {
  return typeof r === 'number';
}

function badSenderIp(ip: number): boolean {
  const top = ip >>> 24;
  return top >= 224 || top === 127; // multicast 224/4, reserved 240/4 and broadcast, loopback 127/8
}

/**
 * Decides whether this director answers the ARP frame `frame` (first `len` bytes, already decoded
 * into `info` by decodeFrame) and, when it does, writes the reply into `out` and returns its
 * length. Otherwise returns the reason. Never throws, allocates nothing.
 */
export function respondArp(
  frame: Uint8Array,
  len: number,
  info: FrameInfo,
  self: ResponderSelf,
  out: Uint8Array,
): number | ArpDropReason {
  if (info.etherType !== ETHERTYPE_ARP) return info.errReason === '' ? ArpDrop.NotArp : ArpDrop.Malformed;
  if (info.errReason !== '') return ArpDrop.Malformed;
  // Re-check what the reply is built from, so an info that does not describe this frame cannot
  // make us read past its end.
  const n = len < frame.length ? len : frame.length;
  const a = info.l3Off;
  if (!(a >= 14) || !(a + ARP_PAYLOAD_LEN <= n)) return ArpDrop.Malformed;
  if (
    frame[a] !== 0 || frame[a + 1] !== 1 ||
    frame[a + 2] !== ETHERTYPE_IPV4 >>> 8 || frame[a + 3] !== 0 ||
    frame[a + 4] !== 6 || frame[a + 5] !== 4
  ) {
    return ArpDrop.Malformed;
  }
  const op = (frame[a + 6]! << 8) | frame[a + 7]!;
  if (op !== ARP_OP_REQUEST) return ArpDrop.NotRequest;

  const mac = self.mac;
  if (!isGroupMac(frame, 0) && !macEquals(frame, 0, mac, 0)) return ArpDrop.NotOurMac;
  const sha = a + 8;
  if (macEquals(frame, 6, mac, 0) || macEquals(frame, sha, mac, 0)) return ArpDrop.FromSelf;

  const spa = ((frame[a + 14]! << 24) | (frame[a + 15]! << 16) | (frame[a + 16]! << 8) | frame[a + 17]!) >>> 0;
  const tpa = ((frame[a + 24]! << 24) | (frame[a + 25]! << 16) | (frame[a + 26]! << 8) | frame[a + 27]!) >>> 0;
  if (spa === tpa) return ArpDrop.Gratuitous;
  if (isGroupMac(frame, sha) || isZeroMac(frame, sha) || badSenderIp(spa)) return ArpDrop.BadSender;

  const vips = self.vips;
  const ours = typeof vips === 'function' ? vips(tpa) : vips.has(tpa);
  if (!ours) return ArpDrop.NotOurVip;
  if (!self.active) return ArpDrop.Inactive;
  if (out.length < ARP_FRAME_LEN) return ArpDrop.NoRoom;

  const tci = info.vlanId >= 0 && a === 18 ? (frame[14]! << 8) | frame[15]! : -1;
  // "tpa is at our MAC", to the asker's hardware address, with the asker's IP (0 for a probe).
  return writeArpFrame(out, ARP_OP_REPLY, mac, tpa, frame, sha, frame, sha, spa, tci);
}
