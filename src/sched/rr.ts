/**
 * rr — round robin, as net/netfilter/ipvs/ip_vs_rr.c.
 *
 * The kernel keeps one cursor into svc->destinations (initially the list head). A pick walks on from
 * the cursor to the end of the list, then from its start up to and including the cursor, and takes
 * the first dest that is not overloaded and has weight > 0; the cursor moves onto it. A failed pick
 * leaves the cursor where it was. Adding a dest does not touch the cursor (the new dest sits at the
 * head, so it is reached once the walk wraps). Deleting the dest under the cursor moves the cursor
 * back to the entry that preceded it (ip_vs_rr_del_dest), so the rotation continues with the entry
 * that followed the deleted one.
 */
import type { Dest } from '../model/index.ts';
import { destSchedulable } from '../model/index.ts';
import type { DestChange, Scheduler } from './types.ts';
import { locate } from './list.ts';

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'rr' as const;
  /** The last dest picked; null = the list head (start of the list). */
  private cursor: Dest | null = null;
  private cursorIdx = -1;
  /** The list as of the last notification, to find the predecessor of a deleted dest. */
  private known: Dest[] = [];
  private ready = false;

  init(dests: readonly Dest[]): void {
    this.cursor = null;
    this.cursorIdx = -1;
    this.known = dests.slice();
    this.ready = true;
  }

  destsChanged(dests: readonly Dest[], change: DestChange, dest: Dest): void {
    if (change === 'del' && this.cursor === dest) {
      const i = this.known.indexOf(dest);
      this.cursor = i > 0 ? this.known[i - 1]! : null;
      this.cursorIdx = i - 1;
    }
    this.known = dests.slice();
    this.ready = true;
  }

  schedule(dests: readonly Dest[], _saddr: number, _sport: number, _daddr: number, _dport: number): Dest | null {
    if (!this.ready) this.init(dests);
    const n = dests.length;
    // A cursor that is no longer in the list (the owner did not report a delete) restarts at the head.
    const ci = this.cursor === null ? -1 : locate(dests, this.cursor, this.cursorIdx);
    for (let k = 1; k <= n; k++) {
      let i = ci + k;
      if (i >= n) i -= n;
      const d = dests[i]!;
      if (destSchedulable(d)) {
        this.cursor = d;
        this.cursorIdx = i;
        return d;
      }
    }
    return null;
  }
}
