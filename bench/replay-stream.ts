/**
 * The offline path at scale: `dsrlb replay` on a synthetic capture far larger than memory needs to
 * be, measured as a user runs it (one process, the CLI's own code path).
 *
 *   npm run bench:replay                      (or: npx tsx bench/replay-stream.ts [--frames N] [--keep])
 *
 * Prints the input size, wall time, frames/s and the peak resident memory of the replay, against the
 * targets (10M frames replayed with resident memory < 300 MB at >= 1M frames/s), and, in the same
 * run, the old whole-file way (every record read into memory first) on 1M frames for comparison.
 * The capture is written to a temporary folder and removed afterwards (--keep leaves it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { syntheticConfig, writeSyntheticCapture } from './lib/synthetic-capture.ts';

export const REPLAY_TARGETS = { maxRssMiB: 300, framesPerSec: 1_000_000 } as const;

const CHILD = fileURLToPath(new URL('./lib/replay-child.ts', import.meta.url));
const VIP = '10.200.0.100';
const PORT = 80;
const SELF_MAC = '02:00:00:00:00:64';

interface Measured { code: number; ms: number; maxRssMiB: number }

function child(args: string[]): Measured {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@stats '));
  if (!line) throw new Error(`replay child failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(8)) as Measured;
}

export function benchReplayStream(o: { frames: number; flows: number; wholeFrames: number; dir: string }) {
  const { config, neigh } = syntheticConfig(VIP, PORT);
  const cf = join(o.dir, 'synthetic.cf');
  writeFileSync(cf, config);
  const input = join(o.dir, 'in.pcap');
  const t0 = Date.now();
  writeSyntheticCapture({ path: input, frames: o.frames, flows: o.flows, vip: VIP, port: PORT, selfMac: SELF_MAC });
  const genMs = Date.now() - t0;
  const bytes = statSync(input).size;
  // The table sized for the capture's flows (2x), as a user replaying it would with --conn-capacity.
  const cap = ['--conn-capacity', String(Math.max(1024, 2 * o.flows))];
  const stream = child(['replay', '--config', cf, '--in', input, '--out', join(o.dir, 'out.pcap'), '--self-mac', SELF_MAC, ...cap, ...neigh.flatMap((n) => ['--neigh', n])]);
  const outBytes = statSync(join(o.dir, 'out.pcap')).size;
  rmSync(join(o.dir, 'out.pcap'), { force: true });
  let whole: (Measured & { frames: number }) | null = null;
  if (o.wholeFrames > 0) {
    const small = join(o.dir, 'in-small.pcap');
    writeSyntheticCapture({ path: small, frames: o.wholeFrames, flows: o.flows, vip: VIP, port: PORT, selfMac: SELF_MAC });
    const s = child(['replay', '--config', cf, '--in', small, '--out', join(o.dir, 'out-s.pcap'), '--self-mac', SELF_MAC, ...neigh.flatMap((n) => ['--neigh', n])]);
    const w = child(['--whole', cf, small, join(o.dir, 'out-w.pcap'), SELF_MAC, ...neigh]);
    whole = { ...w, frames: o.wholeFrames };
    Object.assign(whole, { streamSame: s });
  }
  return { frames: o.frames, flows: o.flows, inputBytes: bytes, outputBytes: outBytes, generateMs: genMs, stream, whole };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({ options: { frames: { type: 'string' }, flows: { type: 'string' }, whole: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' } } });
  const frames = Number(values.frames ?? 10_000_000);
  const flows = Number(values.flows ?? 65_536);
  const wholeFrames = Number(values.whole ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'dsrlb-replay-bench-'));
  try {
    const r = benchReplayStream({ frames, flows, wholeFrames, dir });
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else {
      const fps = r.frames / (r.stream.ms / 1000);
      const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
      console.log(`input: ${r.frames.toLocaleString('en')} frames (${r.flows.toLocaleString('en')} flows), ${mb(r.inputBytes)} pcap; output ${mb(r.outputBytes)}`);
      console.log(`streaming replay: ${(r.stream.ms / 1000).toFixed(2)} s, ${Math.round(fps).toLocaleString('en')} frames/s, peak RSS ${r.stream.maxRssMiB.toFixed(0)} MiB, exit ${r.stream.code}`);
      console.log(`  target RSS < ${REPLAY_TARGETS.maxRssMiB} MiB: ${r.stream.maxRssMiB < REPLAY_TARGETS.maxRssMiB ? 'PASS' : 'FAIL'}; ` +
        `target >= ${REPLAY_TARGETS.framesPerSec.toLocaleString('en')} frames/s: ${fps >= REPLAY_TARGETS.framesPerSec ? 'PASS' : 'FAIL'}`);
      if (r.whole) {
        const s = (r.whole as unknown as { streamSame: Measured }).streamSame;
        console.log(`same run, ${r.whole.frames.toLocaleString('en')} frames: whole file in memory ${(r.whole.ms / 1000).toFixed(2)} s, peak RSS ${r.whole.maxRssMiB.toFixed(0)} MiB; ` +
          `streaming ${(s.ms / 1000).toFixed(2)} s, peak RSS ${s.maxRssMiB.toFixed(0)} MiB`);
      }
    }
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
