#!/usr/bin/env node
// Entry point for `npx dsrlb` / the package bin: TypeScript runs through tsx's loader.
import { register } from 'tsx/esm/api';

// A reader that goes away (`dsrlb replay … | head -3`) closes our standard output: end quietly, as
// tcpdump does, instead of dying on an unhandled EPIPE. (Exit status 0: the output was cut, as asked.)
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
