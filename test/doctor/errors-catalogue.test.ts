/**
 * docs/errors.md lists every error code the source uses: each `'E_…'` string under src/ must have
 * its row (`E_CODE` in backquotes) in the catalogue, with a meaning and a fix.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts|mjs|js)$/.test(n) ? [p] : [];
  });
}

/** Codes used in the source: quoted E_ strings (single, double or back quotes). */
export function codesInSource(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of walk(join(ROOT, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/['"`](E_[A-Z0-9_]+)['"`]/g)) if (!out.has(m[1]!)) out.set(m[1]!, f.slice(ROOT.length));
  }
  return out;
}

function codesInCatalogue(): Set<string> {
  const md = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  return new Set([...md.matchAll(/^\| `(E_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

describe('docs/errors.md', () => {
  const used = codesInSource();
  const documented = codesInCatalogue();

  it('documents every error code used in src/', () => {
    const missing = [...used].filter(([c]) => !documented.has(c)).map(([c, f]) => `${c} (used in ${f})`);
    expect(missing, 'add a row "| `E_CODE` | meaning | fix |" to docs/errors.md for each').toEqual([]);
  });

  it('has each code once, with a meaning and a fix', () => {
    const md = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const rows = [...md.matchAll(/^\| `(E_[A-Z0-9_]+)` \|(.*)$/gm)];
    const seen = new Set<string>();
    for (const [, code, rest] of rows) {
      expect(seen.has(code!), `${code} twice`).toBe(false);
      seen.add(code!);
      const cells = rest!.split(' | ').map((s) => s.replace(/\|\s*$/, '').trim());
      expect(cells.length, `${code}: meaning and fix`).toBeGreaterThanOrEqual(2);
      expect(cells.every((c) => c.length > 3), `${code}: empty cell`).toBe(true);
    }
  });
});
