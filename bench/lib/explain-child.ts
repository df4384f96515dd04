/**
 * Runs one `dsrlb explain` in this process, its text output to the file given first, and prints,
 * last, a line "@@stats {json}" with the exit code, the wall time and the peak resident memory
 * (getrusage maxrss) — what test/teach/stream.test.ts and bench/explain-stream.ts measure.
 */
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';

const [outFile, ...argv] = process.argv.slice(2);
const out: string[] = [];
const t0 = process.hrtime.bigint();
const code = await main(argv, { out: (s) => out.push(s), err: (s) => process.stderr.write(s + '\n') });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
writeFileSync(outFile!, out.join('\n') + '\n');
process.stdout.write(`@@stats ${JSON.stringify({ code, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
