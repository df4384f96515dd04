/**
 * keepalived's tracking, pure: the priority and FAULT of an instance from its tracked interfaces and
 * scripts. An item with weight 0 puts the instance in FAULT while it is down; a positive weight is
 * added while the item is up, a negative one while it is down; the result is kept in 1..254 (an
 * address owner, priority 255, is not changed) — as keepalived 2.2 does. A script's state changes
 * after `rise` successes / `fall` failures in a row (ScriptState).
 */

export interface TrackedItem {
  name: string;
  weight: number;
  up: boolean;
}

export function trackedPriority(base: number, items: readonly TrackedItem[]): { priority: number; fault: string | null } {
  let p = base;
  for (const it of items) {
    if (it.weight === 0) {
      if (!it.up) return { priority: base, fault: `${it.name} is down` };
    } else if (it.weight > 0 && it.up) p += it.weight;
    else if (it.weight < 0 && !it.up) p += it.weight;
  }
  if (base === 255) return { priority: 255, fault: null };
  return { priority: Math.max(1, Math.min(254, p)), fault: null };
}

/** A vrrp_script's state from its results: up after `rise` successes in a row, down after `fall` failures. */
export class ScriptState {
  up = true;
  private run = 0;
  private lastOk = true;

  constructor(private readonly rise: number, private readonly fall: number) {}

  /** Returns true when the state changed. */
  result(ok: boolean): boolean {
    if (ok === this.lastOk) this.run++;
    else {
      this.lastOk = ok;
      this.run = 1;
    }
    const before = this.up;
    if (ok && !this.up && this.run >= this.rise) this.up = true;
    if (!ok && this.up && this.run >= this.fall) this.up = false;
    return before !== this.up;
  }
}
