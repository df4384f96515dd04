/**
 * The offline path at scale, for `dsrlb explain`: a synthetic DSR capture set taken at five points
 * (bench/lib/synthetic-dsr.ts), explained as a user runs it (one process, the CLI's code path).
 *
 *   npm run bench:explain             (or: npx tsx bench/explain-stream.ts [--flows N] [--whole N] [--keep])
 *
 * Prints the set's size, the wall time, capture records per second and the peak resident memory of
 * the streamed explain, and, in the same run, on a smaller set (--whole flows, default 4000), the
 * in-memory way (every record read first, every frame and flow kept) against the streamed one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticDsr } from './lib/synthetic-dsr.ts';

const CHILD = fileURLToPath(new URL('./lib/explain-child.ts', import.meta.url));

interface Measured { code: number; ms: number; maxRssMiB: number }

function child(args: string[], node: string[] = []): Measured {
  const r = spawnSync(process.execPath, [...node, '--import', 'tsx', CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@stats '));
  if (!line) throw new Error(`explain child failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(8)) as Measured;
}

function makeSet(dir: string, flows: number): { dir: string; records: number } {
  mkdirSync(dir);
  return { dir, records: writeSyntheticDsr({ dir, flows }) };
}

const { values } = parseArgs({ options: { flows: { type: 'string' }, whole: { type: 'string' }, keep: { type: 'boolean' } } });
const flows = Number(values.flows ?? 100_000);
const wholeFlows = Number(values.whole ?? 4000);
const dir = mkdtempSync(join(tmpdir(), 'dsrlb-explain-bench-'));
try {
  const big = makeSet(join(dir, 'big'), flows);
  const out = join(dir, 'out.txt');
  const s = child([out, 'explain', big.dir]);
  const capped = child([out, 'explain', big.dir], ['--max-old-space-size=64']);
  const rate = (m: Measured, n: number) => Math.round(n / (m.ms / 1000)).toLocaleString('en');
  console.log(`input: ${flows.toLocaleString('en')} flows, ${big.records.toLocaleString('en')} capture records at 5 points (${(11 * flows + 5 - 9 * Math.floor((flows + 499) / 1000)).toLocaleString('en')} distinct frames)`);
  console.log(`streamed explain: ${(s.ms / 1000).toFixed(1)} s, ${rate(s, big.records)} records/s (3 passes), peak RSS ${s.maxRssMiB.toFixed(0)} MiB, exit ${s.code}`);
  console.log(`  with node --max-old-space-size=64: ${(capped.ms / 1000).toFixed(1)} s, peak RSS ${capped.maxRssMiB.toFixed(0)} MiB`);
  if (wholeFlows > 0) {
    const small = makeSet(join(dir, 'small'), wholeFlows);
    const w = child([out, '--whole', small.dir]);
    const ss = child([out, 'explain', small.dir]);
    console.log(`same run, ${wholeFlows.toLocaleString('en')} flows (${small.records.toLocaleString('en')} records): in memory ${(w.ms / 1000).toFixed(1)} s, peak RSS ${w.maxRssMiB.toFixed(0)} MiB; ` +
      `streamed ${(ss.ms / 1000).toFixed(1)} s, peak RSS ${ss.maxRssMiB.toFixed(0)} MiB`);
  }
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
