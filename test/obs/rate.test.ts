/**
 * The rate estimator against Linux 6.1's: the numbers its ipvsadm --rate printed in the recorded
 * runs, and the estimator's arithmetic (EWMA 1/4 every 2 s, rounding on read).
 */
import { describe, expect, it } from 'vitest';
import { RateEstimator, type TableSnapshot } from '../../src/obs/index.ts';

function snap(conns: number, inPkts: number, inBytes: number, reals: Array<[number, number, number]> = []): TableSnapshot {
  return {
    at: 0,
    services: [{
      spec: { proto: 'tcp', vip: 0x0a7b0064, port: 80, scheduler: 'rr' },
      conns, inPkts, inBytes,
      reals: reals.map(([c, p, b], i) => ({
        addr: 0x0a7b0015 + i, port: 80, weight: 1, activeConns: 0, inactConns: 0, persistConns: 0, uThreshold: 0, lThreshold: 0,
        conns: c, inPkts: p, inBytes: b,
      })),
    }],
  };
}

describe('RateEstimator', () => {
  it('gives what the kernel printed after one busy 2 s period and one quiet one (persist-mask-thresh: 101 conns, 501 pkts, 21844 bytes)', () => {
    const e = new RateEstimator();
    e.update(snap(0, 0, 0, [[0, 0, 0], [0, 0, 0]]), 1000);
    e.update(snap(101, 501, 21844, [[0, 0, 0], [101, 501, 21844]]), 3000);
    e.update(snap(101, 501, 21844, [[0, 0, 0], [101, 501, 21844]]), 5000);
    const r = e.report().services[0]!;
    expect(r.rates).toEqual({ cps: 9, inpps: 47, outpps: 0, inbps: 2048, outbps: 0 });
    expect(r.reals.map((x) => x.rates.cps)).toEqual([0, 9]);
  });

  it('and for the UDP run (12 conns, 24 pkts, 1044 bytes; reals 6/12/540, 1/2/96, 5/10/408)', () => {
    const e = new RateEstimator();
    const busy = snap(12, 24, 1044, [[6, 12, 540], [1, 2, 96], [5, 10, 408]]);
    e.update(snap(0, 0, 0, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]), 0);
    e.update(busy, 2000);
    e.update(busy, 4000);
    const r = e.report().services[0]!;
    expect(r.rates).toEqual({ cps: 1, inpps: 2, outpps: 0, inbps: 98, outbps: 0 });
    expect(r.reals.map((x) => [x.rates.cps, x.rates.inpps, x.rates.inbps])).toEqual([[1, 1, 51], [0, 0, 9], [0, 1, 38]]);
  });

  it('converges to the true rate under steady load', () => {
    const e = new RateEstimator();
    let t = 0;
    e.update(snap(0, 0, 0), t);
    for (let i = 1; i <= 40; i++) {
      t += 2000;
      e.update(snap(100 * i, 1000 * i, 64000 * i), t);
    }
    expect(e.report().services[0]!.rates).toEqual({ cps: 50, inpps: 500, outpps: 0, inbps: 32000, outbps: 0 });
  });

  it('runs only whole 2 s ticks: feeds between ticks change nothing until the next tick', () => {
    const e = new RateEstimator();
    e.update(snap(0, 0, 0), 0);
    e.update(snap(100, 100, 100), 1999);
    expect(e.report().services[0]!.rates.cps).toBe(0);
    e.update(snap(100, 100, 100), 2000);
    expect(e.report().services[0]!.rates.cps).toBe(12); // (100*512/4 + 511) >> 10
  });

  it('shares the growth out among ticks it missed', () => {
    const once = new RateEstimator();
    once.update(snap(0, 0, 0), 0);
    once.update(snap(100, 0, 0), 2000);
    once.update(snap(200, 0, 0), 4000);
    const late = new RateEstimator();
    late.update(snap(0, 0, 0), 0);
    late.update(snap(200, 0, 0), 4000);
    expect(late.report().services[0]!.rates).toEqual(once.report().services[0]!.rates);
  });

  it('counts counters so far as history at start-up, and starts afresh when counters go down (zeroed)', () => {
    const e = new RateEstimator();
    e.update(snap(1_000_000, 1_000_000, 1_000_000), 0);
    e.update(snap(1_000_000, 1_000_000, 1_000_000), 2000);
    expect(e.report().services[0]!.rates.cps).toBe(0);
    e.update(snap(10, 10, 10), 4000);
    expect(e.report().services[0]!.rates.cps).toBe(1); // 10 new connections since the zeroing
  });

  it('a service first seen later starts from zero counters; one that went away is forgotten', () => {
    const e = new RateEstimator();
    e.update({ at: 0, services: [] }, 0);
    e.update(snap(40, 40, 40), 2000);
    expect(e.report().services[0]!.rates.cps).toBe(5); // 40 * 128 = 5120 → (5120 + 511) >> 10
    e.update({ at: 0, services: [] }, 4000);
    expect(e.report().services).toEqual([]);
  });
});
