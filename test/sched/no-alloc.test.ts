/**
 * schedule() must not allocate. A loop of a million picks after a warm-up would fill the young
 * generation several times over if each pick left even a 16-byte object (a boxed number, an array),
 * so it must run without a single minor GC. (Checked by hand as well with `node --trace-gc`.)
 *
 * The caller passes the source address as an int32 (`addr | 0`, same bits): a uint32 above 2^31 - 1
 * is a heap number, and a call that the compiler does not inline (this loop's call site sees eleven
 * scheduler classes) would box it. Every scheduler accepts either form.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { DEST_F_OVERLOAD, newDest, newDest6 } from '../../src/model/index.ts';
import type { Dest } from '../../src/model/index.ts';
import { createScheduler, scheduleIPv6 } from '../../src/sched/index.ts';
import type { SchedFlags, SchedName } from '../../src/sched/index.ts';
import { randomFlows } from './prng.ts';

const CASES: [string, SchedName, SchedFlags][] = [
  ['rr', 'rr', {}], ['wrr', 'wrr', {}], ['lc', 'lc', {}], ['wlc', 'wlc', {}], ['sed', 'sed', {}], ['nq', 'nq', {}],
  ['sh', 'sh', {}], ['sh-port-fallback', 'sh', { shPort: true, shFallback: true }], ['dh', 'dh', {}],
  ['mh', 'mh', {}], ['mh-port-fallback', 'mh', { mhPort: true, mhFallback: true }],
];

async function minorGcsDuring(fn: () => void): Promise<number> {
  let count = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  // GC entries reach the observer asynchronously, after fn returns; the control test checks that
  // this delay lets them arrive (there is no event for "no GC happened" to wait on instead).
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return count;
}

describe('schedule() allocates nothing', () => {
  it('control: the GC observer counts the minor GCs of a loop that does allocate', async () => {
    // Same observer, same delivery wait as below: a count of 0 there means no GC, not a deaf observer.
    const keep: number[][] = [];
    const gcs = await minorGcsDuring(() => {
      for (let i = 0; i < 1_000_000; i++) {
        const a = [i, i + 1];
        if ((i & 0xffff) === 0) keep.push(a);
      }
    });
    expect(keep.length).toBeGreaterThan(0);
    expect(gcs).toBeGreaterThan(0);
  });

  for (const [label, name, flags] of CASES) {
    it(label, async () => {
      const sched = createScheduler(name, flags);
      const dests: Dest[] = [];
      for (let i = 0; i < 8; i++) {
        const d = newDest(i, 0x0a000015 + i, 80, 1 + (i % 4));
        d.activeConns = 3 * i;
        dests.unshift(d);
        sched.destsChanged(dests, 'add', d);
      }
      // Some unavailable reals, so that the fallback walks run too.
      dests[2]!.weight = 0;
      sched.destsChanged(dests, 'edit', dests[2]!);
      dests[5]!.flags |= DEST_F_OVERLOAD;
      sched.destsChanged(dests, 'edit', dests[5]!);
      const { saddr, sport } = randomFlows(7, 1 << 16);
      let sink = 0;
      const loop = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const j = i & 0xffff;
          const d = sched.schedule(dests, saddr[j]! | 0, sport[j]!, 0x0a7b0064, 80);
          if (d !== null) sink += d.id + 1;
        }
      };
      loop(200_000);
      await new Promise((r) => setTimeout(r, 20));
      const gcs = await minorGcsDuring(() => loop(1_000_000));
      expect(sink).toBeGreaterThan(0);
      expect(gcs).toBeLessThanOrEqual(1);
    });
  }

  for (const [label, name, flags] of CASES) {
    it(`IPv6 ${label}: scheduleIPv6 folding addresses straight from frames`, async () => {
      const sched = createScheduler(name, flags);
      const dests: Dest[] = [];
      for (let i = 0; i < 8; i++) {
        const a = new Uint8Array(16);
        a.set([0x20, 0x01, 0x0d, 0xb8, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21 + i]);
        const d = newDest6(i, a, 80, 1 + (i % 4));
        d.activeConns = 3 * i;
        dests.unshift(d);
        sched.destsChanged(dests, 'add', d);
      }
      dests[2]!.weight = 0;
      sched.destsChanged(dests, 'edit', dests[2]!);
      dests[5]!.flags |= DEST_F_OVERLOAD;
      sched.destsChanged(dests, 'edit', dests[5]!);
      // 4096 "frames" of 78 bytes: source address at 22, destination (the VIP) at 38, as in a frame.
      const { saddr, sport } = randomFlows(11, 1 << 12);
      const frames = new Uint8Array(78 * 4096);
      for (let j = 0; j < 4096; j++) {
        const f = frames.subarray(78 * j);
        f.set([0x20, 0x01, 0x0d, 0xb8], 22);
        new DataView(f.buffer, f.byteOffset).setUint32(30, saddr[j]!);
        new DataView(f.buffer, f.byteOffset).setUint32(34, saddr[(j * 7) & 4095]!);
        f.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10], 38);
      }
      let sink = 0;
      const loop = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const j = i & 4095;
          const d = scheduleIPv6(sched, dests, frames, 78 * j + 22, sport[j]!, 78 * j + 38, 80);
          if (d !== null) sink += d.id + 1;
        }
      };
      loop(200_000);
      await new Promise((r) => setTimeout(r, 20));
      const gcs = await minorGcsDuring(() => loop(1_000_000));
      expect(sink).toBeGreaterThan(0);
      expect(gcs).toBeLessThanOrEqual(1);
    });
  }
});
