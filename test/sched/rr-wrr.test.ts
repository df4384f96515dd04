/** rr and wrr beyond the reference runs: deletes, edits, gcd stepping, unavailable dests. */
import { describe, expect, it } from 'vitest';
import { DEST_F_OVERLOAD, DEST_F_UNRESOLVED } from '../../src/model/index.ts';
import type { Dest } from '../../src/model/index.ts';
import { WeightedRoundRobinScheduler } from '../../src/sched/index.ts';
import { Service, ip } from './harness.ts';

const C = ip('10.9.0.1');
const octet = (d: Dest | null): number | null => (d ? d.addr & 255 : null);
const picks = (svc: Service, n: number): (number | null)[] => Array.from({ length: n }, (_, i) => octet(svc.pick(C, 1000 + i)));

describe('rr', () => {
  it('walks the list newest first and keeps rotating', () => {
    const svc = new Service('rr');
    svc.add('10.0.0.21'); svc.add('10.0.0.22'); svc.add('10.0.0.23');
    expect(picks(svc, 7)).toEqual([23, 22, 21, 23, 22, 21, 23]);
  });

  it('after deleting the dest under the cursor, goes on with the one that followed it', () => {
    const svc = new Service('rr');
    const a = svc.add('10.0.0.21'); const b = svc.add('10.0.0.22'); svc.add('10.0.0.23');
    void a;
    expect(picks(svc, 2)).toEqual([23, 22]); // cursor on .22
    svc.del(b); // ip_vs_rr_del_dest: cursor back to .23 (the entry before .22)
    expect(picks(svc, 4)).toEqual([21, 23, 21, 23]);
  });

  it('deleting the first entry while the cursor is on it restarts at the head', () => {
    const svc = new Service('rr');
    svc.add('10.0.0.21'); svc.add('10.0.0.22'); const c = svc.add('10.0.0.23');
    expect(picks(svc, 1)).toEqual([23]);
    svc.del(c);
    expect(picks(svc, 3)).toEqual([22, 21, 22]);
  });

  it('deleting another dest leaves the cursor alone', () => {
    const svc = new Service('rr');
    const a = svc.add('10.0.0.21'); svc.add('10.0.0.22'); svc.add('10.0.0.23');
    expect(picks(svc, 1)).toEqual([23]);
    svc.del(a);
    expect(picks(svc, 3)).toEqual([22, 23, 22]);
  });

  it('a dest added mid-rotation (at the head) is reached when the walk wraps', () => {
    const svc = new Service('rr');
    svc.add('10.0.0.21'); svc.add('10.0.0.22');
    expect(picks(svc, 1)).toEqual([22]);
    svc.add('10.0.0.23');
    expect(picks(svc, 4)).toEqual([21, 23, 22, 21]);
  });

  it('skips weight 0, overloaded and unresolved dests; none left gives null and keeps the cursor', () => {
    const svc = new Service('rr');
    const a = svc.add('10.0.0.21'); const b = svc.add('10.0.0.22'); const c = svc.add('10.0.0.23');
    svc.edit(b, 0);
    expect(picks(svc, 3)).toEqual([23, 21, 23]);
    svc.edit(a, 1, DEST_F_OVERLOAD);
    svc.edit(c, 1, DEST_F_UNRESOLVED);
    expect(picks(svc, 2)).toEqual([null, null]);
    svc.edit(a, 1, 0);
    svc.edit(b, 1);
    svc.edit(c, 1, 0);
    expect(picks(svc, 3)).toEqual([22, 21, 23]); // the cursor stayed on .23
  });
});

describe('wrr', () => {
  it('weights 1,2,3 added in order: first cycle at cw = 1, then 3 | 3 2 | 3 2 1', () => {
    const svc = new Service('wrr');
    svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 2); svc.add('10.0.0.23', 3);
    expect(picks(svc, 12)).toEqual([23, 22, 21, 23, 23, 22, 23, 22, 21, 23, 23, 22]);
  });

  it('steps by the gcd of the weights (2,4,6 behaves as 1,2,3)', () => {
    const svc = new Service('wrr');
    svc.add('10.0.0.21', 2); svc.add('10.0.0.22', 4); svc.add('10.0.0.23', 6);
    const sched = svc.sched as WeightedRoundRobinScheduler;
    expect(sched.mark).toMatchObject({ cw: 1, mw: 5, di: 2 });
    expect(picks(svc, 12)).toEqual([23, 22, 21, 23, 23, 22, 23, 22, 21, 23, 23, 22]);
  });

  it('a fresh init (scheduler bound to an existing list) starts at the largest weight', () => {
    const svc = new Service('wrr');
    svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 2); svc.add('10.0.0.23', 3);
    const s = new WeightedRoundRobinScheduler();
    s.init(svc.dests);
    const got = Array.from({ length: 6 }, () => octet(s.schedule(svc.dests, C, 1, 0, 80)));
    expect(got).toEqual([23, 23, 22, 23, 22, 21]);
  });

  it('an edit moves the cursor to the head and rounds cw to the new step', () => {
    const svc = new Service('wrr');
    const a = svc.add('10.0.0.21', 2); svc.add('10.0.0.22', 4); svc.add('10.0.0.23', 6);
    const sched = svc.sched as WeightedRoundRobinScheduler;
    expect(picks(svc, 5)).toEqual([23, 22, 21, 23, 23]); // now cw = 3 (mw 5, then 5 - 2)
    expect(sched.mark.cw).toBe(3);
    svc.edit(a, 3); // gcd 1: di = 1, mw = 6, cw stays 3
    expect(sched.mark).toMatchObject({ cl: null, cw: 3, mw: 6, di: 1 });
    expect(picks(svc, 4)).toEqual([23, 22, 21, 23]);
    svc.edit(a, 2); // di back to 2: cw = floor(cw / 2) * 2 + 1
    const cw = sched.mark.cw;
    expect(cw % 2).toBe(1);
    expect(cw).toBeLessThanOrEqual(sched.mark.mw);
  });

  it('cw above the new maximum is reset to it', () => {
    const svc = new Service('wrr');
    svc.add('10.0.0.21', 1); const b = svc.add('10.0.0.22', 9);
    const sched = svc.sched as WeightedRoundRobinScheduler;
    expect(picks(svc, 3)).toEqual([22, 21, 22]); // cw: 1, then wraps to 9
    expect(sched.mark.cw).toBe(9);
    svc.edit(b, 4);
    expect(sched.mark).toMatchObject({ cw: 4, mw: 4 });
  });

  it('weight 0 and overloaded dests are skipped; none available gives null', () => {
    const svc = new Service('wrr');
    const a = svc.add('10.0.0.21', 3); const b = svc.add('10.0.0.22', 0); const c = svc.add('10.0.0.23', 2);
    const got = picks(svc, 50);
    expect(got).not.toContain(22);
    expect(got.filter((x) => x === 21).length / got.filter((x) => x === 23).length).toBeCloseTo(1.5, 1);
    svc.edit(a, 3, DEST_F_OVERLOAD);
    expect(picks(svc, 4)).toEqual([23, 23, 23, 23]);
    svc.edit(c, 2, DEST_F_OVERLOAD);
    expect(picks(svc, 3)).toEqual([null, null, null]);
    svc.edit(a, 0, 0); svc.edit(b, 0); svc.edit(c, 0, 0);
    expect(picks(svc, 2)).toEqual([null, null]);
  });

  it('empty service gives null', () => {
    const svc = new Service('wrr');
    expect(svc.pick(C, 1)).toBeNull();
  });
});
