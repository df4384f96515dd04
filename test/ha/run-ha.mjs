#!/usr/bin/env node
// Runs `dsrlb ha` without going through src/cli/main.ts (for the tests, until main.ts lists the command).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../../src/cli/commands/ha.ts');
const { processIO } = await import('../../src/cli/io.ts');
try {
  process.exitCode = await run(process.argv.slice(2), processIO);
} catch (e) {
  process.stderr.write(`dsrlb ha: ${e.code ?? ''}: ${e.message}\n`);
  process.exitCode = 1;
}
