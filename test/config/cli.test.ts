import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/config.ts';

const SEED = fileURLToPath(new URL('../fixtures/config/ldirectord.cf', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dsrlb-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dsrlb config check', () => {
  it('prints the services of a valid file, exit 0', async () => {
    const r = await cli('check', SEED);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('TCP  192.168.0.10:443 rr\n  -> 192.168.0.7:443              Route   1      0          0');
  });

  it('prints the model with --json', async () => {
    const r = await cli('check', '--json', SEED);
    expect(r.code).toBe(0);
    const model = JSON.parse(r.out);
    expect(model.virtuals).toHaveLength(2);
    expect(model.virtuals[0].reals[0]).toMatchObject({ line: 10, method: 'gate', weight: 1, port: 80 });
    expect(model.globals.logfile).toEqual({ raw: 'local0', kind: 'syslog' });
  });

  it('prints each error as file:line: code: message, exit 1', async () => {
    const p = file('bad.cf', 'checktimeout=x\nvirtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\tpotato=1\n');
    const r = await cli('check', p);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toEqual([
      `${p}:1: E_CONFIG_BAD_VALUE: checktimeout must be a whole number, got "x"`,
      `${p}:4: E_CONFIG_UNKNOWN_DIRECTIVE: unknown directive "potato"`,
      `${p}: 2 errors`,
    ]);
  });

  it('warnings go to stderr and do not fail the check', async () => {
    const p = file('warn.cf', 'virtual=10.0.0.1:80\n\treal=10.0.0.2 masq\n');
    const r = await cli('check', p);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: warning: W_CONFIG_UNSUPPORTED: `));
    expect(r.out).toContain('Masq');
  });

  it('a missing file is a clear error, exit 1', async () => {
    const p = join(dir, 'nope.cf');
    const r = await cli('check', p);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${p}:0: E_CONFIG_NOT_FOUND: no such file`);
  });

  it('a directory is a read error, exit 1', async () => {
    const r = await cli('check', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('E_CONFIG_READ');
  });

  it('usage errors exit 2; --help exits 0', async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli('lint', SEED)).code).toBe(2);
    expect((await cli('check')).code).toBe(2);
    expect((await cli('check', SEED, SEED)).code).toBe(2);
    expect((await cli('check', '--yaml', SEED)).code).toBe(2);
    const h = await cli('check', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('Usage: dsrlb config check');
  });
});
