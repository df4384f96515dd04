/**
 * The closing line of `.ci/run`, computed from vitest's JSON report (`--reporter=json`):
 * "N passed, N failed[, N skipped]", then one line per file that failed to set up.
 *
 * A file whose `beforeAll` throws (a testbed that does not come up) or that fails to import is
 * reported by vitest with status "failed" but without any failed test: its tests are marked
 * skipped. Such a file counts as one failure here (never as skips), and is named. (A hook that
 * fails in a file where a test also failed is not named separately: the JSON report does not tell
 * its skipped tests from it.skip ones; the file already counts as failed through its test.)
 *
 * Run: `node --import tsx test/ci/summary.ts REPORT.json [ROOT]` — prints the lines, exits 1 when
 * anything failed, nothing passed, or vitest said `success: false`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface AssertionResult {
  status: string;
  fullName?: string;
}
interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults?: AssertionResult[];
}
export interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests?: number;
  numTodoTests?: number;
  numFailedTestSuites?: number;
  success?: boolean;
  testResults?: FileResult[];
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** Files that failed without a failing test (setup or import), relative to the root. */
  setupFailures: { file: string; reason: string }[];
  lines: string[];
  exitCode: 0 | 1;
}

export function summarize(r: VitestJsonReport, root = ''): Summary {
  const files = r.testResults ?? [];
  const setupFailures: Summary['setupFailures'] = [];
  let skippedInBroken = 0;
  for (const f of files) {
    const tests = f.assertionResults ?? [];
    if (f.status !== 'failed' || tests.some((t) => t.status === 'failed')) continue;
    skippedInBroken += tests.filter((t) => t.status === 'skipped' || t.status === 'pending' || t.status === 'todo').length;
    const first = (f.message ?? '').split('\n')[0]!.trim();
    const reason = first !== '' ? first : tests.length === 0 ? 'no test ran' : `a hook failed, ${tests.filter((t) => t.status !== 'passed').length} test(s) not run`;
    setupFailures.push({ file: root ? relative(root, f.name) : f.name, reason });
  }
  let failed = r.numFailedTests + setupFailures.length;
  // vitest said the run failed but nothing above accounts for it (an unhandled error, say): count it.
  const unexplained = r.success === false && failed === 0;
  if (unexplained) failed = 1;
  const skipped = Math.max(0, (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0) - skippedInBroken);
  const passed = r.numPassedTests;
  const lines = [`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '')];
  for (const s of setupFailures) lines.push(`failed to set up: ${s.file} (${s.reason})`);
  if (unexplained) lines.push('vitest reported success: false without a failed test (an unhandled error?)');
  return { passed, failed, skipped, setupFailures, lines, exitCode: failed > 0 || passed === 0 ? 1 : 0 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, root] = process.argv.slice(2);
  if (!file) {
    console.error('usage: summary.ts REPORT.json [ROOT]');
    process.exit(2);
  }
  const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as VitestJsonReport, root ?? process.cwd());
  for (const l of s.lines) console.log(l);
  process.exit(s.exitCode);
}
