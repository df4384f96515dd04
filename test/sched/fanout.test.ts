/**
 * What `--workers N` does to the schedulers' choices (docs/design/workers.md), checked with pure
 * Dataplanes: the flows are split over N Dataplanes by a flow hash, as PACKET_FANOUT_HASH splits
 * them over the workers, and compared with one Dataplane that sees every flow (the kernel, or
 * --workers 1).
 * - sh, dh, mh: every flow goes to the same real as with one Dataplane (they hash; no state).
 * - rr, wrr, lc, wlc, sed, nq: each worker runs the kernel's algorithm over its own subsequence of
 *   flows. With connections that stay open, a worker that got k flows has made exactly the choices
 *   one Dataplane makes for its first k flows, so the per-real totals are the sum of those, and
 *   (for rr with equal weights) within N of an even spread.
 */
import { describe, expect, it } from 'vitest';
import { Dataplane, VerdictKind } from '../../src/dataplane/index.ts';
import type { SchedName } from '../../src/sched/index.ts';
import { macToString, parseIPv4, parseMac } from '../../src/model/index.ts';
import { tcpFrame } from '../../src/packet/index.ts';

const ip = (s: string) => parseIPv4(s)!;
const SELF = '02:00:00:00:00:01';
const REALS = [
  { ip: '10.0.0.21', mac: '02:00:00:00:00:15', weight: 3 },
  { ip: '10.0.0.22', mac: '02:00:00:00:00:16', weight: 2 },
  { ip: '10.0.0.23', mac: '02:00:00:00:00:17', weight: 1 },
];

function plane(scheduler: SchedName, weights: number[], persistentS = 0): Dataplane {
  const dp = new Dataplane({ selfMac: parseMac(SELF)!, localAddrs: [], connCapacity: 4096 });
  const svc = dp.services.addService({ proto: 'tcp', vip: ip('10.0.0.100'), port: 80, scheduler, ...(persistentS ? { persistent: persistentS } : {}) });
  REALS.forEach((r, i) => {
    dp.services.setNeighbour(ip(r.ip), parseMac(r.mac)!);
    dp.services.addDest(svc, { addr: ip(r.ip), port: 80, weight: weights[i]! });
  });
  dp.refreshVips();
  return dp;
}

interface Flow { src: string; sport: number; frame: Buffer }

/** 600 client flows from 150 client addresses, 4 source ports each. */
const FLOWS: Flow[] = [];
for (let c = 0; c < 150; c++) {
  for (let p = 0; p < 4; p++) {
    const src = `10.1.${c >> 4}.${(c & 15) + 1}`;
    const sport = 32768 + ((c * 7919 + p * 104729) % 28000);
    FLOWS.push({ src, sport, frame: Buffer.from(tcpFrame({ srcMac: '02:00:00:00:00:0a', dstMac: SELF, src, sport, flags: 'SYN' })) });
  }
}

/** A flow hash standing in for the kernel's skb hash (jhash of the addresses and ports, random seed). */
function flowHash(f: Flow, seed: number): number {
  let h = (ip(f.src) ^ Math.imul(f.sport, 0x9e3779b1) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The real (its MAC) each flow is forwarded to, in order. */
function choose(dp: Dataplane, flows: readonly Flow[]): string[] {
  return flows.map((f) => {
    const v = dp.process(Buffer.from(f.frame), f.frame.length, 0);
    expect(v.kind).toBe(VerdictKind.Forward);
    return macToString(v.frame!.subarray(0, 6));
  });
}

function countByReal(macs: readonly string[]): number[] {
  return REALS.map((r) => macs.filter((m) => m === r.mac).length);
}

/** Runs the flows through N Dataplanes split by the hash; returns each flow's real and each worker's share. */
function split(scheduler: SchedName, weights: number[], n: number, seed: number, persistentS = 0) {
  const workers = Array.from({ length: n }, () => plane(scheduler, weights, persistentS));
  const sub: Flow[][] = Array.from({ length: n }, () => []);
  for (const f of FLOWS) sub[flowHash(f, seed) % n]!.push(f);
  const perFlow = new Map<Flow, string>();
  sub.forEach((flows, w) => choose(workers[w]!, flows).forEach((m, i) => perFlow.set(flows[i]!, m)));
  return { perFlow: FLOWS.map((f) => perFlow.get(f)!), sizes: sub.map((s) => s.length) };
}

describe('fan-out over N workers against one table', () => {
  for (const sched of ['sh', 'dh', 'mh'] as const) {
    it(`${sched}: every flow goes to the real one Dataplane picks`, () => {
      const one = choose(plane(sched, [3, 2, 1]), FLOWS);
      for (const n of [2, 3]) expect(split(sched, [3, 2, 1], n, 0x5eed + n).perFlow).toEqual(one);
      if (sched !== 'dh') expect(new Set(one).size).toBe(3); // dh hashes the VIP: one real for all
    });
  }

  for (const sched of ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq'] as const) {
    it(`${sched}: a worker with k flows chose as one Dataplane does for its first k flows; the totals are the sum`, () => {
      for (const weights of [[1, 1, 1], [3, 2, 1]]) {
        const oneChoices = choose(plane(sched, weights), FLOWS);
        for (const n of [2, 3]) {
          const s = split(sched, weights, n, 0xbeef + n);
          expect(s.sizes.every((k) => k > 0)).toBe(true);
          const expected = REALS.map(() => 0);
          for (const k of s.sizes) countByReal(oneChoices.slice(0, k)).forEach((c, r) => (expected[r]! += c));
          const totals = countByReal(s.perFlow);
          expect(totals).toEqual(expected);
          if (weights[0] === 1 && (sched === 'rr' || sched === 'lc')) {
            // equal weights: each worker's spread is within 1, so the totals are within N
            expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(n);
          }
          // The per-flow choices do differ from one table's (the schedulers are not stateless).
          if (sched === 'rr') expect(s.perFlow).not.toEqual(oneChoices);
        }
      }
    });
  }

  it('persistence (-p): templates are per worker, so one client may reach up to N reals (one per worker), not one', () => {
    const one = choose(plane('rr', [1, 1, 1], 300), FLOWS);
    const reals = (choices: readonly string[]) => {
      const by = new Map<string, Set<string>>();
      FLOWS.forEach((f, i) => by.set(f.src, (by.get(f.src) ?? new Set()).add(choices[i]!)));
      return [...by.values()].map((s) => s.size);
    };
    expect(Math.max(...reals(one))).toBe(1);
    const two = reals(split('rr', [1, 1, 1], 2, 0xfeed, 300).perFlow);
    expect(Math.max(...two)).toBe(2);
    expect(two.every((k) => k <= 2)).toBe(true);
  });
});
