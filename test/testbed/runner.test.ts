import { describe, expect, it } from 'vitest';
import { runSteps, StepFailure, type Executor } from '../../src/testbed/runner.ts';
import type { Step } from '../../src/testbed/topology.ts';
import type { ExecResult } from '../../src/testbed/ns.ts';

const ok: ExecResult = { stdout: '', stderr: '', code: 0, signal: null, timedOut: false };

function step(id: string, undo = true, kind: Step['kind'] = 'exec'): Step {
  return {
    id,
    kind,
    ns: 'x-lan',
    argv: ['cmd', id],
    description: `do ${id}`,
    undo: kind === 'daemon' ? { kind: 'stop-daemon', ns: 'x-www1', host: 'www1' } : undo ? { kind: 'exec', ns: 'x-lan', argv: ['undo', id] } : null,
    host: 'www1',
  };
}

/** Records every call; fails the command whose argv[1] is in `failOn`. */
function fake(failOn: string[] = [], failUndo: string[] = []): Executor & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async exec(_ns, argv) {
      log.push(argv.join(' '));
      if (argv[0] === 'cmd' && failOn.includes(argv[1]!)) return { ...ok, code: 1, stderr: 'boom' };
      if (argv[0] === 'undo' && failUndo.includes(argv[1]!)) return { ...ok, code: 2, stderr: 'undo boom' };
      return ok;
    },
    async startDaemon(s) {
      log.push(`start ${s.id}`);
      if (failOn.includes(s.id)) throw new Error('no start');
      return 4242;
    },
    async stopDaemon(_ns, host) {
      log.push(`stop ${host}`);
    },
  };
}

describe('runner', () => {
  it('runs steps in order with one progress line each', async () => {
    const ex = fake();
    const lines: string[] = [];
    const r = await runSteps([step('a'), step('b'), step('c')], { executor: ex, onProgress: (l) => lines.push(l) });
    expect(r.done).toBe(3);
    expect(ex.log).toEqual(['cmd a', 'cmd b', 'cmd c']);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\[2\/3\] ok   \[x-lan\] do b \(\d+ ms\)$/);
  });

  it('on failure undoes what it did, in reverse, skipping steps without undo, then throws', async () => {
    const ex = fake(['d']);
    const lines: string[] = [];
    const err = await runSteps([step('a'), step('b', false), step('c'), step('d'), step('e')], {
      executor: ex,
      onProgress: (l) => lines.push(l),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailure);
    const f = err as StepFailure;
    expect(f.code).toBe('E_TESTBED_STEP');
    expect(f.step.id).toBe('d');
    expect(f.index).toBe(3);
    expect(f.undone).toBe(2);
    expect(f.undoErrors).toEqual([]);
    expect(f.message).toMatch(/exit 1: boom/);
    expect(ex.log).toEqual(['cmd a', 'cmd b', 'cmd c', 'cmd d', 'undo c', 'undo a']);
    expect(lines.some((l) => l.startsWith('[4/5] FAIL'))).toBe(true);
  });

  it('keeps undoing when an undo fails and reports it', async () => {
    const ex = fake(['c'], ['b']);
    const f = (await runSteps([step('a'), step('b'), step('c')], { executor: ex }).catch((e: unknown) => e)) as StepFailure;
    expect(ex.log).toEqual(['cmd a', 'cmd b', 'cmd c', 'undo b', 'undo a']);
    expect(f.undoErrors).toHaveLength(1);
    expect(f.undoErrors[0]).toMatch(/undo b.*undo boom/);
  });

  it('starts consecutive daemons together; when one fails the started ones are stopped too', async () => {
    const ex = fake(['d2']);
    const steps = [step('a'), step('d1', true, 'daemon'), step('d2', true, 'daemon'), step('d3', true, 'daemon')];
    const f = (await runSteps(steps, { executor: ex }).catch((e: unknown) => e)) as StepFailure;
    expect(f.step.id).toBe('d2');
    expect(ex.log.slice(0, 4)).toEqual(['cmd a', 'start d1', 'start d2', 'start d3']);
    // d1 and d3 started, so both are stopped, then a is undone.
    expect(ex.log.slice(4)).toEqual(['stop www1', 'stop www1', 'undo a']);
  });

  it('treats an executor that throws as a failed step', async () => {
    const ex = fake();
    ex.exec = async (_ns, argv) => {
      ex.log.push(argv.join(' '));
      if (argv[1] === 'b') throw new Error('no such namespace');
      return ok;
    };
    const f = (await runSteps([step('a'), step('b')], { executor: ex }).catch((e: unknown) => e)) as StepFailure;
    expect(f.message).toMatch(/no such namespace/);
    expect(ex.log).toEqual(['cmd a', 'cmd b', 'undo a']);
  });
});
