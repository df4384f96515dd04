/**
 * The layer rules of docs/design/module-map.md, checked on the source: imports point down only,
 * other folders are reached through their index.ts, the pure core does no I/O and reads no clock,
 * only src/io/cap.ts loads the libpcap binding, only src/io/ring.ts loads dsrlb's own addon, and only
 * src/cli/ may call process.exit.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

const CORE = ['errors', 'model', 'packet', 'sched', 'conn', 'config', 'arp', 'dataplane', 'ha', 'teach', 'vrrp', 'bgp'];
/** Which folders each folder may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  model: ['errors'],
  packet: ['errors', 'model'],
  sched: ['errors', 'model'],
  conn: ['errors', 'model'],
  config: ['errors', 'model'],
  arp: ['errors', 'model', 'packet'],
  dataplane: ['errors', 'model', 'packet', 'sched', 'conn', 'arp'],
  ha: ['errors', 'model', 'packet', 'config'],
  vrrp: ['errors', 'model', 'packet', 'config'],
  bgp: ['errors', 'model'],
  ports: ['errors', 'model'],
  obs: ['errors', 'model', 'dataplane', 'conn', 'sched'],
  teach: ['errors', 'model', 'packet', 'config', 'arp'],
  engine: [...CORE, 'ports', 'obs'],
  health: [...CORE, 'ports', 'obs'],
  io: [...CORE, 'ports', 'obs'],
  testbed: [...CORE, 'ports', 'io', 'obs'],
  doctor: [...CORE, 'ports', 'io', 'obs', 'teach', 'testbed'],
  cli: [...CORE, 'ports', 'io', 'obs', 'engine', 'health', 'testbed', 'teach', 'doctor'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mjs)$/.test(n) ? [p] : [];
  });
}

const files = walk(SRC).map((path) => sourceFile(relative(SRC, path), readFileSync(path, 'utf8')));

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2])!);
  return out;
}

/** Strips comments so that prose about Date.now() in a comment is not taken for code. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
}

interface SourceFile {
  path: string;
  rel: string;
  folder: string;
  text: string;
}

/** A source file as the checkers see it, for a path under src/ (real or planted). */
function sourceFile(rel: string, text: string): SourceFile {
  return { path: join(SRC, rel), rel, folder: rel.split('/')[0]!, text };
}

/** Imports that point up or sideways, or into another folder past its index.ts. */
function importViolations(fs: SourceFile[]): string[] {
  const bad: string[] = [];
  for (const f of fs) {
    for (const spec of importsOf(f.text)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(f.path), spec));
      const folder = target.split('/')[0]!;
      if (folder === f.folder) continue;
      if (!ALLOWED[f.folder]?.includes(folder)) bad.push(`${f.rel} imports ${target} (${folder} is not below ${f.folder})`);
      else if (target !== `${folder}/index.ts`) bad.push(`${f.rel} imports ${target}: go through ${folder}/index.ts`);
    }
  }
  return bad;
}

/** I/O imports, clocks, timers and randomness in the pure core. */
function coreViolations(fs: SourceFile[]): string[] {
  const bad: string[] = [];
  const io = /from\s+['"](node:)?(fs|net|dgram|child_process|worker_threads|http|https|tls|dns|os|timers|timers\/promises|fs\/promises)['"]/;
  const clock = /\b(Date\.now|new Date\(\)|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate|Math\.random)\b/;
  for (const f of fs.filter((x) => CORE.includes(x.folder))) {
    // config/load.ts is the one allowed file reader of the config layer, kept apart from the parser.
    if (f.rel === 'config/load.ts') continue;
    const c = code(f.text);
    if (io.test(c)) bad.push(`${f.rel}: I/O import`);
    if (clock.test(c)) bad.push(`${f.rel}: ${clock.exec(c)![0]}`);
  }
  return bad;
}

/** Files that load the libpcap binding other than src/io/cap.ts, or raw-socket outside io/ and health/. */
function bindingViolations(fs: SourceFile[]): string[] {
  const cap = fs.filter((f) => /(require|import)\(\s*['"]cap['"]\s*\)|from\s+['"]cap['"]/.test(f.text) && f.rel !== 'io/cap.ts').map((f) => `${f.rel}: cap`);
  const raw = fs.filter((f) => /['"]raw-socket['"]/.test(code(f.text)) && !f.rel.startsWith('io/') && !f.rel.startsWith('health/')).map((f) => `${f.rel}: raw-socket`);
  return [...cap, ...raw];
}

function exitViolations(fs: SourceFile[]): string[] {
  return fs.filter((f) => f.folder !== 'cli' && /process\.exit\(/.test(code(f.text))).map((f) => f.rel);
}

describe('layer rules', () => {
  it('every source folder is a known layer', () => {
    const unknown = [...new Set(files.map((f) => f.folder))].filter((f) => !(f in ALLOWED));
    expect(unknown).toEqual([]);
  });

  it('imports point down only, and other folders are reached through their index.ts', () => {
    expect(importViolations(files)).toEqual([]);
  });

  it('the pure core does no I/O, reads no clock and sets no timer', () => {
    expect(coreViolations(files)).toEqual([]);
  });

  it('only src/io/cap.ts loads the libpcap binding, only src/io/ (and health/) load raw-socket', () => {
    expect(bindingViolations(files)).toEqual([]);
  });

  it('only src/io/ring.ts loads the packet-ring addon (src/native/ring), lazily', () => {
    const users = files.filter((f) => /\.node['"]|native\/ring/.test(code(f.text))).map((f) => f.rel);
    // The other addon of the project's own, the sd_notify one (src/sdnotify), has its one loader too.
    expect(users).toEqual(['io/ring.ts', 'io/sd-notify.ts']);
    expect(files.filter((f) => /native\/ring|dsrlb_ring/.test(code(f.text))).map((f) => f.rel)).toEqual(['io/ring.ts']);
    expect(files.filter((f) => /sdnotify|sd_notify\.node/.test(code(f.text))).map((f) => f.rel)).toEqual(['io/sd-notify.ts']);
    const ring = files.find((f) => f.rel === 'io/ring.ts')!;
    // Loaded through createRequire inside loadRing(), never by a static import.
    expect(importsOf(ring.text).some((s) => s.endsWith('.node'))).toBe(false);
    expect(/createRequire\(import\.meta\.url\)\(/.test(ring.text)).toBe(true);
  });

  it('process.exit only in src/cli/', () => {
    expect(exitViolations(files)).toEqual([]);
  });

  it('the checker itself works: each rule reports a violation planted among the real files', () => {
    const with_ = (f: SourceFile) => [...files, f];
    expect(importViolations(with_(sourceFile('packet/planted.ts', "import { main } from '../cli/main.ts';\n")))).toEqual([
      'packet/planted.ts imports cli/main.ts (cli is not below packet)',
    ]);
    expect(importViolations(with_(sourceFile('dataplane/planted.ts', "import { x } from '../conn/table.ts';\n")))).toEqual([
      'dataplane/planted.ts imports conn/table.ts: go through conn/index.ts',
    ]);
    expect(coreViolations(with_(sourceFile('sched/planted.ts', "import { readFileSync } from 'node:fs';\nexport const t = () => Date.now();\n")))).toEqual([
      'sched/planted.ts: I/O import',
      'sched/planted.ts: Date.now',
    ]);
    // Prose in a comment is not code.
    expect(coreViolations(with_(sourceFile('sched/planted.ts', '// Date.now() is not read here\nexport const x = 1;\n')))).toEqual([]);
    expect(bindingViolations(with_(sourceFile('engine/planted.ts', "import cap from 'cap';\nimport raw from 'raw-socket';\n")))).toEqual([
      'engine/planted.ts: cap',
      'engine/planted.ts: raw-socket',
    ]);
    expect(exitViolations(with_(sourceFile('obs/planted.ts', 'export const die = () => process.exit(1);\n')))).toEqual(['obs/planted.ts']);
  });
});
