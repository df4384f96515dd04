/**
 * In-process micro benchmarks, on one core, with verdicts against the targets:
 *
 *   npm run bench:micro                 (or: npx tsx bench/micro.ts [--quick] [--json] [--strict])
 *
 *   data path   verdicts/s for packets of established flows (target >= 3M/s) and for new flows
 *               (SYNs scheduled into a new connection; target >= 1M/s)    bench/dataplane.ts
 *   schedulers  schedule() calls/s of each scheduler, 10 reals             bench/sched.ts
 *   conn table  bytes per connection at 1M entries (target <= 160 B), lookups and inserts/s
 *                                                                          bench/conn.ts
 *   ring        the packet ring's JavaScript cost per frame (RX walk + release, TX slot write) on a
 *               synthetic mapping                                          bench/ring-walker.ts
 *
 * --json prints one JSON object (MicroResults) instead of the table; --strict exits 1 on a FAIL.
 * Run it with `node --expose-gc --import tsx` for a clean heap figure of the conn table.
 */
import { pathToFileURL } from 'node:url';
import { benchConnTable } from './conn.ts';
import { benchDataplane } from './dataplane.ts';
import type { MicroResults, MicroTarget } from './lib/results.ts';
import { fmt } from './lib/stats.ts';
import { benchSchedulers } from './sched.ts';
import { benchRingWalker } from './ring-walker.ts';

export const MICRO_TARGETS = {
  establishedPerSec: 3_000_000,
  newFlowsPerSec: 1_000_000,
  bytesPerConn: 160,
} as const;

export function runMicro(o: { quick?: boolean } = {}): MicroResults {
  const t0 = Date.now();
  const seconds = o.quick ? 0.5 : 1.5;
  // 10,000 established flows in a table sized for them (64k entries), and in the default 1M table.
  const dp = benchDataplane({ flows: 10_000, seconds, capacity: 1 << 16 });
  const dp1m = benchDataplane({ flows: 10_000, seconds, capacity: 1 << 20 });
  const sched = benchSchedulers({ iterations: o.quick ? 300_000 : 2_000_000 });
  // The bytes-per-entry figure is asked at 1M entries in both modes (the table's arrays are sized up front).
  const conn = benchConnTable({ entries: 1_000_000 });
  const ring = benchRingWalker({ seconds: o.quick ? 0.3 : 1 });
  const t = (name: string, value: number, op: '>=' | '<=', limit: number): MicroTarget => ({
    name, value, limit, op, pass: op === '>=' ? value >= limit : value <= limit,
  });
  return {
    dataplane: {
      established_verdicts_per_s: Math.round(dp.establishedVerdictsPerSec),
      new_flow_verdicts_per_s: Math.round(dp.newFlowVerdictsPerSec),
      flows: dp.flows,
      source: 'bench/dataplane.ts',
      table_capacity: 1 << 16,
      established_verdicts_per_s_1m_table: Math.round(dp1m.establishedVerdictsPerSec),
    },
    sched: sched.map((s) => ({ scheduler: s.scheduler, ops_per_s: s.opsPerSec })),
    conn: {
      entries: conn.entries,
      bytes_per_entry: Math.round(conn.bytesPerEntry * 10) / 10,
      heap_bytes_per_entry: conn.gc ? Math.round(conn.heapBytesPerEntry * 10) / 10 : null,
      lookups_per_s: Math.round(conn.lookupsPerSec),
      lookups_per_s_sequential: Math.round(conn.lookupsPerSecSequential),
      inserts_per_s: Math.round(conn.insertsPerSec),
      inserts_per_s_full: Math.round(conn.insertsPerSecFull),
    },
    ring: { ...ring, source: 'bench/ring-walker.ts' },
    targets: [
      t('established-flow verdicts/s (64k-entry table)', dp.establishedVerdictsPerSec, '>=', MICRO_TARGETS.establishedPerSec),
      t('new-flow verdicts/s', dp.newFlowVerdictsPerSec, '>=', MICRO_TARGETS.newFlowsPerSec),
      t('conn table bytes/entry at 1M', conn.bytesPerEntry, '<=', MICRO_TARGETS.bytesPerConn),
      t('established-flow verdicts/s (1M-entry table)', dp1m.establishedVerdictsPerSec, '>=', MICRO_TARGETS.establishedPerSec),
    ],
    node: process.version,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
}

/** The human table (also used in report.md). */
export function microLines(m: MicroResults): string[] {
  const out: string[] = [];
  const verdict = (x: MicroTarget) => `${x.pass ? 'PASS' : 'FAIL'} (target ${x.op} ${fmt(x.limit)})`;
  out.push(`data path, one core (Node ${m.node}; ${m.dataplane.source}):`);
  if (m.dataplane.note) out.push(`  note: ${m.dataplane.note}`);
  out.push(`  established flows  ${fmt(m.dataplane.established_verdicts_per_s).padStart(12)} verdicts/s  ${verdict(m.targets[0]!)}  (10,000 flows, 64k-entry table)`);
  if (m.dataplane.established_verdicts_per_s_1m_table !== undefined && m.targets[3]) {
    out.push(`  established flows  ${fmt(m.dataplane.established_verdicts_per_s_1m_table).padStart(12)} verdicts/s  ${verdict(m.targets[3])}  (10,000 flows, default 1M-entry table)`);
  }
  out.push(`  new flows (SYN)    ${fmt(m.dataplane.new_flow_verdicts_per_s).padStart(12)} verdicts/s  ${verdict(m.targets[1]!)}`);
  out.push('schedulers, 10 reals:');
  for (const s of m.sched) out.push(`  ${s.scheduler.padEnd(9)} ${fmt(s.ops_per_s).padStart(12)} schedule()/s  ${(1e9 / s.ops_per_s).toFixed(1).padStart(6)} ns`);
  out.push(`connection table, ${fmt(m.conn.entries)} entries:`);
  out.push(`  bytes/entry        ${fmt(m.conn.bytes_per_entry, 1).padStart(12)}             ${verdict(m.targets[2]!)}`);
  if (m.conn.heap_bytes_per_entry !== null) out.push(`  heap delta/entry   ${fmt(m.conn.heap_bytes_per_entry, 1).padStart(12)}             (heap + array buffers after gc)`);
  out.push(`  lookups/s random   ${fmt(m.conn.lookups_per_s).padStart(12)}`);
  out.push(`  lookups/s in order ${fmt(m.conn.lookups_per_s_sequential).padStart(12)}`);
  out.push(`  inserts/s          ${fmt(m.conn.inserts_per_s).padStart(12)}   (full table, evicting: ${fmt(m.conn.inserts_per_s_full)})`);
  if (m.ring) {
    out.push(`packet ring, JavaScript side only (synthetic mapping, ${fmt(m.ring.slots)} slots; ${m.ring.source}):`);
    out.push(`  RX walk + release  ${fmt(m.ring.rx_ns_per_frame, 1).padStart(12)} ns/frame`);
    out.push(`  TX slot write      ${fmt(m.ring.tx_ns_per_frame, 1).padStart(12)} ns/frame  (60-byte frame)`);
  }
  return out;
}

function main(): void {
  const args = new Set(process.argv.slice(2));
  for (const a of args) {
    if (!['--quick', '--json', '--strict'].includes(a)) {
      process.stderr.write(`unknown argument ${a}\nusage: micro.ts [--quick] [--json] [--strict]\n`);
      process.exitCode = 2;
      return;
    }
  }
  const m = runMicro({ quick: args.has('--quick') });
  if (args.has('--json')) process.stdout.write(`${JSON.stringify(m)}\n`);
  else {
    for (const l of microLines(m)) console.log(l);
    const fails = m.targets.filter((t) => !t.pass).length;
    console.log(fails ? `${fails} of ${m.targets.length} targets missed` : `all ${m.targets.length} targets met`);
  }
  if (args.has('--strict') && m.targets.some((t) => !t.pass)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
