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

/**
 * One scheduler instance per virtual service. `dests` is always the service's real-server list in
 * the KERNEL's order: newest first (IPVS adds each dest at the head of svc->destinations).
 * Pure: no clock, no randomness, no allocation on the schedule path.
 */
export interface Scheduler {
  readonly name: SchedName;
  /**
   * Picks a real for a new flow (addresses are u32 host order), or null when none is schedulable.
   * Weight-0, overloaded and unresolved reals never get a new flow.
   */
  schedule(dests: readonly Dest[], saddr: number, sport: number, daddr: number, dport: number): Dest | null;
  /** Called after `dests` changed (`dest` was added, deleted or had its weight/flags edited). */
  destsChanged(dests: readonly Dest[], change: DestChange, dest: Dest): void;
}
