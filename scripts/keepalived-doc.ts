/** Rewrites the directive table of docs/keepalived.md from the code's keyword tables. */
import { readFileSync, writeFileSync } from 'node:fs';
import { keepalivedDirectiveTable } from '../src/config/index.ts';

const path = new URL('../docs/keepalived.md', import.meta.url);
const md = readFileSync(path, 'utf8');
const out = md.replace(/(<!-- BEGIN keepalived directives -->\n)[\s\S]*?(<!-- END keepalived directives -->)/, `$1${keepalivedDirectiveTable()}$2`);
writeFileSync(path, out);
