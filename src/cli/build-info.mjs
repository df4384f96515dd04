#!/usr/bin/env node
// npm pack's prepack step: records the git commit the package is built from in
// src/cli/build-info.json, which `dsrlb --version` reads when it is not in a git checkout.
// `node src/cli/build-info.mjs --remove` (postpack) deletes it again.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('./build-info.json', import.meta.url));
if (process.argv[2] === '--remove') {
  rmSync(out, { force: true });
} else {
  let commit = null;
  try {
    const opts = { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] };
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], opts).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '') commit += '-dirty';
  } catch {
    // not a git checkout: the version alone
  }
  writeFileSync(out, `${JSON.stringify({ commit })}\n`);
}
