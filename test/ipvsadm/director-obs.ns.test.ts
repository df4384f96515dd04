/**
 * The director side of ipvsadm and metrics, end to end on the testbed (root, namespaces): `dsrlb run`
 * with
 * the reference ldirectord.cf, --logfile FILE and --metrics. Traffic from the client namespace; then
 * `dsrlb ipvsadm --stats/--rate` in www1, the metrics page from inside www1, and a runtime change
 * logged as one readable line.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/io/index.ts';
import { DSRLB_BIN, hostNamespace, nsExec, spawnInNs, testbedDown, testbedUp, VIP } from '../../src/testbed/index.ts';
import { curl } from '../e2e/lab.ts';
import { REPO } from './harness.ts';

const prefix = `dsrm${process.pid % 10000}`;
const www1 = hostNamespace(prefix, 'www1');
const client = hostNamespace(prefix, 'client');
const METRICS = '127.0.0.1:9109';

let work = '';
let director: ChildProcess | null = null;
let out = '';
let control = '';
let logFile = '';

async function directorArgv(): Promise<string[]> {
  return [process.execPath, DSRLB_BIN, 'run'];
}

function ipvsadmArgv(): string[] {
  return [process.execPath, DSRLB_BIN, 'ipvsadm'];
}

async function ipvsadmInWww1(args: string[]): Promise<string> {
  const r = await nsExec(www1, [...ipvsadmArgv(), ...args], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`dsrlb ipvsadm ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function until(what: string, cond: () => Promise<boolean>, limitMs: number, stepMs = 250): Promise<void> {
  const t0 = Date.now();
  while (!(await cond().catch(() => false))) {
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms\n${out}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

interface Snap { services: Array<{ spec: { port: number }; conns: number; reals: Array<{ weight: number; mac: string | null; local: boolean }> }> }

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsrlb-run-'));
  chmodSync(work, 0o755);
  logFile = join(work, 'director.log');
  await testbedUp({ prefix });
  director = spawnInNs(www1, [
    ...(await directorArgv()),
    '--config', join(REPO, 'docs/reference-setup/ldirectord.cf'), '--iface', 'eth0', '--garp', '0',
    '--logfile', logFile, '--metrics', METRICS,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  director.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  director.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const r = await nsExec(www1, ['stat', '-L', '-c', '%i', '/proc/self/ns/net']);
  control = `/run/dsrlb/net${r.stdout.trim()}-eth0.sock`;
  // Ready, the reals' MACs known and every real's first check passed.
  await until('director ready with every real up', async () => {
    const s = (await controlRequest(control, { op: 'snapshot' }, 2000)) as Snap;
    const reals = s.services.flatMap((v) => v.reals);
    return reals.length === 6 && reals.every((x) => x.weight === 1 && (x.mac !== null || x.local));
  }, 60_000);
}, 120_000);

afterAll(async () => {
  if (director && director.exitCode === null) {
    const exited = new Promise<void>((r) => director!.once('exit', () => r()));
    director.kill('SIGTERM');
    const t = setTimeout(() => director!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
  await testbedDown({ prefix });
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('dsrlb run (proposed): logs, rates, metrics', () => {
  it('logs to the --logfile file, JSON lines; stdout stays quiet', async () => {
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = lines.find((l) => l.msg === 'director ready')!;
    expect(ready).toMatchObject({ iface: 'eth0', log: `file ${logFile} (JSON lines)`, metrics: `http://127.0.0.1:9109/metrics` });
    expect(out).toBe('');
  });

  it('ipvsadm --stats counts 30 connections; --rate shows the kernel estimator\'s rates after a 2 s tick', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
    expect(answers.filter((a) => a === 'failed')).toEqual([]);
    const stats = await ipvsadmInWww1(['-L', '-n', '--stats']);
    expect(stats).toMatch(new RegExp(`^TCP  ${VIP.replaceAll('.', '\\.')}:80 +30 +\\d+ +0 +\\d+ +0$`, 'm'));
    // The estimator ticks every 2 s: wait (bounded) until a tick has rates for the VIP.
    const rateRe = new RegExp(`^TCP  ${VIP.replaceAll('.', '\\.')}:80 +(\\d+) +(\\d+) +0 +(\\d+) +0$`, 'm');
    let rate = '';
    await until('the estimator has rates for the VIP', async () => {
      rate = await ipvsadmInWww1(['-L', '-n', '--rate']);
      const r = rateRe.exec(rate);
      return r !== null && Number(r[2]) > 0;
    }, 10_000, 250);
    expect(rate.split('\n')[1]).toBe('Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS');
    const m = new RegExp(`^TCP  ${VIP.replaceAll('.', '\\.')}:80 +(\\d+) +(\\d+) +0 +(\\d+) +0$`, 'm').exec(rate);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0); // packets per second, averaged
    expect(Number(m![3])).toBeGreaterThan(0);
  }, 60_000);

  it('serves Prometheus metrics: table counters, health from the checks, drops, I/O', async () => {
    const r = await nsExec(www1, ['curl', '-s', '-m', '5', `http://${METRICS}/metrics`], { timeoutMs: 8000 });
    expect(r.code).toBe(0);
    const text = r.stdout;
    expect(text).toMatch(/^dsrlb_service_connections_total\{proto="tcp",vip="192\.168\.0\.10",port="80"\} (\d+)$/m);
    expect(Number(/^dsrlb_service_connections_total\{proto="tcp",vip="192\.168\.0\.10",port="80"\} (\d+)$/m.exec(text)![1])).toBeGreaterThanOrEqual(30);
    expect(text).toMatch(/^dsrlb_real_up\{proto="tcp",vip="192\.168\.0\.10",port="80",real="192\.168\.0\.9:80"\} 1$/m);
    expect(text).toMatch(/^dsrlb_real_check_duration_seconds\{proto="tcp",vip="192\.168\.0\.10",port="443",real="192\.168\.0\.8:443"\} [\d.e-]+$/m);
    expect(text).toMatch(/^dsrlb_real_weight\{proto="tcp",vip="192\.168\.0\.10",port="80",real="192\.168\.0\.7:80"\} 1$/m);
    expect(text).toMatch(/^dsrlb_dropped_frames_total\{reason="not-a-vip"\} \d+$/m);
    expect(text).toMatch(/^dsrlb_send_errors_total 0$/m);
    expect(text).toMatch(/^dsrlb_service_in_packet_rate\{proto="tcp",vip="192\.168\.0\.10",port="80"\} \d+$/m);
  });

  it('a runtime change through ipvsadm is one readable log line', async () => {
    await ipvsadmInWww1(['-e', '-t', `${VIP}:80`, '-r', '192.168.0.9:80', '-g', '-w', '3']);
    expect(await ipvsadmInWww1(['-L', '-n'])).toMatch(/^ {2}-> 192\.168\.0\.9:80 +Route +3 /m);
    await until('log line', async () => readFileSync(logFile, 'utf8').includes('runtime change: edit real 192.168.0.9:80 of TCP 192.168.0.10:80: weight 3, upper threshold 0, lower threshold 0'), 5000);
  });
});
