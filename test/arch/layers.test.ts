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

const CORE = ['errors', 'model', 'packet', 'sched', 'conn', 'config', 'arp', 'dataplane', 'ha', 'teach'];
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

const files = walk(SRC).map((path) => ({
  path,
  rel: relative(SRC, path),
  folder: relative(SRC, path).split('/')[0]!,
  text: readFileSync(path, 'utf8'),
}));

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

describe('layer rules', () => {
  it('every source folder is a known layer', () => {
    const unknown = [...new Set(files.map((f) => f.folder))].filter((f) => !(f in ALLOWED));
    expect(unknown).toEqual([]);
  });

  it('imports point down only, and other folders are reached through their index.ts', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(f.text)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(SRC, resolve(dirname(f.path), spec));
        const folder = target.split('/')[0]!;
        if (folder === f.folder) continue;
        if (!ALLOWED[f.folder]?.includes(folder)) bad.push(`${f.rel} imports ${target} (${folder} is not below ${f.folder})`);
        else if (target !== `${folder}/index.ts`) bad.push(`${f.rel} imports ${target}: go through ${folder}/index.ts`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the pure core does no I/O, reads no clock and sets no timer', () => {
    const bad: string[] = [];
    const io = /from\s+['"](node:)?(fs|net|dgram|child_process|worker_threads|http|https|tls|dns|os|timers|timers\/promises|fs\/promises)['"]/;
    const clock = /\b(Date\.now|new Date\(\)|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate|Math\.random)\b/;
    for (const f of files.filter((x) => CORE.includes(x.folder))) {
      // config/load.ts is the one allowed file reader of the config layer, kept apart from the parser.
      if (f.rel === 'config/load.ts') continue;
      const c = code(f.text);
      if (io.test(c)) bad.push(`${f.rel}: I/O import`);
      if (clock.test(c)) bad.push(`${f.rel}: ${clock.exec(c)![0]}`);
    }
    expect(bad).toEqual([]);
  });

  it('only src/io/cap.ts loads the libpcap binding, only src/io/ loads raw-socket', () => {
    const capUsers = files.filter((f) => /(require|import)\(\s*['"]cap['"]\s*\)|from\s+['"]cap['"]/.test(f.text)).map((f) => f.rel);
    expect(capUsers.every((r) => r === 'io/cap.ts')).toBe(true);
    const rawUsers = files.filter((f) => /['"]raw-socket['"]/.test(code(f.text))).map((f) => f.rel);
    expect(rawUsers.every((r) => r.startsWith('io/') || r.startsWith('health/'))).toBe(true);
  });

  it('only src/io/ring.ts loads the packet-ring addon (src/native/ring), lazily', () => {
    const users = files.filter((f) => /\.node['"]|native\/ring/.test(code(f.text))).map((f) => f.rel);
    expect(users).toEqual(['io/ring.ts']);
    const ring = files.find((f) => f.rel === 'io/ring.ts')!;
    // Loaded through createRequire inside loadRing(), never by a static import.
    expect(importsOf(ring.text).some((s) => s.endsWith('.node'))).toBe(false);
    expect(/createRequire\(import\.meta\.url\)\(/.test(ring.text)).toBe(true);
  });

  it('process.exit only in src/cli/', () => {
    const bad = files.filter((f) => f.folder !== 'cli' && /process\.exit\(/.test(code(f.text))).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('rejects a downward violation when one is planted (the checker itself works)', () => {
    const planted = "import { x } from '../cli/main.ts';";
    const spec = importsOf(planted)[0]!;
    const target = relative(SRC, resolve(join(SRC, 'packet'), spec));
    expect(ALLOWED.packet!.includes(target.split('/')[0]!)).toBe(false);
  });
});
