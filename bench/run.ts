/**
 * dsrlb against the kernel on the namespace testbed, side by side, in one command:
 *
 *   npm run bench [-- --quick] [-- --json FILE] [-- --rounds N] [-- --paths direct,nft,cref,dsrlb,…]
 *
 * Builds the testbed (prefix dsrb), runs the in-process micro-benchmarks, then R rounds in which
 * every path (direct, nft, ipvs where the kernel has it, cref, dsrlb and its variants: see
 * lib/paths.ts; a path whose dependency is missing is skipped with the reason) is started alone, measured
 * (connection rate, latency, UDP packet rate, director cost, correctness) and stopped, the order
 * rotating every round. Writes bench/results/<stamp>/{results.json, report.md, *.svg}, prints a
 * table, and removes everything it made (also on Ctrl-C or a failure).
 *
 *   --from DIR/results.json [--out DIR] [--image-prefix P]   re-render report and charts only
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { hostNamespace, REALS, REALS6, testbedDown, testbedUp, VIP, VIP6 } from '../src/testbed/index.ts';
import { renderCharts } from './lib/charts.ts';
import { killLiveChildren } from './lib/exec.ts';
import { describeMachine, onPath } from './lib/machine.ts';
import { measurePath } from './lib/measure.ts';
import {
  DIRECTOR_COUNTER_TABLE, directorCounterRuleset, NFT_FWD_TABLE, nftApply, nftDeleteTable, REAL_COUNTER_TABLE, realCountersRuleset,
} from './lib/nft.ts';
import { loadAverage } from './lib/procfs.ts';
import { crefUnavailable } from './lib/cref.ts';
import { BENCH_REALS, dsrlbPathUnsupported, dsrlbRunHelp, PathUnavailable, STARTERS, TCP_PORT, UDP_PORT, type ActivePath } from './lib/paths.ts';
import { consoleTable, renderReport } from './lib/report.ts';
import { validateResults } from './lib/results-check.ts';
import { aggregate, isIpv6Path, PATHS, SCHEMA, type MicroResults, type PathName, type PathSample, type Results, type RunParams } from './lib/results.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MICRO = join(HERE, 'micro.ts');

/**
 * dsrlb_poll's --busy-poll-us, chosen by measurement (bench/frame-cost.ts --poll-sweep 0,200,1000,5000,
 * docs/benchmarks.md "Choosing N"): on this 2-CPU machine the gap between two sequential
 * connections' frames is a few hundred µs to milliseconds, so 200 and 1000 µs spin and then sleep
 * anyway (worse than not polling: the spinning takes the CPU the client and the servers need);
 * 5000 µs keeps the worker awake across the gaps and lowered connect p50 (157 against 291 µs at
 * 0), for 0.42 of a core during the test.
 */
export const DEFAULT_BUSY_POLL_US = 5000;

export const PRESETS: Record<'default' | 'quick', Omit<RunParams, 'prefix' | 'paths'>> = {
  default: {
    mode: 'default', rounds: 6, ab_requests: 10_000, ab_concurrency: 50, latency_connections: 2000,
    flood_packets: 600_000, probe_seconds: 1, probes: 6, udp_flows: 64, frame_bytes: 60, loss_tolerance: 0.0001, busy_poll_us: DEFAULT_BUSY_POLL_US,
  },
  quick: {
    mode: 'quick', rounds: 2, ab_requests: 2000, ab_concurrency: 50, latency_connections: 1000,
    flood_packets: 200_000, probe_seconds: 0.5, probes: 4, udp_flows: 64, frame_bytes: 60, loss_tolerance: 0.0001, busy_poll_us: DEFAULT_BUSY_POLL_US,
  },
};

export interface BenchOptions {
  params: RunParams;
  micro: boolean;
  keep: boolean;
  outDir?: string;
  jsonFile?: string;
  command: string;
  say: (line: string) => void;
  /** For the interrupt handler: true once the run must stop. */
  aborted?: () => boolean;
}

function stampNow(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function runMicroChild(quick: boolean): Promise<MicroResults> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Promise((res, rej) => {
    execFile(process.execPath, ['--expose-gc', '--import', tsx, MICRO, '--json', ...(quick ? ['--quick'] : [])],
      { timeout: 180_000, killSignal: 'SIGKILL', maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (err) return rej(new Error(`micro benchmarks failed: ${String(stderr).trim().slice(-400) || err.message}`));
        try {
          res(JSON.parse(String(stdout).trim().split('\n').pop()!) as MicroResults);
        } catch (e) {
          rej(new Error(`micro benchmarks printed no JSON: ${(e as Error).message}`));
        }
      });
  });
}

/** Writes results.json, report.md and the charts into dir. */
export function writeOutputs(r: Results, dir: string, o: { imagePrefix?: string } = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  put('results.json', `${JSON.stringify(r, null, 2)}\n`);
  put('report.md', renderReport(r, { imagePrefix: o.imagePrefix }));
  for (const [name, svg] of Object.entries(renderCharts(r))) put(name, svg);
  return files;
}

/** The benchmark itself; returns the results and the directory written. Cleans up whatever happens. */
export async function runBench(o: BenchOptions): Promise<{ results: Results; dir: string }> {
  const P = o.params;
  const t0 = Date.now();
  const started = new Date();
  const stamp = stampNow(started);
  const dir = o.outDir ?? join(HERE, 'results', stamp);
  const aborted = o.aborted ?? (() => false);
  const say = (s: string) => o.say(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${s}`);

  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('the benchmark needs root (namespaces, nft, trafgen)');
  const missing = [['trafgen', 'netsniff-ng'], ['ab', 'apache2-utils'], ['nft', 'nftables'], ['ip', 'iproute2']].filter(([b]) => !onPath(b!));
  if (missing.length) throw new Error(`missing programs: ${missing.map(([b, p]) => `${b} (Debian package ${p})`).join(', ')}; "npm run setup" installs them`);

  const machine = describeMachine();
  machine.load_start = loadAverage();
  if ((machine.load_start[0] ?? 0) > machine.cpus) {
    say(`note: the machine is busy (load average ${machine.load_start.join(' ')} on ${machine.cpus} CPUs): expect noisy figures`);
  }
  const skipped: Partial<Record<PathName, string>> = {};
  for (const p of PATHS) if (!P.paths.includes(p)) skipped[p] = 'not selected (--paths)';
  if (P.paths.includes('ipvs') && !machine.ipvs.available) skipped.ipvs = machine.ipvs.reason;
  if (P.paths.includes('cref')) {
    const why = crefUnavailable();
    if (why) skipped.cref = why;
  }
  for (const p of ['dsrlb_pcap', 'dsrlb_poll', 'dsrlb_w2'] as const) {
    if (!P.paths.includes(p)) continue;
    const why = dsrlbPathUnsupported(p, dsrlbRunHelp());
    if (why) skipped[p] = why;
  }
  const run = P.paths.filter((p) => skipped[p] === undefined);
  say(`dsrlb benchmark, ${P.mode}: ${P.rounds} round(s) of ${run.join(', ')}`);
  for (const p of P.paths) if (skipped[p] !== undefined) say(`  ${p} skipped: ${skipped[p]}`);

  let micro: MicroResults | null = null;
  if (o.micro) {
    say('in-process micro-benchmarks (before any traffic)');
    micro = await runMicroChild(P.mode === 'quick');
    say(`  established ${Math.round(micro.dataplane.established_verdicts_per_s / 1e3)}k verdicts/s, new flows ${Math.round(micro.dataplane.new_flow_verdicts_per_s / 1e3)}k/s, conn table ${micro.conn.bytes_per_entry} B/entry`);
  }

  const samples: PathSample[] = [];
  const rounds: Results['rounds'] = [];
  let active: ActivePath | null = null;
  const env = { prefix: P.prefix, say, busyPollUs: P.busy_poll_us };
  try {
    // The IPv6 paths need the dual-stack testbed; the IPv4 ones run on it unchanged.
    const ipv6 = run.some(isIpv6Path);
    say(`testbed up (prefix ${P.prefix}${ipv6 ? ', dual-stack' : ''}): client, www1 (director), www2 + www3 (reals)`);
    await testbedUp({ prefix: P.prefix, ...(ipv6 ? { ipv6: true } : {}) });
    // Our own tables first removed (a testbed kept by --keep may still hold them), then made anew.
    await nftDeleteTable(hostNamespace(P.prefix, 'www1'), NFT_FWD_TABLE);
    await nftDeleteTable(hostNamespace(P.prefix, 'www1'), DIRECTOR_COUNTER_TABLE);
    for (const h of BENCH_REALS) {
      await nftDeleteTable(hostNamespace(P.prefix, h), REAL_COUNTER_TABLE);
      await nftApply(hostNamespace(P.prefix, h), realCountersRuleset({
        iface: 'eth0', addrs: [REALS[h], VIP], ...(ipv6 ? { addrs6: [REALS6[h], VIP6] } : {}), udpPort: UDP_PORT, tcpPort: TCP_PORT,
      }));
    }
    await nftApply(hostNamespace(P.prefix, 'www1'), directorCounterRuleset({ iface: 'eth0', vip: VIP, ...(ipv6 ? { vip6: VIP6 } : {}) }));

    for (let r = 1; r <= P.rounds && !aborted(); r++) {
      const order = run.map((_, i) => run[(i + r - 1) % run.length]!);
      const rd = { round: r, order, samples: [] as PathSample[], load1: loadAverage()[0] };
      rounds.push(rd);
      for (const p of order) {
        if (aborted()) break;
        if (skipped[p] !== undefined) continue;
        say(`round ${r}/${P.rounds}: ${p}`);
        let s: PathSample;
        try {
          active = await STARTERS[p](env);
          s = await measurePath(active, { prefix: P.prefix, params: P, say, aborted }, r);
        } catch (e) {
          if (e instanceof PathUnavailable) {
            // Found out on starting it: skipped with the reason, for this and the later rounds.
            skipped[p] = e.message;
            say(`  ${p} skipped: ${e.message}`);
            continue;
          }
          s = { path: p, round: r, ok: false, problems: [`could not run: ${(e as Error).message}`], values: {}, probes: [], seconds: 0 };
        } finally {
          const a = active;
          active = null;
          if (a) await a.stop();
        }
        say(`  ${p}: ${s.ok ? 'ok' : `FAILED: ${s.problems.join('; ')}`} (${s.seconds} s)`);
        rd.samples.push(s);
        samples.push(s);
      }
    }
  } finally {
    killLiveChildren();
    if (active) await (active as ActivePath).stop().catch((e: Error) => say(`stopping ${(active as ActivePath).name}: ${e.message}`));
    if (!o.keep) {
      say('testbed down');
      await testbedDown({ prefix: P.prefix });
    }
  }
  if (aborted()) throw new Error('interrupted');

  machine.load_end = loadAverage();
  const finished = new Date();
  const results: Results = {
    schema: SCHEMA,
    stamp,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.round((finished.getTime() - started.getTime()) / 1000),
    command: o.command,
    machine,
    params: P,
    rounds,
    ...aggregate(samples, skipped),
    micro,
  };
  const errs = validateResults(results);
  if (errs.length) throw new Error(`results.json would be malformed: ${errs.join('; ')}`);
  const files = writeOutputs(results, dir);
  if (o.jsonFile) {
    writeFileSync(o.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    files.push(resolve(o.jsonFile));
  }
  say(`wrote ${files.join(', ')}`);
  return { results, dir };
}

const HELP = `Usage: npm run bench -- [options]     (tsx bench/run.ts [options], as root)

  --quick              2 rounds, smaller counts (under 2 minutes)
  --rounds N           rounds (default 6; quick 2)
  --paths LIST         of direct,nft,ipvs,cref,dsrlb,dsrlb_pcap,dsrlb_poll,dsrlb_w2 and the IPv6 paths
                       direct6,nft6,dsrlb6 (TCP only; the testbed is then dual-stack) (default all; a path
                       whose dependency is missing is skipped with the reason: ipvs without ip_vs, cref
                       unbuilt, a dsrlb path whose option this dsrlb lacks, dsrlb6 while dsrlb run
                       refuses virtual6=)
  --busy-poll-us N     dsrlb_poll's --busy-poll-us (default ${DEFAULT_BUSY_POLL_US})
  --json FILE          also write results.json to FILE
  --out DIR            output directory (default bench/results/<stamp>)
  --prefix P           testbed prefix (default dsrb)
  --no-micro           skip the in-process micro-benchmarks
  --keep               leave the testbed up at the end
  --ab-requests N --latency N --flood N --probes N --probe-seconds S   override the counts
  --from FILE          re-render report.md and the charts from a results.json (no run)
  --image-prefix P     with --from: prefix of the chart links in report.md`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: 'boolean' }, rounds: { type: 'string' }, paths: { type: 'string' }, json: { type: 'string' },
      out: { type: 'string' }, prefix: { type: 'string' }, 'no-micro': { type: 'boolean' }, keep: { type: 'boolean' },
      'ab-requests': { type: 'string' }, latency: { type: 'string' }, flood: { type: 'string' }, probes: { type: 'string' },
      'probe-seconds': { type: 'string' }, 'busy-poll-us': { type: 'string' }, from: { type: 'string' }, 'image-prefix': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.from) {
    const r = JSON.parse(readFileSync(values.from, 'utf8')) as Results;
    const errs = validateResults(r);
    if (errs.length) throw new Error(`${values.from}: ${errs.join('; ')}`);
    const files = writeOutputs(r, values.out ?? dirname(values.from), { imagePrefix: values['image-prefix'] });
    console.log(`wrote ${files.join(', ')}`);
    return 0;
  }
  const base = PRESETS[values.quick ? 'quick' : 'default'];
  const int = (name: string, v: string | undefined, def: number, lo: number, hi: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`--${name} must be a number from ${lo} to ${hi}`);
    return n;
  };
  const paths = (values.paths ?? PATHS.join(',')).split(',').map((s) => s.trim()) as PathName[];
  for (const p of paths) if (!PATHS.includes(p)) throw new Error(`--paths: unknown path ${p} (${PATHS.join(', ')})`);
  const custom = ['rounds', 'ab-requests', 'latency', 'flood', 'probes', 'probe-seconds', 'busy-poll-us'].some((k) => (values as Record<string, unknown>)[k] !== undefined);
  const params: RunParams = {
    ...base,
    mode: custom ? 'custom' : base.mode,
    rounds: int('rounds', values.rounds, base.rounds, 1, 50),
    ab_requests: int('ab-requests', values['ab-requests'], base.ab_requests, 100, 200_000),
    latency_connections: int('latency', values.latency, base.latency_connections, 10, 100_000),
    flood_packets: int('flood', values.flood, base.flood_packets, 1000, 20_000_000),
    probes: int('probes', values.probes, base.probes, 0, 20),
    probe_seconds: int('probe-seconds', values['probe-seconds'], base.probe_seconds, 0.1, 10),
    busy_poll_us: int('busy-poll-us', values['busy-poll-us'], base.busy_poll_us, 1, 1_000_000),
    prefix: values.prefix ?? 'dsrb',
    paths,
  };
  let stop = false;
  const onSignal = (sig: string) => {
    if (stop) return;
    stop = true;
    console.log(`\n${sig}: stopping (killing the loads, stopping the director, removing the testbed)`);
    killLiveChildren();
    setTimeout(() => process.exit(130), 30_000).unref();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const argv = process.argv.slice(2).join(' ');
  const { results, dir } = await runBench({
    params,
    micro: !values['no-micro'],
    keep: Boolean(values.keep),
    outDir: values.out,
    jsonFile: values.json,
    command: `npm run bench${argv ? ` -- ${argv}` : ''}`,
    say: (s) => console.log(s),
    aborted: () => stop,
  });
  console.log('');
  console.log(consoleTable(results));
  console.log(`\nreport: ${join(dir, 'report.md')}`);
  return 0;
}

// `npm run bench -- --topology ecmp [requests] [concurrency]`: connection rate through 1..3 ECMP directors (bench/ecmp.ts).
const ecmp = process.argv[2] === '--topology' && process.argv[3] === 'ecmp';
if (ecmp) {
  import('./ecmp.ts').then((m) => m.runEcmpBench(process.argv.slice(4))).catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exitCode = 1;
  });
}
if (!ecmp && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(`bench: ${e.message}`);
      process.exitCode = e.message === 'interrupted' ? 130 : 1;
    },
  );
}
