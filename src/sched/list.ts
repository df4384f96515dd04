/**
 * Helpers shared by the schedulers: finding a remembered dest in the (newest-first) list without
 * allocating, and the availability test of the table-based schedulers.
 */
import { destSchedulable } from '../model/index.ts';
import type { Dest } from '../model/index.ts';

/**
 * Index of `d` in `dests`, trying the remembered index `hint` first (the common case: the list did
 * not change since). -1 when `d` is not in the list.
 */
export function locate(dests: readonly Dest[], d: Dest, hint: number): number {
  if (hint >= 0 && hint < dests.length && dests[hint] === d) return hint;
  for (let i = 0; i < dests.length; i++) if (dests[i] === d) return i;
  return -1;
}

/**
 * sh, dh and mh keep dests in a lookup table built on the control path; this is their "may take a
 * new flow" test at lookup time: still in its service, weight > 0, not overloaded, MAC resolved.
 * (The kernel's is_unavailable() is weight <= 0 || OVERLOAD; dh also requires IP_VS_DEST_F_AVAILABLE.
 * A removed dest never stays in a kernel table, so testing `available` everywhere changes nothing.)
 */
export function canTake(d: Dest): boolean {
  return d.available && destSchedulable(d);
}

/** Largest current weight in the list (0 when empty), as ip_vs_wrr_max_weight(). */
export function maxWeight(dests: readonly Dest[]): number {
  let w = 0;
  for (const d of dests) if (d.weight > w) w = d.weight;
  return w;
}
