import { describe, expect, it } from 'vitest';
import { flowHash } from '../../src/conn/index.ts';
import { CLIENT, TCP, VIP, openTcp, setup } from './helpers.ts';

const SEED = 0x2545f491;

interface Spread { chi2: number; df: number; maxChain: number; oddShare: number; emptyFrac: number }

/** How `hash` spreads `keys` over 2^bits buckets (the table indexes with the low bits). */
function spread(keys: [number, number][], bits: number, hash: (caddr: number, cport: number) => number): Spread {
  const m = 1 << bits;
  const c = new Uint32Array(m);
  for (const [a, p] of keys) c[hash(a, p) & (m - 1)]!++;
  const e = keys.length / m;
  let chi2 = 0;
  let max = 0;
  let odd = 0;
  let empty = 0;
  for (let i = 0; i < m; i++) {
    const v = c[i]!;
    chi2 += (v - e) ** 2 / e;
    if (v > max) max = v;
    if (i & 1) odd += v;
    if (v === 0) empty++;
  }
  return { chi2, df: m - 1, maxChain: max, oddShare: odd / keys.length, emptyFrac: empty / m };
}

/** Uniform enough: chi-square within 6 standard deviations of its mean, no long chain, both parities used. */
function expectUniform(s: Spread, n: number, m: number): void {
  expect(s.chi2).toBeLessThan(s.df + 6 * Math.sqrt(2 * s.df));
  expect(s.maxChain).toBeLessThanOrEqual(10);
  expect(Math.abs(s.oddShare - 0.5)).toBeLessThan(0.02);
  expect(Math.abs(s.emptyFrac - Math.exp(-n / m))).toBeLessThan(0.02);
}

// Linux connect() takes even ports from ip_local_port_range (32768-60999 by default).
const evenPorts: number[] = [];
for (let p = 32768; p <= 60998; p += 2) evenPorts.push(p);

describe('flow hash with even client ports', () => {
  const ours = (a: number, p: number) => flowHash(SEED, TCP, a, p, VIP, 80);

  it('one client, every even port: uniform over the buckets', () => {
    const keys = evenPorts.map((p): [number, number] => [CLIENT, p]);
    expectUniform(spread(keys, 15, ours), keys.length, 1 << 15);
  });

  it('a /24 of clients, 64 even ports each: uniform', () => {
    const keys: [number, number][] = [];
    for (let c = 1; c < 255; c++) for (let i = 0; i < 64; i++) keys.push([(0x0a7b0100 | c) >>> 0, 40000 + 2 * i]);
    expectUniform(spread(keys, 15, ours), keys.length, 1 << 15);
  });

  it('the metric catches a hash that clusters on even ports', () => {
    const naive = (a: number, p: number) => (a ^ p ^ VIP ^ 80) >>> 0;
    const keys = evenPorts.map((p): [number, number] => [CLIENT, p]);
    const s = spread(keys, 15, naive);
    expect(Math.abs(s.oddShare - 0.5)).toBe(0.5); // one parity of buckets only
    expect(() => expectUniform(s, keys.length, 1 << 15)).toThrow();
  });

  it('depends on the seed', () => {
    expect(flowHash(1, TCP, CLIENT, 40000, VIP, 80)).not.toBe(flowHash(2, TCP, CLIENT, 40000, VIP, 80));
    expect(flowHash(1, TCP, CLIENT, 40000, VIP, 80)).toBe(flowHash(1, TCP, CLIENT, 40000, VIP, 80));
  });

  it('the table finds every one of 14 116 even-port flows of one client', () => {
    const { t } = setup({ capacity: evenPorts.length });
    const hs = evenPorts.map((p) => openTcp(t, CLIENT, p, p % 3, 0));
    expect(t.size).toBe(evenPorts.length);
    evenPorts.forEach((p, i) => expect(t.lookup(TCP, CLIENT, p, VIP, 80, 1)).toBe(hs[i]));
    expect(t.evictions).toBe(0);
  });
});
