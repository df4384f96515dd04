#!/usr/bin/env node
// Entry point for `npx dsrlb` / the package bin: TypeScript runs through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
