/**
 * Docs that cannot drift: the directive tables (docs/configuration.md, docs/config-ldirectord.md,
 * docs/ha-config.md) and README.md's command table are what `npm run docs` writes from the code's
 * registries; docs/errors.md lists exactly the codes used under src/. When this fails after a
 * change (or a merge), run `npm run docs` and commit, or edit docs/errors.md by hand.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyBlocks, DOC_FILES, errorCodeDrift, generatedBlocks, registryDrift, ROOT, staleDocs } from '../../src/cli/docs-gen.ts';
import { COMMAND_DOCS } from '../../src/cli/command-docs.ts';
import { COMMANDS } from '../../src/cli/main.ts';
import { DIRECTIVES, HA_KNOWN_DIRECTIVES } from '../../src/config/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dsrs-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('generated docs', () => {
  it('every directive of the parsers has its documentation entry, and no entry is left over', () => {
    expect(registryDrift()).toEqual([]);
  });

  it('the committed docs are what `npm run docs` writes (run it and commit when this fails)', () => {
    expect([...staleDocs().keys()]).toEqual([]);
  });

  it('the tables name every directive and command of the code', () => {
    const cfg = readFileSync(join(ROOT, 'docs/config-ldirectord.md'), 'utf8');
    for (const n of Object.keys(DIRECTIVES)) expect(cfg, n).toMatch(new RegExp(`\`${n}[=\`]`));
    const ha = readFileSync(join(ROOT, 'docs/ha-config.md'), 'utf8');
    for (const n of HA_KNOWN_DIRECTIVES) expect(ha, n).toContain(`| \`${n}`);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // Every command has its row, from src/cli/command-docs.ts (how it is called, what it does).
    for (const n of Object.keys(COMMANDS)) {
      const d = COMMAND_DOCS[n]!;
      expect(d, n).toBeDefined();
      expect(readme).toContain(`| \`${d.synopsis.replace(/\|/g, '\\|')}\` | ${d.details.replace(/\|/g, '\\|')} |`);
    }
    expect(Object.keys(COMMAND_DOCS).sort()).toEqual(Object.keys(COMMANDS).sort());
    // The lie the issue names is gone: autoreload and logfile act in `dsrlb run`.
    expect(cfg).not.toMatch(/^\| `(autoreload|logfile)=[^\n]*no effect/m);
  });

  it('a hand edit inside a generated block, or a missing marker, is caught', () => {
    for (const f of Object.keys(DOC_FILES)) cpSync(join(ROOT, f), join(tmp, f), { recursive: true });
    const f = join(tmp, 'docs/ha-config.md');
    writeFileSync(f, readFileSync(f, 'utf8').replace('| `keepalive T` | 1 s |', '| `keepalive T` | 2 s |'));
    expect([...staleDocs(tmp).keys()]).toEqual(['docs/ha-config.md']);
    expect(() => applyBlocks('README.md', '# no markers\n', generatedBlocks())).toThrow(/no block "commands"/);
  });
});

describe('docs/errors.md (checked, not generated: the prose is written by hand)', () => {
  it('has a row for every code used under src/, and no row for a code nothing uses', () => {
    const { missing, unused } = errorCodeDrift();
    expect(missing, 'add these rows to docs/errors.md').toEqual([]);
    expect(unused, 'these rows name codes that are no longer used').toEqual([]);
  });
});
