/**
 * The C reference forwarder (bench/cref/cref.c, built by src/cli/setup.sh) seen from the benchmark:
 * its arguments and its output lines (pure), whether the binary is there and up to date, and a
 * running instance in a namespace (ready line awaited, statistics on SIGUSR1, SIGTERM to stop; the
 * process is ended by its PID).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnInNs } from '../../src/testbed/index.ts';

export const CREF_SOURCE = fileURLToPath(new URL('../cref/cref.c', import.meta.url));
export const CREF_BIN = fileURLToPath(new URL('../cref/cref', import.meta.url));
/** The command src/cli/setup.sh runs (kept here so the test and the docs name the same one). */
export const CREF_BUILD = ['gcc', '-O2', '-Wall', '-o', 'bench/cref/cref', 'bench/cref/cref.c'];

export interface CrefService {
  vip: string;
  port: number;
  proto: 'tcp' | 'udp';
}

export interface CrefOptions {
  iface: string;
  services: readonly CrefService[];
  realMacs: readonly string[];
  /** The director's MAC; read from the interface when absent. */
  mac?: string;
  qdiscBypass?: boolean;
  busyPollUs?: number;
  ringFrames?: number;
}

/** A cumulative histogram: [upper bound in seconds, count of observations <= it][]. */
export interface Histogram {
  count: number;
  sum: number;
  buckets: Array<[number, number]>;
}

/** One "cref-stats {json}" line. */
export interface CrefStats {
  event: string;
  seen: number;
  forwarded: number;
  ignored: number;
  ttl_expired: number;
  tx_full: number;
  send_errors: number;
  wakeups: number;
  batches: number;
  sends: number;
  busy_hits: number;
  max_batch: number;
  kernel_packets: number;
  kernel_drops: number;
  utime_us: number;
  stime_us: number;
  voluntary_switches: number;
  involuntary_switches: number;
  busy_poll_us: number;
  qdisc_bypass: boolean;
  residence: Histogram;
}

export function crefArgs(o: CrefOptions): string[] {
  if (o.services.length === 0) throw new Error('cref needs at least one service');
  if (o.realMacs.length === 0) throw new Error('cref needs at least one real');
  const a = ['--iface', o.iface];
  for (const s of o.services) a.push('--service', `${s.vip}:${s.port}/${s.proto}`);
  for (const m of o.realMacs) a.push('--real', m);
  if (o.mac) a.push('--mac', o.mac);
  if (o.qdiscBypass) a.push('--qdisc-bypass');
  if (o.busyPollUs) a.push('--busy-poll-us', String(o.busyPollUs));
  if (o.ringFrames) a.push('--ring-frames', String(o.ringFrames));
  return a;
}

const NUMERIC: ReadonlyArray<keyof CrefStats> = [
  'seen', 'forwarded', 'ignored', 'ttl_expired', 'tx_full', 'send_errors', 'wakeups', 'batches', 'sends', 'busy_hits',
  'max_batch', 'kernel_packets', 'kernel_drops', 'utime_us', 'stime_us',
];

/** Parses one "cref-stats {json}" line; null for any other line or a malformed one. */
export function parseCrefStats(line: string): CrefStats | null {
  const m = /^cref-stats (\{.*\})\s*$/.exec(line);
  if (!m) return null;
  try {
    const o = JSON.parse(m[1]!) as CrefStats;
    if (NUMERIC.some((k) => typeof o[k] !== 'number')) return null;
    if (!o.residence || !Array.isArray(o.residence.buckets)) return null;
    return o;
  } catch {
    return null;
  }
}

/** Every stats line in cref's output, in order. */
export function crefStatsLines(out: string): CrefStats[] {
  return out.split('\n').map(parseCrefStats).filter((x): x is CrefStats => x !== null);
}

/** Why cref cannot run here, or null: the binary must exist and be newer than its source. */
export function crefUnavailable(): string | null {
  if (!existsSync(CREF_BIN)) return `bench/cref/cref is not built (src/cli/setup.sh builds it with: ${CREF_BUILD.join(' ')})`;
  if (existsSync(CREF_SOURCE) && statSync(CREF_SOURCE).mtimeMs > statSync(CREF_BIN).mtimeMs) {
    return `bench/cref/cref is older than bench/cref/cref.c (run src/cli/setup.sh to rebuild it)`;
  }
  return null;
}

export interface RunningCref {
  readonly pid: number;
  /** Everything cref printed so far. */
  output(): string;
  /** Fresh counters (SIGUSR1, then the next stats line). */
  stats(timeoutMs?: number): Promise<CrefStats>;
  /** SIGTERM; resolves with the exit line's counters (SIGKILL after timeoutMs, then null). */
  stop(timeoutMs?: number): Promise<CrefStats | null>;
}

/** Starts cref in namespace `ns`, resolves once it says it is bound. */
export async function startCref(ns: string, o: CrefOptions, readyTimeoutMs = 5000): Promise<RunningCref> {
  const why = crefUnavailable();
  if (why) throw new Error(why);
  const child: ChildProcess = spawnInNs(ns, [CREF_BIN, ...crefArgs(o)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
    r();
  }));
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const t0 = Date.now();
    while (!pred()) {
      if (exited) throw new Error(`cref exited before ${what}: ${err.trim() || out.trim()}`);
      if (Date.now() - t0 > ms) throw new Error(`cref: no ${what} after ${ms} ms: ${err.trim()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  try {
    await until(() => out.includes('cref-ready '), readyTimeoutMs, 'ready line');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid!,
    output: () => out,
    async stats(timeoutMs = 3000) {
      const n = crefStatsLines(out).length;
      child.kill('SIGUSR1');
      await until(() => crefStatsLines(out).length > n, timeoutMs, 'stats line');
      return crefStatsLines(out).pop()!;
    },
    async stop(timeoutMs = 5000) {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exit;
        clearTimeout(t);
      }
      const last = crefStatsLines(out).pop();
      return last && last.event === 'exit' ? last : null;
    },
  };
}
