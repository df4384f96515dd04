/**
 * sed — shortest expected delay, as net/netfilter/ipvs/ip_vs_sed.c.
 *
 * Expected delay on dest d = (activeConns + 1) / weight: the "+ 1" counts the flow being placed, and
 * inactive connections are ignored. Same walk and tie rule as wlc: the first schedulable dest in kernel
 * order is the starting best, and a later one replaces it only when strictly better
 * (best.overhead * d.weight > d.overhead * best.weight).
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { Scheduler } from './types.ts';

export class ShortestExpectedDelayScheduler implements Scheduler {
  readonly name = 'sed' as const;

  destsChanged(): void {
    // Stateless.
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    const n = dests.length;
    let i = 0;
    while (i < n && !destSchedulable(dests[i]!)) i++;
    if (i === n) return null;
    let least = dests[i]!;
    let loh = least.activeConns + 1;
    for (i++; i < n; i++) {
      const d = dests[i]!;
      if (!destSchedulable(d)) continue;
      const doh = d.activeConns + 1;
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
