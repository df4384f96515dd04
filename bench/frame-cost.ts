/**
 * Where each microsecond per forwarded frame goes, for each userspace path (cref and the dsrlb
 * paths this dsrlb can run), on the benchmark's testbed (root):
 *
 *   node --import tsx bench/frame-cost.ts [--paths cref,dsrlb,dsrlb_pcap,dsrlb_w2] [--count 300000]
 *        [--poll-sweep 0,50,100,200,400] [--latency 500] [--prefix dsrcf] [--json FILE]
 *
 * For each path: a UDP flood of COUNT 60-byte frames (trafgen, 64 flows) with `perf stat` counting
 * the workers' system calls by kind and their context switches, and /proc giving their user and
 * system CPU and voluntary context switches (wake-ups); then a second flood under `perf record -g`
 * whose samples are put in categories by the kernel functions on their call chains (bench/lib/perf.ts):
 * user space, TX in the kernel, wake-ups (poll/epoll), RX, other softirq, scheduler, other. Each
 * category's µs per frame = its share of the samples × the CPU per frame of the first flood. The
 * verdict's own cost is measured in-process (bench/dataplane.ts, 10,000 flows, 1M-entry table).
 *
 * --poll-sweep: for each N, sequential TCP connections through cref --busy-poll-us N (and
 * dsrlb_poll with N when this dsrlb has --busy-poll-us): connect p50/p99 and the worker's CPU share.
 *
 * Traffic only inside the testbed's namespaces; every process started is ended by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENT_ADDR, hostMac, hostNamespace, REALS, testbedDown, testbedUp, VIP } from '../src/testbed/index.ts';
import { benchDataplane } from './dataplane.ts';
import { costFigures } from './lib/breakdown.ts';
import { crefUnavailable } from './lib/cref.ts';
import { killLiveChildren } from './lib/exec.ts';
import { udpFrames } from './lib/frames.ts';
import { runLatency } from './lib/load.ts';
import { onPath } from './lib/machine.ts';
import { costPoint } from './lib/measure.ts';
import { nftApply, nftDeleteTable, REAL_COUNTER_TABLE, realCountersRuleset } from './lib/nft.ts';
import { BENCH_REALS, dsrlbPathUnsupported, dsrlbRunHelp, STARTERS, TCP_PORT, UDP_PORT, type ActivePath, type PathEnv } from './lib/paths.ts';
import { CATEGORIES, CATEGORY_LABELS, categoryShares, parsePerfScript, parsePerfStat, type Category } from './lib/perf.ts';
import { loadAverage, ticksPerSecond } from './lib/procfs.ts';
import type { PathName } from './lib/results.ts';
import { percentile } from './lib/stats.ts';
import { runTrafgen, trafgenConfig } from './lib/trafgen.ts';

const SYSCALLS = ['poll', 'ppoll', 'epoll_wait', 'epoll_pwait', 'sendto', 'sendmsg', 'sendmmsg', 'recvfrom', 'recvmsg', 'read', 'write', 'getsockopt'];

interface PathCost {
  path: PathName;
  forwarded: number;
  cpu_us_per_pkt?: number;
  cpu_user_us_per_pkt?: number;
  cpu_sys_us_per_pkt?: number;
  wakeups_per_kpkt?: number;
  frames_per_wakeup?: number;
  syscalls_per_pkt?: number;
  syscalls_by_kind_per_kpkt?: Record<string, number>;
  context_switches_per_kpkt?: number;
  perf_samples?: number;
  us_per_pkt_by_category?: Record<Category, number>;
  error?: string;
}

const live: ChildProcess[] = [];

function startPerf(args: string[]): { stop: () => Promise<string> } {
  const p = spawn('perf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.push(p);
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  p.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  return {
    stop: async () => {
      p.kill('SIGINT');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      return out;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flood(prefix: string, count: number): Promise<void> {
  const frames = udpFrames({ dstMac: hostMac('www1'), srcMac: hostMac('client'), src: CLIENT_ADDR, dst: VIP, dport: UDP_PORT, sportBase: 20000, flows: 64 });
  await runTrafgen(hostNamespace(prefix, 'client'), trafgenConfig(frames), { count });
  await sleep(300);
}

async function measureCost(prefix: string, a: ActivePath, count: number, tmp: string): Promise<PathCost> {
  const d = a.director!;
  const out: PathCost = { path: a.name, forwarded: 0 };
  await flood(prefix, 6400); // ARP, flows, JIT
  const pids = d.workerPids.join(',');
  const events = ['raw_syscalls:sys_enter', 'context-switches', ...SYSCALLS.map((s) => `syscalls:sys_enter_${s}`)];
  const stat = startPerf(['stat', '-x,', '-e', events.join(','), '-p', pids]);
  await sleep(200);
  const p0 = await costPoint(d);
  await flood(prefix, count);
  const p1 = await costPoint(d);
  const counts = parsePerfStat(await stat.stop());
  const c = costFigures(p0, p1, ticksPerSecond());
  const fwd = p1.stats.forwarded - p0.stats.forwarded;
  out.forwarded = fwd;
  Object.assign(out, {
    cpu_us_per_pkt: c.cpu_us_per_pkt, cpu_user_us_per_pkt: c.cpu_user_us_per_pkt, cpu_sys_us_per_pkt: c.cpu_sys_us_per_pkt,
    wakeups_per_kpkt: c.wakeups_per_kpkt, frames_per_wakeup: c.frames_per_wakeup,
  });
  if (fwd > 0 && counts['raw_syscalls:sys_enter'] !== undefined) {
    out.syscalls_per_pkt = Math.round((counts['raw_syscalls:sys_enter']! / fwd) * 1000) / 1000;
    out.syscalls_by_kind_per_kpkt = Object.fromEntries(SYSCALLS.map((s) => [s, Math.round(((counts[`syscalls:sys_enter_${s}`] ?? 0) * 1000 / fwd) * 10) / 10]).filter(([, v]) => (v as number) > 0));
    if (counts['context-switches'] !== undefined) out.context_switches_per_kpkt = Math.round((counts['context-switches']! * 1000 / fwd) * 10) / 10;
  }
  // The second flood, sampled.
  const data = join(tmp, `${a.name}.perf.data`);
  const rec = startPerf(['record', '-q', '-g', '-F', '999', '-o', data, '-p', pids]);
  await sleep(300);
  await flood(prefix, count);
  await rec.stop();
  const script = spawnSync('perf', ['script', '-i', data, '-F', 'comm,pid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 512 << 20, timeout: 120_000 });
  const samples = parsePerfScript(script.stdout ?? '');
  out.perf_samples = samples.length;
  if (samples.length && out.cpu_us_per_pkt !== undefined) {
    const sh = categoryShares(samples);
    out.us_per_pkt_by_category = Object.fromEntries(CATEGORIES.map((k) => [k, Math.round(sh[k] * out.cpu_us_per_pkt! * 100) / 100])) as Record<Category, number>;
  }
  return out;
}

async function sweep(env: PathEnv, values: number[], latency: number, withDsrlb: boolean): Promise<Array<Record<string, number | string>>> {
  const rows: Array<Record<string, number | string>> = [];
  const client = hostNamespace(env.prefix, 'client');
  for (const n of values) {
    const variants: Array<[PathName, PathEnv]> = [['cref', { ...env, crefBusyPollUs: n }]];
    if (withDsrlb && n > 0) variants.push(['dsrlb_poll', { ...env, busyPollUs: n }]);
    if (withDsrlb && n === 0) variants.push(['dsrlb', env]);
    for (const [p, e] of variants) {
      const a = await STARTERS[p](e);
      try {
        await runLatency(client, a.tcpHost, TCP_PORT, 50);
        const c0 = await costPoint(a.director!);
        const lat = await runLatency(client, a.tcpHost, TCP_PORT, latency);
        const c1 = await costPoint(a.director!);
        const share = costFigures(c0, c1, ticksPerSecond()).cpu_share ?? NaN;
        rows.push({
          forwarder: p, busy_poll_us: n, connections: lat.connectUs.length, errors: lat.errors,
          connect_p50_us: Math.round(percentile(lat.connectUs, 50)), connect_p99_us: Math.round(percentile(lat.connectUs, 99)),
          worker_cpu_share: Math.round(share * 100) / 100,
        });
        env.say(`  ${p} busy-poll ${n} µs: ${JSON.stringify(rows.at(-1))}`);
      } finally {
        await a.stop();
      }
    }
  }
  return rows;
}

const f2 = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(2));

function markdown(costs: PathCost[], verdictUs: number, sweepRows: Array<Record<string, number | string>>): string {
  const L: string[] = [];
  const ok = costs.filter((c) => !c.error);
  L.push(`| figure | ${ok.map((c) => c.path).join(' | ')} |`, `|---|${ok.map(() => '---:').join('|')}|`);
  const row = (label: string, f: (c: PathCost) => string) => L.push(`| ${label} | ${ok.map(f).join(' | ')} |`);
  row('frames forwarded in the measured flood', (c) => String(c.forwarded));
  row('CPU per frame, µs (/proc utime+stime)', (c) => f2(c.cpu_us_per_pkt));
  row('  user, µs', (c) => f2(c.cpu_user_us_per_pkt));
  row('  system, µs', (c) => f2(c.cpu_sys_us_per_pkt));
  for (const k of CATEGORIES) row(`  ${k}: ${CATEGORY_LABELS[k]}, µs`, (c) => f2(c.us_per_pkt_by_category?.[k]));
  row('perf samples', (c) => String(c.perf_samples ?? '–'));
  row('system calls per frame', (c) => (c.syscalls_per_pkt ?? '–').toString());
  row('system calls per 1000 frames, by kind', (c) => Object.entries(c.syscalls_by_kind_per_kpkt ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '–');
  row('wake-ups per 1000 frames (voluntary switches)', (c) => f2(c.wakeups_per_kpkt));
  row('frames per wake-up', (c) => f2(c.frames_per_wakeup));
  row('context switches per 1000 frames (perf)', (c) => f2(c.context_switches_per_kpkt));
  L.push('', `Verdict alone (in-process, bench/dataplane.ts, 10,000 established flows, 1M-entry table): ${verdictUs.toFixed(3)} µs of CPU per frame.`);
  for (const c of costs.filter((x) => x.error)) L.push('', `${c.path}: ${c.error}`);
  if (sweepRows.length) {
    L.push('', '| forwarder | --busy-poll-us | connect p50, µs | connect p99, µs | worker CPU, share of a core | errors |', '|---|---:|---:|---:|---:|---:|');
    for (const r of sweepRows) L.push(`| ${r.forwarder} | ${r.busy_poll_us} | ${r.connect_p50_us} | ${r.connect_p99_us} | ${r.worker_cpu_share} | ${r.errors} |`);
  }
  return `${L.join('\n')}\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      paths: { type: 'string' }, count: { type: 'string' }, 'poll-sweep': { type: 'string' }, latency: { type: 'string' },
      prefix: { type: 'string' }, json: { type: 'string' },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('needs root (namespaces, perf)');
  if (!onPath('perf')) throw new Error('perf is not installed (Debian package linux-perf)');
  const prefix = values.prefix ?? `dsrcf${process.pid % 10000}`;
  const count = Number(values.count ?? 300_000);
  const latency = Number(values.latency ?? 500);
  const say = (s: string) => console.log(s);
  const env: PathEnv = { prefix, say };
  const help = dsrlbRunHelp();
  const wanted = (values.paths ?? 'cref,dsrlb,dsrlb_pcap,dsrlb_w2').split(',') as PathName[];
  const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-frame-cost-'));
  const costs: PathCost[] = [];
  let sweepRows: Array<Record<string, number | string>> = [];
  say(`frame cost: load average ${loadAverage().join(' ')}; testbed ${prefix}`);
  const stop = () => killLiveChildren();
  process.on('SIGINT', stop);
  try {
    await testbedUp({ prefix });
    for (const h of BENCH_REALS) {
      await nftDeleteTable(hostNamespace(prefix, h), REAL_COUNTER_TABLE);
      await nftApply(hostNamespace(prefix, h), realCountersRuleset({ iface: 'eth0', addrs: [REALS[h], VIP], udpPort: UDP_PORT, tcpPort: TCP_PORT }));
    }
    for (const p of wanted) {
      const why = p === 'cref' ? crefUnavailable() : dsrlbPathUnsupported(p, help);
      if (why) {
        costs.push({ path: p, forwarded: 0, error: `skipped: ${why}` });
        say(`${p}: skipped: ${why}`);
        continue;
      }
      say(`${p}: flood of ${count} frames under perf stat, then under perf record`);
      let a: ActivePath | null = null;
      try {
        a = await STARTERS[p](env);
        costs.push(await measureCost(prefix, a, count, tmp));
        say(`  ${JSON.stringify(costs.at(-1))}`);
      } catch (e) {
        costs.push({ path: p, forwarded: 0, error: `failed: ${(e as Error).message}` });
      } finally {
        if (a) await a.stop();
      }
    }
    if (values['poll-sweep']) {
      const ns = values['poll-sweep'].split(',').map(Number);
      sweepRows = await sweep(env, ns, latency, dsrlbPathUnsupported('dsrlb_poll', help) === null);
    }
  } finally {
    for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    killLiveChildren();
    await testbedDown({ prefix });
    rmSync(tmp, { recursive: true, force: true });
  }
  const dp = benchDataplane({ flows: 10_000, seconds: 0.5, capacity: 1 << 20 });
  // CPU time per verdict (the rate would count the time this process waited for a CPU).
  const verdictUs = dp.establishedCpuUsPerVerdict;
  const md = markdown(costs, verdictUs, sweepRows);
  console.log(`\n${md}`);
  say(`load average at the end: ${loadAverage().join(' ')}`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ costs, verdict_us: verdictUs, sweep: sweepRows, markdown: md, load_end: loadAverage() }, null, 2)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((c) => (process.exitCode = c), (e: Error) => {
    console.error(`frame-cost: ${e.message}`);
    process.exitCode = 1;
  });
}
