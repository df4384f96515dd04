import type { Dest } from '../model/index.ts';

export type SchedName = 'rr' | 'wrr' | 'lc' | 'wlc' | 'sed' | 'nq' | 'sh' | 'dh' | 'mh';

/** ipvsadm -b flags (IP_VS_SVC_F_SCHED1..3): sh-fallback/sh-port and mh-fallback/mh-port. */
export interface SchedFlags {
  shFallback?: boolean;
  shPort?: boolean;
  mhFallback?: boolean;
  mhPort?: boolean;
}

export type DestChange = 'add' | 'del' | 'edit';

/** Options that a kernel fixes at build time (Kconfig); the defaults are those of Debian's 6.1 kernel. */
export interface SchedOptions {
  /**
   * Maglev lookup table size: one of the kernel's primes (251, 509, 1021, 2039, 4093, 8191, 16381,
   * 32749, 65521, 131071), i.e. CONFIG_IP_VS_MH_TAB_INDEX 8..17. Default 4093 (index 12).
   */
  mhTableSize?: number;
}

/**
 * One scheduler instance per virtual service. `dests` is always the service's real-server list in
 * the KERNEL's order: newest first (IPVS adds each dest at the head of svc->destinations).
 * Pure: no clock, no randomness, no allocation on the schedule path.
 *
 * Life cycle, as in IPVS: the owner calls destsChanged() after every add (the new dest already at
 * index 0), delete (the dest already gone from `dests`) and edit (weight or flags changed in place).
 * A scheduler bound to a service that already has reals (ipvsadm -E changing the scheduler) gets
 * init(dests) first; a scheduler that has seen neither init() nor destsChanged() initialises itself
 * from `dests` on its first schedule() call (once, the only allocation it may make there).
 */
export interface Scheduler {
  readonly name: SchedName;
  /**
   * Picks a real for a new flow, or null when none is schedulable. Addresses are IPv4 in host order,
   * as uint32 or as int32 (`addr | 0`, the same 32 bits): every scheduler accepts both, and int32
   * keeps a caller whose call site is not inlined from boxing addresses above 2^31 - 1. For an IPv6
   * service they are the kernel's 32-bit folds of the IPv6 addresses (foldIPv6; scheduleIPv6 does
   * it), and its reals are newDest6() reals, whose `addr` is their fold.
   * Weight-0, overloaded and unresolved reals never get a new flow.
   * `sport` is the client's source port (0 for protocols without ports); only sh-port/mh-port use it.
   */
  schedule(dests: readonly Dest[], saddr: number, sport: number, daddr: number, dport: number): Dest | null;
  /** Called after `dests` changed (`dest` was added, deleted or had its weight/flags edited). */
  destsChanged(dests: readonly Dest[], change: DestChange, dest: Dest): void;
  /** (Re)binds the scheduler to a service whose current list is `dests` (IPVS init_service). */
  init?(dests: readonly Dest[]): void;
}
