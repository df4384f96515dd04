import type { Dest } from '../model/index.ts';
import { IPV6_DROP_REASON_HELP, IPV6_DROP_REASONS } from '../packet/index.ts';

/** What the director does with one frame. */
export const enum VerdictKind {
  /** Rewritten in place (MACs, TTL): send it out of the capture interface. */
  Forward = 1,
  /** The real server is this host: hand the frame to the local stack (see docs/design/local-real.md). */
  Local = 2,
  /** A reply was written into `Verdict.out` (an ARP reply for a VIP): send those bytes. */
  Reply = 3,
  /** Not sent anywhere; `reason` says why. */
  Drop = 4,
  /** Not the director's business (not IPv4/ARP, not to a VIP): the host's own stack may see it. */
  Pass = 5,
}

/**
 * Drop (and pass) reasons. Numbers index the per-reason counters; DROP_REASON_NAMES gives the
 * stable names used in summaries, logs and metrics.
 */
export const enum DropReason {
  None = 0,
  Malformed = 1,
  Fragment = 2, // held for reassembly
  TtlExpired = 3,
  NotOurMac = 4,
  NotAService = 5,
  NoRealAvailable = 6,
  NoConnection = 7,
  RealRemoved = 8,
  RealUnresolved = 9,
  NotIPv4 = 10,
  NotAVip = 11,
  ArpIgnored = 12,
  Inactive = 13,
  TableFull = 14,
  FromVip = 15,
  BadIpChecksum = 16,
  BadIpOptions = 17,
  FragmentOverlap = 18,
  FragmentInvalid = 19,
  IcmpNoConnection = 20,
  IcmpOther = 21,
  BadIcmpChecksum = 22,
  IcmpRateLimited = 23,
  IcmpForwardOff = 24,
  /**
   * 25..34: an IPv6 frame to a VIP6 the decoder refused, one per IPV6_DROP_REASONS entry in its
   * order (src/packet/ipv6.ts): Ipv6Decode + that index.
   */
  Ipv6Decode = 25,
  Ipv6IcmpTruncated = 35,
  Ipv6HopLimitExpired = 36,
  Ipv6IcmpNotHandled = 37,
  NdpInvalid = 38,
  NdpNotAnswered = 39,
}

export const DROP_REASON_NAMES: readonly string[] = [
  'none',
  'malformed',
  'fragment-held',
  'ttl-expired',
  'not-our-mac',
  'not-a-service',
  'no-real-available',
  'no-connection',
  'real-removed',
  'real-unresolved',
  'not-ipv4',
  'not-a-vip',
  'arp-ignored',
  'inactive',
  'table-full',
  'from-vip',
  'bad-ip-checksum',
  'bad-ip-options',
  'fragment-overlap',
  'fragment-invalid',
  'icmp-no-connection',
  'icmp-other',
  'bad-icmp-checksum',
  'icmp-rate-limited',
  'icmp-forward-off',
  ...IPV6_DROP_REASONS,
  'ipv6-icmp-truncated',
  'ipv6-hop-limit-expired',
  'ipv6-icmp-not-handled',
  'ndp-invalid',
  'ndp-not-answered',
];

/** What each reason means, for `replay` summaries and docs/errors.md. */
export const DROP_REASON_HELP: Readonly<Record<string, string>> = {
  malformed: 'the frame could not be decoded (truncated or inconsistent header)',
  'fragment-held': 'an IPv4 or IPv6 fragment kept until its datagram is complete (then scheduled and sent on in fragments, as the kernel does); held at most 30 s (IPv4) or 60 s (IPv6)',
  'ttl-expired': 'TTL 1 or 0: the flow is scheduled but the frame not sent on; the director answers ICMP time exceeded, as the kernel does (counted as a reply)',
  'not-our-mac': 'addressed to another host\'s MAC (seen in promiscuous mode)',
  'not-a-service': 'to a VIP, but no virtual service has this protocol and port',
  'no-real-available': 'every real of the service has weight 0, is overloaded or unresolved',
  'no-connection': 'TCP packet of an unknown flow that is not a SYN (IPVS schedules only SYNs unless sloppy_tcp)',
  'real-removed': 'the flow\'s real server was removed (expire_nodest_conn=0 keeps dropping until the entry times out)',
  'real-unresolved': 'the real server\'s MAC address is not known (ARP unresolved)',
  'not-ipv4': 'neither IPv4, IPv6 nor ARP: left to the host',
  'not-a-vip': 'IPv4 or IPv6 to an address that is not a virtual IP: left to the host',
  'arp-ignored': 'ARP that the director does not answer (not a request for a VIP, or its own)',
  inactive: 'the director is standby: it does not answer ARP or forward',
  'table-full': 'the connection table is full and no entry could be evicted',
  'from-vip': 'a frame FROM a VIP reached the director: a reply did not bypass it (DSR is broken somewhere)',
  'bad-ip-checksum': 'the IPv4 header checksum is wrong: the kernel drops it in ip_rcv, before IPVS',
  'bad-ip-options': 'IPv4 options that do not parse: the kernel drops it in ip_rcv (and answers ICMP parameter problem; dsrlb does not)',
  'fragment-overlap': 'a fragment overlapped one already held: the whole datagram is discarded, as Linux does',
  'fragment-invalid': 'an inconsistent fragment (past 65535 bytes, two different ends, a non-final fragment not a multiple of 8) or no room left for reassembly: the datagram is discarded',
  'icmp-no-connection': 'an ICMP or ICMPv6 error quoting no known connection (or too short a quote, or a later fragment): the kernel leaves it to its own stack, which consumes it',
  'icmp-other': 'an ICMP message IPVS does not handle (redirect, parameter problem, replies…): the director\'s own stack consumes it',
  'bad-icmp-checksum': 'an echo request to a VIP or VIP6, or an ICMP error about a connection, whose checksum is wrong: the kernel drops it (an ICMPv6 error is sent on whatever its checksum, as ip_vs_in_icmp_v6 does)',
  'icmp-forward-off': 'an ICMP or ICMPv6 error about a connection, not sent on because `dsrlb run --no-icmp-forward` said so (path MTU discovery through DSR then fails)',
  'icmp-rate-limited': 'time exceeded not sent: the kernel\'s ICMP rate limits (1000/s, burst 50; 1 per second per destination, burst 6; for ICMPv6 one per 62.5 ms, the default route\'s interval)',
  ...IPV6_DROP_REASON_HELP,
  'ipv6-icmp-truncated': 'an ICMPv6 error to a VIP6 shorter than the 8-byte ICMPv6 header: IPVS drops it (ip_vs_in_icmp_v6)',
  'ipv6-hop-limit-expired': 'IPv6 hop limit 1 or 0: the flow is scheduled, the frame not sent on, as the kernel does; the director answers ICMPv6 time exceeded from the VIP6 (counted as a reply), except about an ICMPv6 error or to ::',
  'ipv6-icmp-not-handled': 'ICMPv6 informational message to a VIP6 other than an echo request (replies, router messages, …): dropped, as IPVS leaves it to a stack that does not hold the VIP6',
  'ndp-invalid': 'a Neighbor Solicitation for a VIP6 that Linux would ignore (RFC 4861 7.1.1): hop limit not 255, code not 0, shorter than 24 bytes, bad checksum, a bad option, a source link-layer option with the unspecified source, or a DAD probe not sent to the solicited-node group; not answered',
  'ndp-not-answered': 'a Neighbor Solicitation for a VIP6 while the director answers no ARP/NDP for its VIPs (answerArp off, behind an ECMP router that routes the VIP6 to it)',
};

/** Reused verdict object: one per data plane, overwritten by each process() call. */
export class Verdict {
  kind: VerdictKind = VerdictKind.Drop;
  reason: DropReason = DropReason.None;
  /** The real server for Forward / Local. */
  dest: Dest | null = null;
  /** True when this frame created the flow's connection entry (it was scheduled just now). */
  newConn = false;
  /** Bytes to send for Forward / Local (the input frame itself, rewritten) or Reply (`out`). */
  frame: Uint8Array | null = null;
  len = 0;
  /** Scratch buffer for replies (ARP, echo replies up to a full datagram, time exceeded). */
  readonly out = new Uint8Array(65535 + 18);
  /**
   * Forward / Local of a reassembled datagram: it goes out as `parts` fragments, `parts[i][0..partLens[i])`
   * (send those instead of `frame`). 0 for every ordinary frame.
   */
  parts = 0;
  /** Reply: an ICMP message the director wrote (echo reply, time exceeded), not an ARP reply. */
  icmp = false;
  readonly partBufs: Uint8Array[] = [];
  readonly partLens: number[] = [];
}
