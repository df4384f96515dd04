/**
 * nq — never queue, as net/netfilter/ipvs/ip_vs_nq.c.
 *
 * Walks the list in kernel order (newest first); the first schedulable dest with no active
 * connection is taken at once, whatever its weight. With no idle dest it falls back to sed's rule:
 * least (activeConns + 1) / weight, the first one found winning ties.
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { Scheduler } from './types.ts';

export class NeverQueueScheduler implements Scheduler {
  readonly name = 'nq' as const;

  destsChanged(): void {
    // Stateless.
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    let least: Dest | null = null;
    let loh = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (!destSchedulable(d)) continue;
      if (d.activeConns === 0) return d; // idle: no queue to join
      const doh = d.activeConns + 1;
      if (least === null || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
