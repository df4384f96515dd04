/**
 * Connection-table benchmark: memory per entry and per-packet cost at a million flows.
 *
 *   npx tsx bench/conn.ts [entries]                       (typed-array bytes, no gc)
 *   node --expose-gc --import tsx bench/conn.ts [entries] (also a clean heap delta)
 *
 * - bytesPerEntry: typed-array bytes / capacity (ConnTable.bytesPerEntry()).
 * - heapBytesPerEntry: process.memoryUsage() heapUsed + arrayBuffers, after minus before building
 *   and filling the table, per entry (gc before each reading when --expose-gc is given).
 * - insertsPerSec: new flows into an empty table: lookup (miss) + create + tcpInput(SYN).
 * - lookupsPerSec: verdicts for established flows picked at random among all entries:
 *   lookup (hit) + inputCheck + tcpInput(ACK) - the worst case for the caches.
 * - extras: the same in flow order, new flows into a full table (each one evicts), and every rate
 *   from process CPU time too (this machine is shared: wall time counts other processes' turns).
 * Rates are the best of 3 rounds (inserts: one round, as a table fills once).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ConnTable } from '../src/conn/index.ts';
import { newDest, type Dest } from '../src/model/index.ts';

export interface ConnBenchResult {
  bytesPerEntry: number;
  heapBytesPerEntry: number;
  lookupsPerSec: number;
  insertsPerSec: number;
  /** Established-flow verdicts, flows visited in insertion order (cache friendly). */
  lookupsPerSecSequential: number;
  /** New flows into a full table, each evicting one entry. */
  insertsPerSecFull: number;
  /** The same rates from process CPU time (what one core spends; immune to other processes). */
  cpu: { lookupsPerSec: number; insertsPerSec: number; lookupsPerSecSequential: number; insertsPerSecFull: number };
  entries: number;
  gc: boolean;
}

const TCP = 6;
const SYN = 0x02;
const ACK = 0x10;
const VIP = 0x0a000064;

function maybeGc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g !== 'function') return false;
  g();
  g();
  return true;
}

function memNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Flow keys: clients 10.1.0.0 + (i >> 4), 16 even source ports each (Linux connect() style). */
function keys(n: number): { caddr: Uint32Array; cport: Uint16Array } {
  const caddr = new Uint32Array(n);
  const cport = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    caddr[i] = (0x0a010000 + (i >>> 4)) >>> 0;
    cport[i] = 32768 + 2 * (i & 15) + 64 * ((i >>> 4) & 7);
  }
  return { caddr, cport };
}

/** A random order of 0..n-1 (xorshift32, fixed seed). */
function shuffled(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  let s = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
  return a;
}

/** New flows: lookup (miss), create, first packet (SYN). */
function fill(t: ConnTable, k: { caddr: Uint32Array; cport: Uint16Array }, n: number, now: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const c = k.caddr[i]!;
    const p = k.cport[i]!;
    let h = t.lookup(TCP, c, p, VIP, 80, now);
    if (h < 0) h = t.create(TCP, c, p, VIP, 80, i & 7, now);
    sink += t.tcpInput(h, SYN, now);
  }
  return sink;
}

/** The keys in the given order, copied so that the loop reads its input sequentially. */
function permuted(k: { caddr: Uint32Array; cport: Uint16Array }, order: Uint32Array): { caddr: Uint32Array; cport: Uint16Array } {
  const caddr = new Uint32Array(order.length);
  const cport = new Uint16Array(order.length);
  for (let j = 0; j < order.length; j++) {
    caddr[j] = k.caddr[order[j]!]!;
    cport[j] = k.cport[order[j]!]!;
  }
  return { caddr, cport };
}

/** One established-flow verdict per key: lookup, ip_vs_in's checks, state update. */
function verdicts(t: ConnTable, k: { caddr: Uint32Array; cport: Uint16Array }, n: number, now: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const h = t.lookup(TCP, k.caddr[i]!, k.cport[i]!, VIP, 80, now);
    if (h >= 0 && t.inputCheck(h, ACK) === 0) sink += t.tcpInput(h, ACK, now);
  }
  return sink;
}

/** Wall and CPU milliseconds of f(). CPU time is what one core spends, other processes aside. */
function timed(f: () => number): { wall: number; cpu: number; sink: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sink = f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, sink };
}

export function benchConnTable(opts: { entries?: number } = {}): ConnBenchResult {
  const n = opts.entries ?? 1_000_000;
  const dests: Dest[] = [];
  for (let i = 0; i < 8; i++) dests.push(newDest(i, 0x0a000015 + i, 80, 1));
  const resolve = (id: number): Dest | undefined => dests[id];
  const k = keys(n);
  const rk = permuted(k, shuffled(n));
  const m = Math.min(n, 500_000);
  const fresh = keys(m);
  for (let i = 0; i < m; i++) fresh.caddr[i] = (fresh.caddr[i]! + 0x01000000) >>> 0;

  // Warm the JIT on a small table.
  {
    const w = new ConnTable({ capacity: 1 << 14 }, resolve);
    for (let r = 0; r < 5; r++) {
      fill(w, k, 1 << 14, r * 1000);
      verdicts(w, k, 1 << 14, r * 1000 + 1);
      fill(w, fresh, 1 << 12, r * 1000 + 2);
      w.flush();
    }
  }

  const gc = maybeGc();
  const before = memNow();
  const t = new ConnTable({ capacity: n }, resolve);
  let now = 1_000;
  const ins = timed(() => fill(t, k, n, now));
  maybeGc();
  const heapBytesPerEntry = (memNow() - before) / n;

  const rounds = 3;
  const best = (f: () => number) => {
    let wall = Infinity;
    let cpu = Infinity;
    for (let r = 0; r < rounds; r++) {
      now += 10;
      const x = timed(f);
      wall = Math.min(wall, x.wall);
      cpu = Math.min(cpu, x.cpu);
    }
    return { wall, cpu };
  };
  const rnd = best(() => verdicts(t, rk, n, now));
  const seq = best(() => verdicts(t, k, n, now));
  now += 10;
  const full = timed(() => fill(t, fresh, m, now));
  if (t.size !== n || t.evictions < m) throw new Error('benchmark went wrong');

  const perSec = (count: number, ms: number) => count / (ms / 1000);
  return {
    bytesPerEntry: t.bytesPerEntry(),
    heapBytesPerEntry,
    lookupsPerSec: perSec(n, rnd.wall),
    insertsPerSec: perSec(n, ins.wall),
    lookupsPerSecSequential: perSec(n, seq.wall),
    insertsPerSecFull: perSec(m, full.wall),
    cpu: {
      lookupsPerSec: perSec(n, rnd.cpu),
      insertsPerSec: perSec(n, ins.cpu),
      lookupsPerSecSequential: perSec(n, seq.cpu),
      insertsPerSecFull: perSec(m, full.cpu),
    },
    entries: n,
    gc,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const entries = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const r = benchConnTable({ entries });
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const ns = (perSec: number) => `${f(1e9 / perSec)} ns`;
  const rows: [string, string, string, string][] = [
    ['', 'wall', 'cpu', ''],
    ['entries', f(r.entries), '', ''],
    ['bytes/entry, typed arrays', f(r.bytesPerEntry, 1), '', 'target <= 160'],
    ['bytes/entry, heap+arrayBuffers delta', f(r.heapBytesPerEntry, 1), '', r.gc ? 'after gc' : 'no --expose-gc: rough'],
    ['established verdicts/s, random flows', f(r.lookupsPerSec), f(r.cpu.lookupsPerSec), `${ns(r.lookupsPerSec)} / ${ns(r.cpu.lookupsPerSec)} each; target >= 3M/s`],
    ['established verdicts/s, flow order', f(r.lookupsPerSecSequential), f(r.cpu.lookupsPerSecSequential), `${ns(r.lookupsPerSecSequential)} / ${ns(r.cpu.lookupsPerSecSequential)} each`],
    ['new flows/s, empty table', f(r.insertsPerSec), f(r.cpu.insertsPerSec), `${ns(r.insertsPerSec)} / ${ns(r.cpu.insertsPerSec)} each; target >= 1M/s`],
    ['new flows/s, full table (evicting)', f(r.insertsPerSecFull), f(r.cpu.insertsPerSecFull), `${ns(r.insertsPerSecFull)} / ${ns(r.cpu.insertsPerSecFull)} each`],
  ];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((x) => x[i]!.length)));
  console.log(`conn table benchmark (node ${process.version})`);
  for (const [a, b, c, d] of rows) console.log(`  ${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c.padStart(w[2]!)}  ${d}`);
}
