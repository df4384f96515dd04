/**
 * sh — source hashing, as net/netfilter/ipvs/ip_vs_sh.c (Linux >= 4.18 hashing).
 *
 * A table of 256 buckets (IP_VS_SH_TAB_BITS = 8) is filled on every add, delete and edit: walking the
 * list in kernel order (newest first) and wrapping around, each dest takes `weight` consecutive
 * buckets (at least one, so a weight-0 dest still owns a bucket, where it refuses flows).
 * A flow goes to bucket hash_32(sport + saddr, 8), with sport = 0 unless sh-port. No secret: the
 * choice is the same on every boot. The table is rebuilt from scratch, so it behaves like a modulo:
 * removing one real reshuffles most buckets (see test/sched/disruption.test.ts).
 *
 * Lookup: the bucket's dest if it can take a flow, else null — or, with sh-fallback, the walk
 * ip_vs_sh_get_fallback() does: for offset 0..255, bucket (((h + offset) mod 256) + h) mod 256, the
 * first dest that can take the flow. An empty table gives null.
 */
import type { Dest } from '../model/index.ts';
import type { DestChange, Scheduler } from './types.ts';
import { hash32 } from './hash.ts';
import { canTake } from './list.ts';

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;

/** Bucket of a flow with offset 0: hash_32(port + addr, 8), the addition wrapping at 2^32. */
export function shBucket(saddr: number, port: number): number {
  return hash32((port + saddr) >>> 0, SH_TAB_BITS);
}

export class SourceHashScheduler implements Scheduler {
  readonly name = 'sh' as const;
  private readonly buckets: (Dest | null)[] = new Array<Dest | null>(SH_TAB_SIZE).fill(null);
  private ready = false;

  constructor(private readonly usePort: boolean, private readonly fallback: boolean) {}

  /** The bucket table (read-only view, for tests and diagnostics). */
  get table(): readonly (Dest | null)[] {
    return this.buckets;
  }

  /** ip_vs_sh_reassign(). */
  init(dests: readonly Dest[]): void {
    const n = dests.length;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (n === 0) {
        this.buckets[i] = null;
        continue;
      }
      const d = dests[p]!;
      this.buckets[i] = d;
      if (++count >= d.weight) {
        count = 0;
        if (++p === n) p = 0;
      }
    }
    this.ready = true;
  }

  destsChanged(dests: readonly Dest[], _change: DestChange, _dest: Dest): void {
    this.init(dests);
  }

  schedule(dests: readonly Dest[], saddr: number, sport: number, _daddr: number, _dport: number): Dest | null {
    if (!this.ready) this.init(dests);
    const port = this.usePort ? sport : 0;
    const h = shBucket(saddr, port);
    let d = this.buckets[h]!;
    if (d === null) return null;
    if (canTake(d)) return d;
    if (!this.fallback) return null;
    for (let off = 0; off < SH_TAB_SIZE; off++) {
      const roffset = (off + h) & SH_TAB_MASK;
      d = this.buckets[(roffset + h) & SH_TAB_MASK]!;
      if (d === null) break;
      if (canTake(d)) return d;
    }
    return null;
  }
}
