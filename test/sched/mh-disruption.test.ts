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

  /**
   * The Maglev paper's resilience experiment (Eisenbud et al., NSDI 2016, §5.3): 1000 backends, k %
   * of them removed at once, the share of table entries that change. Here on the kernel's mh at its
   * two largest table sizes; docs/scale-out.md puts Katran's code, run the same way, beside it.
   */
  it.each([65521, 131071])('the paper\'s experiment, 1000 reals, k percent of them removed at once, table %i: slots changed beyond the removed reals\'', (m) => {
    const N = 1000;
    const all = Array.from({ length: N }, (_, i) => newDest(i + 1, (0x0a000000 + i + 1) >>> 0, 80, 1)).reverse();
    const s0 = new MaglevScheduler(false, false, m);
    s0.init(all);
    const t0 = s0.table.map((d) => d?.id ?? -1);
    const excess: number[] = [];
    for (const k of [1, 2, 5, 10]) {
      const removed = new Set<number>();
      for (let i = 0; i < (N * k) / 100; i++) removed.add(1 + Math.floor((i * 100) / k));
      const rest = all.filter((d) => !removed.has(d.id));
      const s1 = new MaglevScheduler(false, false, m);
      s1.init(rest);
      let must = 0, extra = 0;
      s1.table.forEach((d, i) => {
        if (t0[i] === (d?.id ?? -1)) return;
        if (removed.has(t0[i]!)) must++;
        else extra++;
      });
      excess.push(extra / m);
      figures.push(`paper's experiment, M=${m}, ${k} % of ${N} reals removed: ${(100 * (must + extra) / m).toFixed(2)} % of slots changed (the removed reals' ${(100 * must / m).toFixed(2)} %, others +${(100 * extra / m).toFixed(2)} %)`);
      console.log(figures.at(-1));
      // Every slot of a removed real changes; each real held about 1/N of the table.
      expect(must / m).toBeCloseTo(k / 100, 2);
    }
    // Measured: +2.4 to +3.6 % at 65521 (65 slots a real, under the paper's M > 100 N) and +1.5 to +2.5 %
    // at 131071; the excess grows with k and stays under 5 %.
    for (let i = 1; i < excess.length; i++) expect(excess[i]!).toBeGreaterThan(excess[i - 1]!);
    for (const e of excess) expect(e).toBeLessThan(0.05);
  });
});
