/**
 * Two ECMP directors whose views disagree (docs/scale-out.md "When the directors' views disagree"):
 * the share of flows that director B would send elsewhere than director A, which is what breaks if
 * the router moves a flow from A to B during the disagreement. 3 reals, mh table 4093, 100 000
 * random clients; printed and bounded.
 */
import { describe, expect, it } from 'vitest';
import { newDest, type Dest } from '../../src/model/index.ts';
import { MaglevScheduler } from '../../src/sched/index.ts';
import { randomFlows } from './prng.ts';

const FLOWS = 100_000;
const VIP = 0xc0a8000a;
const { saddr } = randomFlows(7, FLOWS);

function reals(): Dest[] {
  return [7, 8, 9].map((x, i) => newDest(i + 1, 0xc0a80000 + x, 80, 1)).reverse();
}

function choices(sched: MaglevScheduler, dests: readonly Dest[]): Int32Array {
  const out = new Int32Array(FLOWS);
  for (let i = 0; i < FLOWS; i++) out[i] = sched.schedule(dests, saddr[i]!, 0, VIP, 80)?.id ?? -1;
  return out;
}

/** Director A: all three reals up, weight 1. */
function viewA(): Int32Array {
  const d = reals();
  const s = new MaglevScheduler(false, false);
  s.init(d);
  return choices(s, d);
}

function compare(a: Int32Array, b: Int32Array): { same: number; dropped: number; otherReal: number } {
  let same = 0, dropped = 0, otherReal = 0;
  for (let i = 0; i < FLOWS; i++) {
    if (a[i] === b[i]) same++;
    else if (b[i] === -1) dropped++;
    else otherReal++;
  }
  return { same: same / FLOWS, dropped: dropped / FLOWS, otherReal: otherReal / FLOWS };
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

describe('mh: directors whose views disagree', () => {
  const a = viewA();
  const onReal2 = a.filter((id) => id === 2).length / FLOWS;

  it('B has www2 quiesced (weight 0, quiescent=yes): only www2\'s flows differ, and they are dropped, not sent to another real', () => {
    const d = reals();
    const s = new MaglevScheduler(false, false);
    s.init(d);
    const w2 = d.find((x) => x.id === 2)!;
    w2.weight = 0;
    s.destsChanged(d, 'edit', w2);
    const c = compare(a, choices(s, d));
    console.log(`quiesced on B: ${pct(c.dropped)} dropped (www2's share ${pct(onReal2)}), ${pct(c.otherReal)} to another real`);
    expect(c.otherReal).toBe(0);
    expect(c.dropped).toBeCloseTo(onReal2, 10);
  });

  it('B has www2 removed (quiescent=no, or a reload without it): www2\'s flows and a few others go to another real', () => {
    const d = reals().filter((x) => x.id !== 2);
    const s = new MaglevScheduler(false, false);
    s.init(d);
    const c = compare(a, choices(s, d));
    console.log(`removed on B: ${pct(c.otherReal)} to another real (www2's share ${pct(onReal2)}, excess ${pct(c.otherReal - onReal2)})`);
    expect(c.dropped).toBe(0);
    expect(c.otherReal).toBeGreaterThanOrEqual(onReal2);
    expect(c.otherReal - onReal2).toBeLessThan(0.01);
  });

  it('B applied a reload first that gives www2 weight 2: the flows that the new weight moves differ', () => {
    const d = reals();
    const s = new MaglevScheduler(false, false);
    s.init(d);
    const w2 = d.find((x) => x.id === 2)!;
    w2.weight = 2;
    s.destsChanged(d, 'edit', w2);
    const c = compare(a, choices(s, d));
    console.log(`weight 1 -> 2 on B first: ${pct(c.otherReal)} to another real`);
    expect(c.dropped).toBe(0);
    // www2 goes from 1/3 to 1/2 of the table: at least 1/6 of the flows move to it.
    expect(c.otherReal).toBeGreaterThan(1 / 6 - 0.01);
    expect(c.otherReal).toBeLessThan(1 / 6 + 0.03);
  });
});
