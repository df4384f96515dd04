import type { Dest } from '../model/index.ts';

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
  Fragment = 2,
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
}

export const DROP_REASON_NAMES: readonly string[] = [
  'none',
  'malformed',
  'fragment',
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
];

/** What each reason means, for `replay` summaries and docs/errors.md. */
export const DROP_REASON_HELP: Readonly<Record<string, string>> = {
  malformed: 'the frame could not be decoded (truncated or inconsistent header)',
  fragment: 'IPv4 fragment: dsrlb does not reassemble (IPVS would, through defrag)',
  'ttl-expired': 'TTL would reach 0 after the decrement (IPVS sends ICMP time exceeded)',
  'not-our-mac': 'addressed to another host\'s MAC (seen in promiscuous mode)',
  'not-a-service': 'to a VIP, but no virtual service has this protocol and port',
  'no-real-available': 'every real of the service has weight 0, is overloaded or unresolved',
  'no-connection': 'TCP packet of an unknown flow that is not a SYN (IPVS schedules only SYNs unless sloppy_tcp)',
  'real-removed': 'the flow\'s real server was removed (expire_nodest_conn=0 keeps dropping until the entry times out)',
  'real-unresolved': 'the real server\'s MAC address is not known (ARP unresolved)',
  'not-ipv4': 'neither IPv4 nor ARP: left to the host',
  'not-a-vip': 'IPv4 to an address that is not a virtual IP: left to the host',
  'arp-ignored': 'ARP that the director does not answer (not a request for a VIP, or its own)',
  inactive: 'the director is standby: it does not answer ARP or forward',
  'table-full': 'the connection table is full and no entry could be evicted',
  'from-vip': 'a frame FROM a VIP reached the director: a reply did not bypass it (DSR is broken somewhere)',
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
  /** Scratch buffer for replies. */
  readonly out = new Uint8Array(64);
}
