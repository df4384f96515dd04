/**
 * lc — least connection, as net/netfilter/ipvs/ip_vs_lc.c.
 *
 * Load of a dest = activeConns * 256 + inactConns (ip_vs_dest_conn_overhead: an active connection
 * is reckoned 256 times the cost of an inactive one). The walk goes over the list in kernel order
 * (newest first), skips dests that cannot take a flow, and keeps the first one with a strictly
 * smaller load: on a tie the dest nearer the head (added later) wins. Weights other than 0 are ignored.
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { Scheduler } from './types.ts';

/** ip_vs_dest_conn_overhead(): the lc/wlc load of one dest. */
export function connOverhead(d: Dest): number {
  return d.activeConns * 256 + d.inactConns;
}

export class LeastConnScheduler implements Scheduler {
  readonly name = 'lc' as const;

  destsChanged(): void {
    // Stateless.
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    let least: Dest | null = null;
    let loh = 0;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if (!destSchedulable(d)) continue;
      const doh = connOverhead(d);
      if (least === null || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}
