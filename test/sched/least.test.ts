/** lc, wlc, sed and nq: load formulas, list order and tie rules of the kernel modules. */
import { describe, expect, it } from 'vitest';
import { DEST_F_OVERLOAD } from '../../src/model/index.ts';
import type { Dest } from '../../src/model/index.ts';
import { Service, ip } from './harness.ts';

const C = ip('10.9.0.1');
const octet = (d: Dest | null): number | null => (d ? d.addr & 255 : null);
const run = (svc: Service, n: number): (number | null)[] => Array.from({ length: n }, (_, i) => octet(svc.connect(C, 1000 + i)));

function three(name: 'lc' | 'wlc' | 'sed' | 'nq', w: [number, number, number]): { svc: Service; a: Dest; b: Dest; c: Dest } {
  const svc = new Service(name);
  const a = svc.add('10.0.0.21', w[0]);
  const b = svc.add('10.0.0.22', w[1]);
  const c = svc.add('10.0.0.23', w[2]);
  return { svc, a, b, c };
}

describe('lc', () => {
  it('ties go to the dest nearest the head (newest)', () => {
    const { svc } = three('lc', [1, 1, 1]);
    expect(run(svc, 6)).toEqual([23, 22, 21, 23, 22, 21]);
  });

  it('counts an active connection as 256 inactive ones and ignores weights other than 0', () => {
    const { svc, a, b, c } = three('lc', [1, 5, 100]);
    c.activeConns = 1; // 256
    b.inactConns = 255; // 255
    a.inactConns = 256; // 256
    expect(octet(svc.pick(C, 1))).toBe(22);
    b.inactConns = 256;
    expect(octet(svc.pick(C, 1))).toBe(23); // three-way tie: newest wins
    svc.edit(c, 0);
    expect(octet(svc.pick(C, 1))).toBe(22);
    svc.edit(b, 5, DEST_F_OVERLOAD);
    expect(octet(svc.pick(C, 1))).toBe(21);
    svc.edit(a, 0);
    expect(svc.pick(C, 1)).toBeNull();
  });
});

describe('wlc', () => {
  it('weights 1,2,3 from empty: 23 22 21 23 22 23 (period 6)', () => {
    const { svc } = three('wlc', [1, 2, 3]);
    expect(run(svc, 12)).toEqual([23, 22, 21, 23, 22, 23, 23, 22, 21, 23, 22, 23]);
  });

  it('replaces the best only when strictly better: overhead * weight cross-products', () => {
    const { svc, a, b, c } = three('wlc', [2, 1, 4]);
    c.activeConns = 2; // 512 / 4 = 128
    b.inactConns = 128; // 128 / 1 = 128 (tie with .23: stays .23)
    a.activeConns = 1; // 256 / 2 = 128 (tie again)
    expect(octet(svc.pick(C, 1))).toBe(23);
    a.activeConns = 0;
    a.inactConns = 255; // 127.5
    expect(octet(svc.pick(C, 1))).toBe(21);
  });

  it('never gives a flow to a weight-0 dest even when it is idle', () => {
    const { svc, b, c } = three('wlc', [1, 0, 1]);
    c.activeConns = 1000;
    b.activeConns = 0;
    expect(octet(svc.pick(C, 1))).toBe(21);
    svc.edit(c, 0);
    svc.edit(b, 0);
    expect(octet(svc.pick(C, 1))).toBe(21);
  });
});

describe('sed', () => {
  it('uses (active + 1) / weight and ignores inactive connections', () => {
    const { svc, a, b, c } = three('sed', [1, 2, 3]);
    expect(run(svc, 6)).toEqual([23, 22, 23, 23, 22, 21]);
    a.inactConns = 1_000_000;
    void b; void c;
    // now active: .21=1 .22=2 .23=3 -> (2/1, 3/2, 4/3): .23
    expect(octet(svc.pick(C, 1))).toBe(23);
  });
});

describe('nq', () => {
  it('takes the first idle dest (newest first) whatever its weight, then behaves as sed', () => {
    const { svc, a } = three('nq', [1, 2, 3]);
    expect(run(svc, 3)).toEqual([23, 22, 21]);
    // all busy, active 1,1,1: sed on (a+1)/w gives .23 (2/3); then .23 (3/3) ties .22 (2/2) and the
    // earlier one in the list keeps it; then .22 (2/2 < 4/3)
    expect(run(svc, 3)).toEqual([23, 23, 22]);
    a.activeConns = 0;
    expect(octet(svc.pick(C, 1))).toBe(21);
  });

  it('skips idle weight-0 and overloaded dests', () => {
    const { svc, b, c } = three('nq', [1, 0, 1]);
    c.flags |= DEST_F_OVERLOAD;
    expect(octet(svc.pick(C, 1))).toBe(21);
    void b;
  });
});
