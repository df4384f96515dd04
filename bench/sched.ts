/**
 * schedule() throughput per scheduler, on one core: `npx tsx bench/sched.ts [iterations]`.
 *
 * Each scheduler gets its own service of 10 reals (weights 1..10, connection counters preset so the
 * least-connection family walks the whole list), added one by one as the kernel would. The flows
 * (random source address and port) are generated before the clock starts; only the schedule() loop
 * is timed, after a warm-up so that the optimising compiler has run.
 */
import { pathToFileURL } from 'node:url';
import { newDest } from '../src/model/index.ts';
import type { Dest } from '../src/model/index.ts';
import { createScheduler } from '../src/sched/index.ts';
import type { SchedFlags, SchedName, Scheduler } from '../src/sched/index.ts';

const REALS = 10;
const FLOW_MASK = (1 << 16) - 1;
const VIP = 0x0a7b0064; // 10.123.0.100

interface Case { label: string; name: SchedName; flags: SchedFlags }

const CASES: Case[] = [
  { label: 'rr', name: 'rr', flags: {} },
  { label: 'wrr', name: 'wrr', flags: {} },
  { label: 'lc', name: 'lc', flags: {} },
  { label: 'wlc', name: 'wlc', flags: {} },
  { label: 'sed', name: 'sed', flags: {} },
  { label: 'nq', name: 'nq', flags: {} },
  { label: 'sh', name: 'sh', flags: {} },
  { label: 'sh-port', name: 'sh', flags: { shPort: true } },
  { label: 'dh', name: 'dh', flags: {} },
  { label: 'mh', name: 'mh', flags: {} },
  { label: 'mh-port', name: 'mh', flags: { mhPort: true } },
];

function setup(c: Case): { sched: Scheduler; dests: Dest[] } {
  const sched = createScheduler(c.name, c.flags);
  const dests: Dest[] = [];
  for (let i = 0; i < REALS; i++) {
    const d = newDest(i, 0x0a7b0015 + i, 80, 1 + i);
    d.activeConns = 100 + 7 * i;
    d.inactConns = 1000 + 13 * i;
    dests.unshift(d);
    sched.destsChanged(dests, 'add', d);
  }
  return { sched, dests };
}

/** Source addresses are kept as int32 (same bits as the uint32 address): see Scheduler.schedule. */
function flows(): { saddr: Int32Array; sport: Uint16Array } {
  let s = 0x9e3779b9;
  const next = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
  const saddr = new Int32Array(FLOW_MASK + 1);
  const sport = new Uint16Array(FLOW_MASK + 1);
  for (let i = 0; i <= FLOW_MASK; i++) {
    saddr[i] = next() | 0;
    sport[i] = 1024 + (next() % 64512);
  }
  return { saddr, sport };
}

function loop(sched: Scheduler, dests: readonly Dest[], saddr: Int32Array, sport: Uint16Array, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const j = i & FLOW_MASK;
    const d = sched.schedule(dests, saddr[j]!, sport[j]!, VIP, 80);
    if (d !== null) sink += d.id;
  }
  return sink;
}

export function benchSchedulers(opts: { iterations?: number } = {}): Array<{ scheduler: string; opsPerSec: number }> {
  const iterations = Math.max(1, Math.floor(opts.iterations ?? 2_000_000));
  const { saddr, sport } = flows();
  const out: Array<{ scheduler: string; opsPerSec: number }> = [];
  for (const c of CASES) {
    const { sched, dests } = setup(c);
    loop(sched, dests, saddr, sport, Math.min(iterations, 200_000)); // warm-up
    const t0 = process.hrtime.bigint();
    const sink = loop(sched, dests, saddr, sport, iterations);
    const ns = Number(process.hrtime.bigint() - t0);
    if (sink < 0) throw new Error('unreachable'); // keeps the loop's result alive
    out.push({ scheduler: c.label, opsPerSec: Math.round((iterations * 1e9) / Math.max(ns, 1)) });
  }
  return out;
}

function main(): void {
  const arg = Number(process.argv[2]);
  const iterations = Number.isFinite(arg) && arg > 0 ? arg : 2_000_000;
  const rows = benchSchedulers({ iterations });
  console.log(`schedule() on one core, ${REALS} reals, ${iterations} calls each (Node ${process.version})`);
  console.log('scheduler    ops/s        ns/op');
  for (const r of rows) {
    console.log(`${r.scheduler.padEnd(12)} ${String(r.opsPerSec).padStart(11)}  ${(1e9 / r.opsPerSec).toFixed(1).padStart(8)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
