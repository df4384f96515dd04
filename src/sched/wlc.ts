/**
 * wlc — weighted least connection (ipvsadm's default), as net/netfilter/ipvs/ip_vs_wlc.c.
 *
 * Load = (activeConns * 256 + inactConns) / weight, compared without division: dest d beats the
 * current best b when load(b) * weight(d) > load(d) * weight(b). The first schedulable dest in kernel
 * order (newest first) is the starting best; a later dest replaces it only when strictly better, so
 * ties go to the dest nearer the head. (The kernel's second loop skips only overloaded dests: a
 * weight-0 dest can never be strictly better, because its side of the comparison is 0. Skipping every
 * unschedulable dest there gives the same result and also covers unresolved MACs.)
 *
 * The products are exact in IEEE doubles while load * weight < 2^53 (e.g. weights up to 65535 with
 * fewer than 2^29 active connections per real), far beyond what a director holds.
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { Scheduler } from './types.ts';
import { connOverhead } from './lc.ts';

export class WeightedLeastConnScheduler implements Scheduler {
  readonly name = 'wlc' as const;

  destsChanged(): void {
    // Stateless.
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    const n = dests.length;
    let i = 0;
    while (i < n && !destSchedulable(dests[i]!)) i++;
    if (i === n) return null;
    let least = dests[i]!;
    let loh = connOverhead(least);
    for (i++; i < n; i++) {
      const d = dests[i]!;
      if (!destSchedulable(d)) continue;
      const doh = connOverhead(d);
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
