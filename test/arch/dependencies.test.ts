/**
 * docs/design/dependencies.md lists exactly the dependencies of package.json, and every runtime
 * dependency is imported (or required) somewhere under src/ (code or binding.gyp).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const runtime = Object.keys(pkg.dependencies ?? {});
const dev = Object.keys(pkg.devDependencies ?? {});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mjs|gyp)$/.test(n) ? [p] : [];
  });
}
const code = walk(new URL('src', root).pathname)
  .map((p) => readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1'))
  .join('\n');

/**
 * `name` (or a subpath of it) as a module specifier: import … from, import(), require(), resolve(),
 * or a loader's default spec; in src/ code, or in a native addon's binding.gyp (node-addon-api's
 * headers are found with require('node-addon-api') there).
 */
function imported(name: string): boolean {
  const q = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(?:from\\s+|import\\(\\s*|require\\(\\s*|resolve\\(\\s*|spec\\s*=\\s*)['"]${q}(?:/[^'"]*)?['"]`).test(code);
}

describe('dependencies', () => {
  const doc = readFileSync(new URL('docs/design/dependencies.md', root), 'utf8');
  const section = doc.slice(doc.indexOf('## Dependencies'), doc.indexOf('\n## ', doc.indexOf('## Dependencies') + 1));
  const listed = [...section.matchAll(/^- `([^`]+)` \((runtime|dev)\) — \S/gm)].map((m) => ({ name: m[1]!, kind: m[2]! }));

  it('docs/design/dependencies.md has one line per dependency of package.json, runtime and dev as package.json says', () => {
    expect(listed.filter((d) => d.kind === 'runtime').map((d) => d.name).sort()).toEqual([...runtime].sort());
    expect(listed.filter((d) => d.kind === 'dev').map((d) => d.name).sort()).toEqual([...dev].sort());
  });

  it('every runtime dependency is imported somewhere under src/', () => {
    expect(runtime.filter((n) => !imported(n))).toEqual([]);
  });

  it('the import check itself tells used from unused (a package nothing imports is not found)', () => {
    expect(imported('prom-client')).toBe(true);
    expect(imported('pcap-parser')).toBe(false);
    expect(imported('left-pad')).toBe(false);
  });
});
