/**
 * The shared test helpers: the root gate (a root suite fails under CI when not root, is skipped
 * only off CI) and the bounded waits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inCi, rootGate } from './root.ts';
import { poll, waitFor } from './wait.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('root gate', () => {
  it('root runs; not root fails under CI and is skipped otherwise', () => {
    expect(rootGate(0, {})).toBe('run');
    expect(rootGate(0, { CI: 'true' })).toBe('run');
    expect(rootGate(1000, { CI: 'true' })).toBe('fail');
    expect(rootGate(65534, { CI: '1' })).toBe('fail');
    expect(rootGate(undefined, { CI: 'true' })).toBe('fail'); // no getuid (not POSIX): not root
    expect(rootGate(1000, {})).toBe('skip');
    expect(rootGate(1000, { CI: 'false' })).toBe('skip');
    expect(rootGate(1000, { CI: '' })).toBe('skip');
    expect([inCi({ CI: 'TRUE' }), inCi({ CI: '0' }), inCi({})]).toEqual([true, false, false]);
  });

  it('in a real vitest run: the "fail" gate reports failed tests, "skip" skipped ones, "run" runs them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsrz-gate-'));
    try {
      const out = join(dir, 'report.json');
      const r = spawnSync(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/helpers/fixtures/vitest.gate.config.ts', '--reporter=json', `--outputFile=${out}`],
        { cwd: REPO, encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status).toBe(1); // the two "fail" gates fail the run
      const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[] };
      const tests = report.testResults.flatMap((f) => f.assertionResults);
      expect(tests.map((t) => [t.fullName, t.status]).sort()).toEqual([
        ['suite fail runs as root', 'failed'],
        ['suite run inner', 'passed'],
        ['suite skip [skipped: needs root, not root, not CI] inner', 'skipped'],
        ['test fail', 'failed'],
        ['test skip [skipped: needs root, not root, not CI]', 'skipped'],
      ]);
      expect(tests.find((t) => t.fullName === 'suite fail runs as root')!.failureMessages[0]).toMatch(/"suite fail" needs root and CI is set, but this runs as uid \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('waits', () => {
  it('poll: the time it took when the condition comes true, -1 when the time is up', async () => {
    let n = 0;
    expect(await poll(() => ++n >= 3, { timeoutMs: 5000, intervalMs: 1 })).toBeGreaterThanOrEqual(0);
    expect(n).toBe(3);
    let calls = 0;
    expect(await poll(() => { calls++; return false; }, { timeoutMs: 30, intervalMs: 5 })).toBe(-1);
    expect(calls).toBeGreaterThan(1); // it did poll, and the last check came after the deadline
  });

  it('waitFor: returns the value that met the condition; throws naming what and the last value', async () => {
    let n = 0;
    expect(await waitFor(async () => ++n, (v) => v === 4, { timeoutMs: 5000, intervalMs: 1 })).toBe(4);
    await expect(waitFor(() => 7, (v) => v > 10, { timeoutMs: 20, intervalMs: 5 }, 'the counter')).rejects.toThrow(
      'timed out after 20 ms waiting for the counter; last value: 7',
    );
  });
});
