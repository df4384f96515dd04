/**
 * Start and stop the real servers' web servers (httpd.ts) inside their namespaces. PIDs are kept
 * in the state directory; a PID is only signalled after /proc/PID/cmdline shows it is still our
 * web server for that prefix and host (PIDs get reused).
 */

import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DsrlbError } from '../errors/index.ts';
import { spawnInNs } from './ns.ts';
import { logPath, readPid, removePid, writePid } from './state.ts';

/** The repository root (paths are resolved from here, never from the caller's cwd). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HTTPD_SCRIPT = fileURLToPath(new URL('./httpd.ts', import.meta.url));

/** [node, --import, <tsx loader URL>, httpd.ts]: absolute, so it works from any cwd. */
export function httpdCommand(): string[] {
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', loader, HTTPD_SCRIPT];
}

/** The argv of a live process, or null (gone, a zombie, or unreadable). */
export function processArgv(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw.length === 0) return null;
    return raw.split('\0').filter((s, i, a) => s.length > 0 || i < a.length - 1);
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function optionValue(argv: readonly string[], opt: string): string | undefined {
  const i = argv.indexOf(opt);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** True when `pid` is our web server for this prefix (and host, when given). */
export function isOurHttpd(pid: number, prefix: string, host?: string): boolean {
  const argv = processArgv(pid);
  if (!argv || !argv.includes(HTTPD_SCRIPT)) return false;
  if (optionValue(argv, '--tag') !== prefix) return false;
  return host === undefined || optionValue(argv, '--name') === host;
}

/** Every live web server of this prefix, found by scanning /proc (safety net when PID files are lost). */
export function findOurHttpds(prefix: string): { pid: number; host: string }[] {
  const out: { pid: number; host: string }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const pid = Number(n);
    if (pid === process.pid || !isAlive(pid) || !isOurHttpd(pid, prefix)) continue;
    out.push({ pid, host: optionValue(processArgv(pid) ?? [], '--name') ?? '?' });
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-6).join('\n').trim();
  } catch {
    return '';
  }
}

export interface StartDaemonOptions {
  ns: string;
  host: string;
  prefix: string;
  argv: readonly string[];
  stateDir: string;
  /** Bound on the wait for the `ready` line (tsx compiles on first start). */
  timeoutMs?: number;
}

/**
 * Starts a web server (detached, output to <state>/<host>.log), waits for its `ready` line and writes
 * its PID file. Already running (our PID, alive) -> returns that PID.
 */
export async function startDaemon(o: StartDaemonOptions): Promise<number> {
  const existing = readPid(o.stateDir, o.host);
  if (existing !== null && isAlive(existing) && isOurHttpd(existing, o.prefix, o.host)) return existing;
  removePid(o.stateDir, o.host);

  const log = logPath(o.stateDir, o.host);
  const fd = openSync(log, 'a');
  let child;
  try {
    child = spawnInNs(o.ns, o.argv, { detached: true, stdio: ['ignore', fd, fd], cwd: REPO_ROOT });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  let exited: string | null = null;
  child.on('error', (e) => (exited = e.message));
  child.on('exit', (code, sig) => (exited = `exited (${sig ?? code})`));
  if (pid === undefined) throw new DsrlbError('E_TESTBED_DAEMON', `${o.host}: web server did not start`);
  child.unref();

  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  const readyLine = `ready pid=${pid} `;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      /* not yet */
    }
    if (text.includes(readyLine)) break;
    if (exited !== null) {
      throw new DsrlbError('E_TESTBED_DAEMON', `${o.host}: web server ${exited}: ${logTail(log)}`);
    }
    if (Date.now() > deadline) {
      await killPid(pid);
      throw new DsrlbError('E_TESTBED_DAEMON', `${o.host}: web server not ready after ${o.timeoutMs ?? 20_000} ms: ${logTail(log)}`);
    }
    await sleep(25);
  }
  writePid(o.stateDir, o.host, pid);
  return pid;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL (and wait again). Resolves true when it is gone. */
export async function killPid(pid: number, graceMs = 3000): Promise<boolean> {
  const waitGone = async (ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!isAlive(pid)) return true;
      await sleep(20);
    }
    return !isAlive(pid);
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return !isAlive(pid);
  }
  if (await waitGone(graceMs)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
  return waitGone(2000);
}

/**
 * Stops one host's web server: the PID from its PID file, only if it still is our server for that
 * prefix and host. Returns the PID it stopped (null when none was running).
 */
export async function stopDaemon(o: { stateDir: string; prefix: string; host: string }): Promise<number | null> {
  const pid = readPid(o.stateDir, o.host);
  let stopped: number | null = null;
  if (pid !== null && isAlive(pid) && isOurHttpd(pid, o.prefix, o.host)) {
    if (!(await killPid(pid))) throw new DsrlbError('E_TESTBED_DAEMON', `${o.host}: web server ${pid} did not stop`);
    stopped = pid;
  }
  removePid(o.stateDir, o.host);
  return stopped;
}
