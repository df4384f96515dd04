/**
 * How many flows move when a real is added or removed under mh (Maglev, the kernel's table), for
 * the ECMP scale-out (docs/scale-out.md): a flow must move when its real goes (the minimum, 1/N of
 * the flows); Maglev moves a few more because the table is rebuilt, not patched. Measured over
 * 100 000 random clients (source address hashing, as mh without mh-port), printed and bounded.
 */
import { describe, expect, it } from 'vitest';
import { newDest, type Dest } from '../../src/model/index.ts';
import { MaglevScheduler } from '../../src/sched/index.ts';
import { randomFlows } from './prng.ts';

const FLOWS = 100_000;
const VIP = 0xc0a8000a;
const figures: string[] = [];

function reals(n: number): Dest[] {
  // Kernel order is newest first: the list as the director holds it after adding .1, .2, … in turn.
  return Array.from({ length: n }, (_, i) => newDest(i + 1, 0xc0a80100 + i + 1, 80, 1)).reverse();
}

function assign(sched: MaglevScheduler, dests: readonly Dest[], saddr: Uint32Array): Int32Array {
  const out = new Int32Array(saddr.length);
  for (let i = 0; i < saddr.length; i++) out[i] = sched.schedule(dests, saddr[i]!, 0, VIP, 80)?.id ?? -1;
  return out;
}

function moved(before: Int32Array, after: Int32Array): number {
  let n = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) n++;
  return n / before.length;
}

describe('mh: share of flows that move when a real comes or goes', () => {
  const { saddr } = randomFlows(12, FLOWS);

  it.each([
    [3, 4093], [10, 4093], [10, 65521], [30, 65521],
  ])('%i reals, table %i: removal and addition move little more than the minimum', (n, m) => {
    const dests = reals(n);
    const s1 = new MaglevScheduler(false, false, m);
    s1.init(dests);
    const before = assign(s1, dests, saddr);

    // Removal of one real: its own flows must move (the minimum); the excess is Maglev's disruption.
    const gone = dests[Math.floor(n / 2)]!;
    const fewer = dests.filter((d) => d !== gone);
    const s2 = new MaglevScheduler(false, false, m);
    s2.init(fewer);
    const afterDel = assign(s2, fewer, saddr);
    const minDel = before.filter((id) => id === gone.id).length / FLOWS;
    const del = moved(before, afterDel);

    // Addition of one real: the flows it takes must move (the minimum, what it ends up with).
    const added = newDest(n + 1, 0xc0a80100 + n + 1, 80, 1);
    const more = [added, ...dests];
    const s3 = new MaglevScheduler(false, false, m);
    s3.init(more);
    const afterAdd = assign(s3, more, saddr);
    const minAdd = afterAdd.filter((id) => id === added.id).length / FLOWS;
    const add = moved(before, afterAdd);

    const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
    figures.push(`${n} reals, M=${m}: remove one -> ${pct(del)} moved (minimum ${pct(minDel)}, excess ${pct(del - minDel)}); add one -> ${pct(add)} moved (minimum ${pct(minAdd)}, excess ${pct(add - minAdd)})`);
    console.log(figures.at(-1));
    expect(del).toBeGreaterThanOrEqual(minDel);
    expect(add).toBeGreaterThanOrEqual(minAdd);
    // The target, at most 1 % beyond the minimum, holds when M >= 1000 N (the paper asks M >> 100 N);
    // with M only ~400 N (4093 slots, 10 reals) the excess measured is ~1.1 %: bounded at 2 % there.
    expect(del - minDel).toBeLessThan(m / n >= 1000 ? 0.01 : 0.02);
    expect(add - minAdd).toBeLessThan(m / n >= 1000 ? 0.01 : 0.02);
  });
});
