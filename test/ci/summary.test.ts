/**
 * `.ci/run`'s closing line (test/ci/summary.ts) from vitest JSON reports recorded with vitest 4.1.12
 * (`vitest run --reporter=json` on small files in a temporary directory, paths then rewritten to
 * /repo/test/rec/): a file whose beforeAll throws has status "failed" and its tests "skipped";
 * a file that fails to import has no tests at all. Both must be counted as failures and named.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarize, type VitestJsonReport } from './summary.ts';

const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const load = (n: string) => JSON.parse(readFileSync(`${FIX}vitest-${n}.json`, 'utf8')) as VitestJsonReport;

describe('.ci/run summary', () => {
  it('a beforeAll that throws: the file counts as failed and is named; its tests are not "skipped"', () => {
    const r = load('setup'); // passes.test.ts (1 passed, 1 it.skip) + setup-fails.test.ts (beforeAll throws, 2 tests)
    expect([r.numFailedTests, r.numPendingTests, r.success]).toEqual([0, 3, false]); // what vitest itself says
    const s = summarize(r, '/repo');
    expect(s.lines).toEqual([
      '1 passed, 1 failed, 1 skipped',
      'failed to set up: test/rec/setup-fails.test.ts (a hook failed, 2 test(s) not run)',
    ]);
    expect(s.exitCode).toBe(1);
  });

  it('a beforeAll failing in one describe of a file whose other tests pass', () => {
    const s = summarize(load('nested'), '/repo');
    expect(s.lines).toEqual(['1 passed, 1 failed', 'failed to set up: test/rec/nested.test.ts (a hook failed, 1 test(s) not run)']);
    expect(s.exitCode).toBe(1);
  });

  it('failed tests, a failed import and a failed set-up together', () => {
    const s = summarize(load('all'), '/repo');
    expect([s.passed, s.failed, s.skipped]).toEqual([2, 3, 1]);
    expect(s.setupFailures.map((x) => x.file)).toEqual(['test/rec/import-fails.test.ts', 'test/rec/setup-fails.test.ts']);
    expect(s.setupFailures[0]!.reason).toMatch(/^Cannot find module '\/nonexistent\/module\.ts'/);
    expect(s.exitCode).toBe(1);
  });

  it('a clean run: exit 0, skips reported as skips', () => {
    const s = summarize(load('pass'), '/repo');
    expect(s.lines).toEqual(['1 passed, 0 failed, 1 skipped']);
    expect(s.exitCode).toBe(0);
  });

  it('success: false with no failed test or file still fails; nothing passed fails', () => {
    expect(summarize({ numPassedTests: 5, numFailedTests: 0, success: false, testResults: [] }).lines).toEqual([
      '5 passed, 1 failed',
      'vitest reported success: false without a failed test (an unhandled error?)',
    ]);
    expect(summarize({ numPassedTests: 0, numFailedTests: 0, success: true, testResults: [] }).exitCode).toBe(1);
  });

  it('the script as .ci/run calls it: prints the lines, exit status 1', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/ci/summary.ts', `${FIX}vitest-setup.json`, '/repo'], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('1 passed, 1 failed, 1 skipped\nfailed to set up: test/rec/setup-fails.test.ts (a hook failed, 2 test(s) not run)\n');
    expect(readFileSync(`${REPO}.ci/run`, 'utf8')).toMatch(/^npm test -- .*--reporter=json/m);
    expect(readFileSync(`${REPO}.ci/run`, 'utf8')).toContain('node --import tsx test/ci/summary.ts "$report"');
  });
});
