/**
 * Executes a step list (topology.ts) in order, one progress line per step; on the first failure it
 * runs the undo of every step already done, in reverse, and throws a StepFailure. The side effects
 * go through an Executor, so the ordering and roll-back logic can be tested with a fake one.
 */

import { DsrlbError } from '../errors/index.ts';
import { DEFAULT_EXEC_TIMEOUT_MS, nsExec, rootExec, type ExecResult } from './ns.ts';
import type { Step, Undo } from './topology.ts';

export interface Executor {
  /** Run a command to completion (ns null: root namespace, only `ip netns add|del`). */
  exec(ns: string | null, argv: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** Start the long-lived process of a 'daemon' step; resolves with its PID once it is ready. */
  startDaemon(step: Step): Promise<number>;
  /** Stop what startDaemon started for that host. */
  stopDaemon(ns: string, host: string): Promise<void>;
}

export interface RunOptions {
  executor: Executor;
  onProgress?: (line: string) => void;
  stepTimeoutMs?: number;
}

export interface RunReport {
  done: number;
  elapsedMs: number;
}

/** A step failed; everything done before it has been undone (undoErrors lists undo steps that failed). */
export class StepFailure extends DsrlbError {
  readonly step: Step;
  readonly index: number;
  readonly undone: number;
  readonly undoErrors: readonly string[];
  constructor(step: Step, index: number, reason: string, undone: number, undoErrors: readonly string[]) {
    super('E_TESTBED_STEP', `step ${index + 1} (${step.id}) failed: ${step.description}: ${reason}`);
    this.name = 'StepFailure';
    this.step = step;
    this.index = index;
    this.undone = undone;
    this.undoErrors = undoErrors;
  }
}

/** The default executor: commands through ns.ts (execFile, no shell); daemons through the given hooks. */
export function commandExecutor(daemons: Pick<Executor, 'startDaemon' | 'stopDaemon'>): Executor {
  return {
    exec: (ns, argv, timeoutMs) => (ns === null ? rootExec(argv, { timeoutMs }) : nsExec(ns, argv, { timeoutMs })),
    startDaemon: (s) => daemons.startDaemon(s),
    stopDaemon: (ns, host) => daemons.stopDaemon(ns, host),
  };
}

function why(r: ExecResult): string {
  if (r.timedOut) return 'timed out';
  const msg = r.stderr.trim().split('\n').slice(-3).join(' / ');
  return `${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}${msg ? `: ${msg}` : ''}`;
}

const pad = (i: number, n: number): string => `[${String(i + 1).padStart(String(n).length)}/${n}]`;

/** Runs the undo actions in the order given (already reversed); never throws, returns the failures. */
export async function runUndos(
  undos: readonly Exclude<Undo, null>[],
  o: RunOptions,
): Promise<string[]> {
  const errors: string[] = [];
  const timeout = o.stepTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  for (const u of undos) {
    const label = u.kind === 'exec' ? `[${u.ns ?? 'root'}] ${u.argv.join(' ')}` : `[${u.ns}] stop web server of ${u.host}`;
    try {
      if (u.kind === 'exec') {
        const r = await o.executor.exec(u.ns, u.argv, timeout);
        if (r.code !== 0) throw new Error(why(r));
      } else {
        await o.executor.stopDaemon(u.ns, u.host);
      }
      o.onProgress?.(`undo ok   ${label}`);
    } catch (e) {
      const m = `${label}: ${e instanceof Error ? e.message : String(e)}`;
      errors.push(m);
      o.onProgress?.(`undo FAIL ${m}`);
    }
  }
  return errors;
}

/**
 * Runs `steps` in order. Consecutive daemon steps start concurrently (each web server needs a
 * second or so to compile and listen). On failure: undo what was done, in reverse, then throw.
 */
export async function runSteps(steps: readonly Step[], o: RunOptions): Promise<RunReport> {
  const t0 = Date.now();
  const timeout = o.stepTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const done: Step[] = [];
  const n = steps.length;
  let i = 0;

  const fail = async (idx: number, reason: string): Promise<never> => {
    const s = steps[idx]!;
    o.onProgress?.(`${pad(idx, n)} FAIL [${s.ns ?? 'root'}] ${s.description}: ${reason}`);
    o.onProgress?.(`rolling back ${done.length} step(s)`);
    const undos: Exclude<Undo, null>[] = [];
    for (let k = done.length - 1; k >= 0; k--) {
      const u = done[k]!.undo;
      if (u) undos.push(u);
    }
    const errors = await runUndos(undos, o);
    throw new StepFailure(s, idx, reason, undos.length, errors);
  };

  while (i < n) {
    const s = steps[i]!;
    if (s.kind === 'daemon') {
      let j = i;
      while (j < n && steps[j]!.kind === 'daemon') j++;
      const group = steps.slice(i, j);
      const t1 = Date.now();
      const results = await Promise.allSettled(group.map((g) => o.executor.startDaemon(g)));
      let firstFail = -1;
      let reason = '';
      results.forEach((r, k) => {
        const g = group[k]!;
        if (r.status === 'fulfilled') {
          done.push(g);
          o.onProgress?.(`${pad(i + k, n)} ok   [${g.ns}] ${g.description}: pid ${r.value} (${Date.now() - t1} ms)`);
        } else if (firstFail < 0) {
          firstFail = i + k;
          reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
        }
      });
      if (firstFail >= 0) await fail(firstFail, reason);
      i = j;
      continue;
    }
    const t1 = Date.now();
    let r: ExecResult;
    try {
      r = await o.executor.exec(s.ns, s.argv, timeout);
    } catch (e) {
      await fail(i, e instanceof Error ? e.message : String(e));
      return { done: done.length, elapsedMs: Date.now() - t0 }; // unreachable: fail throws
    }
    if (r.code !== 0) await fail(i, why(r));
    done.push(s);
    o.onProgress?.(`${pad(i, n)} ok   [${s.ns ?? 'root'}] ${s.description} (${Date.now() - t1} ms)`);
    i++;
  }
  return { done: done.length, elapsedMs: Date.now() - t0 };
}
