/**
 * `dsrlb --version`: the package's version and, when known, the git commit it was built from —
 * asked of git at run time in a checkout, else read from build-info.json, which `npm pack` writes
 * (the prepack script, src/cli/build-info.mjs) into the package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_INFO = fileURLToPath(new URL('./build-info.json', import.meta.url));

function gitCommit(): string | null {
  if (!existsSync(`${ROOT}.git`)) return null;
  try {
    const opts = { cwd: ROOT, encoding: 'utf8' as const, timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return head ? `${head}${dirty ? '-dirty' : ''}` : null;
  } catch {
    return null;
  }
}

function packedCommit(): string | null {
  try {
    const info = JSON.parse(readFileSync(BUILD_INFO, 'utf8')) as { commit?: string };
    return typeof info.commit === 'string' && info.commit ? info.commit : null;
  } catch {
    return null;
  }
}

export function versionLine(): string {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
  const commit = gitCommit() ?? packedCommit();
  return `dsrlb ${pkg.version}${commit ? ` (git ${commit})` : ' (git commit unknown)'}`;
}
