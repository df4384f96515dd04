/**
 * Runs one `dsrlb explain` in this process, its text output to the file given first, and prints,
 * last, a line "@@stats {json}" with the exit code, the wall time and the peak resident memory
 * (getrusage maxrss) — what test/teach/stream.test.ts and bench/explain-stream.ts measure.
 * With --whole DIR instead of explain's arguments, it explains the old way for comparison: every
 * capture read into memory (loadCaptures) and explained with every frame and flow kept.
 */
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';
import { loadCaptures, testbedNames } from '../../src/cli/commands/explain.ts';
import { explainCaptures, renderText } from '../../src/teach/index.ts';

const [outFile, ...argv] = process.argv.slice(2);
const out: string[] = [];
const t0 = process.hrtime.bigint();
let code = 0;
if (argv[0] === '--whole') {
  const ex = explainCaptures(loadCaptures([argv[1]!]), { names: testbedNames() });
  out.push(renderText(ex));
  code = ex.findings.some((f) => f.severity === 'problem') ? 1 : 0;
} else code = await main(argv, { out: (s) => out.push(s), err: (s) => process.stderr.write(s + '\n') });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
writeFileSync(outFile!, out.join('\n') + '\n');
process.stdout.write(`@@stats ${JSON.stringify({ code, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
