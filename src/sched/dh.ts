/**
 * dh — destination hashing, as net/netfilter/ipvs/ip_vs_dh.c (Linux >= 4.18 hashing).
 *
 * 256 buckets filled round-robin over the list in kernel order (newest first), one bucket per dest
 * whatever its weight, rebuilt on add and delete only (the kernel has no edit hook for dh: weights
 * only matter at lookup). A flow goes to bucket hash_32(daddr, 8); that dest is returned if it can
 * take a flow, else null (no fallback). On a virtual service the destination is always the VIP, so
 * every flow lands on the same real.
 */
import type { Dest } from '../model/index.ts';
import type { DestChange, Scheduler } from './types.ts';
import { hash32 } from './hash.ts';
import { canTake } from './list.ts';

export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

export class DestHashScheduler implements Scheduler {
  readonly name = 'dh' as const;
  private readonly buckets: (Dest | null)[] = new Array<Dest | null>(DH_TAB_SIZE).fill(null);
  private ready = false;

  get table(): readonly (Dest | null)[] {
    return this.buckets;
  }

  /** ip_vs_dh_reassign(). */
  init(dests: readonly Dest[]): void {
    const n = dests.length;
    for (let i = 0; i < DH_TAB_SIZE; i++) this.buckets[i] = n === 0 ? null : dests[i % n]!;
    this.ready = true;
  }

  destsChanged(dests: readonly Dest[], change: DestChange, _dest: Dest): void {
    if (change !== 'edit' || !this.ready) this.init(dests);
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, daddr: number, _dport: number): Dest | null {
    if (!this.ready) this.init(dests);
    const d = this.buckets[hash32(daddr >>> 0, DH_TAB_BITS)]!;
    return d !== null && canTake(d) ? d : null;
  }
}
