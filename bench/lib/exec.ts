/**
 * Commands of the benchmark, run inside the testbed's namespaces only (spawnInNs checks the
 * namespace exists), each bounded by a timeout, and tracked by PID so that an interrupted run
 * (Ctrl-C, a failure) can end exactly the processes it started.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnInNs } from '../../src/testbed/index.ts';

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

const live = new Map<number, ChildProcess>();

/** PIDs of the commands still running (for the tests and the clean-up). */
export function liveChildren(): number[] {
  return [...live.keys()];
}

/** Ends every command still running (SIGKILL, by PID). */
export function killLiveChildren(): void {
  for (const [pid, c] of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    live.delete(pid);
  }
}

/** Runs argv in namespace `ns`; never throws for a failing command (see code/timedOut). */
export function runInNs(ns: string, argv: readonly string[], o: { timeoutMs: number; input?: string }): Promise<RunResult> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnInNs(ns, argv, { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      reject(e);
      return;
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const pid = child.pid;
    if (pid !== undefined) live.set(pid, child);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    if (o.input !== undefined) child.stdin!.end(o.input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${e.message}\n`, timedOut, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

/** runInNs that throws unless the command exits 0. */
export async function mustRunInNs(ns: string, argv: readonly string[], o: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await runInNs(ns, argv, { timeoutMs: o.timeoutMs ?? 10_000, input: o.input });
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    throw new Error(`${ns}: ${argv.join(' ')}: ${why}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}
