/**
 * `npm run docs`: rewrites the generated blocks of docs/ and README.md from the code (docs-gen.ts)
 * and reports docs/errors.md's drift (codes to add by hand, rows whose code is gone). Exit 1 when
 * errors.md needs a hand edit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepalivedDirectiveTable } from '../config/index.ts';
import { errorCodeDrift, ROOT, staleDocs } from './docs-gen.ts';

const stale = staleDocs();
for (const [file, text] of stale) {
  writeFileSync(join(ROOT, file), text);
  console.log(`rewrote the generated blocks of ${file}`);
}
// docs/keepalived.md's directive table, from the keepalived parser's keyword tables.
const kaPath = join(ROOT, 'docs/keepalived.md');
const ka = readFileSync(kaPath, 'utf8');
const kaNew = ka.replace(/(<!-- BEGIN keepalived directives -->\n)[\s\S]*?(<!-- END keepalived directives -->)/, `$1${keepalivedDirectiveTable()}$2`);
if (kaNew !== ka) {
  writeFileSync(kaPath, kaNew);
  console.log('rewrote the directive table of docs/keepalived.md');
} else if (stale.size === 0) console.log('generated blocks: up to date');
const { missing, unused } = errorCodeDrift();
for (const c of missing) console.log(`docs/errors.md: add a row "| \`${c}\` | meaning | fix |" (the code is used under src/)`);
for (const c of unused) console.log(`docs/errors.md: the row of ${c} names a code nothing under src/ uses any more`);
if (missing.length || unused.length) process.exitCode = 1;
