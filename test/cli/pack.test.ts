/**
 * The package: `npm pack` makes a tarball that `npm install -g --prefix DIR` installs into a clean
 * temporary prefix (building the native parts from source: cap, raw-socket, the sd_notify addon),
 * and the installed `dsrlb` works: --version names the commit (from the build-info.json that
 * prepack wrote, there being no git checkout there), `config check` reads the reference
 * ldirectord.cf, `replay` runs a capture shipped in the package, `service print` points the unit
 * at the installed copy. Dependencies come from the npm cache when they are there (--prefer-offline).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dsrs-pack-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', 'dsrlb');
const dsrlb = join(prefix, 'bin', 'dsrlb');
let tarball = '';

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(dsrlb, args, { encoding: 'utf8', timeout: 60_000, cwd: work, env: { ...cleanEnv(), PATH: `${prefix}/bin:${process.env.PATH}` } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The environment without what npx/npm put in it for the test runner (npm_config_*, npm_package_*). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

beforeAll(() => {
  execFileSync('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: REPO, stdio: 'pipe', timeout: 120_000, env: cleanEnv() });
  tarball = join(work, readdirSync(work).find((n) => /^dsrlb-.*\.tgz$/.test(n))!);
  const r = spawnSync('npm', ['install', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error',
    '--allow-scripts=dsrlb,cap,raw-socket,esbuild'], { cwd: work, encoding: 'utf8', timeout: 280_000, env: cleanEnv() });
  if (r.status !== 0) throw new Error(`npm install -g failed (${r.status}): ${r.stderr}${r.stdout}`);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack + npm install -g into a clean prefix', () => {
  it('packs what the program needs, and no build output or git-ignored file', () => {
    const list = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const f of ['package/src/cli/dsrlb.mjs', 'package/src/cli/build-info.json', 'package/src/sdnotify/sd_notify.c', 'package/src/service/dsrlb-ha.service',
      'package/docs/reference-setup/ldirectord.cf', 'package/test/fixtures/ipvs-oracle/pcap/flows100-clients5.pcap']) {
      expect(list, f).toContain(f);
    }
    expect(list.filter((f) => /\/build\/|node_modules|\.node$/.test(f))).toEqual([]);
    // postpack removed the build info again from the checkout.
    expect(existsSync(join(REPO, 'src/cli/build-info.json'))).toBe(false);
  });

  it('installs dsrlb with its native parts built from source', () => {
    expect(statSync(dsrlb).isFile()).toBe(true);
    expect(existsSync(join(installed, 'node_modules/cap/build/Release/cap.node'))).toBe(true);
    expect(existsSync(join(installed, 'src/sdnotify/build/Release/sd_notify.node'))).toBe(true);
  });

  it('dsrlb --version prints the version and the commit the package was built from', () => {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(new RegExp(`^dsrlb 0\\.\\d+\\.\\d+ \\(git ${head}(-dirty)?\\)$`));
  });

  it('in the git checkout, --version asks git (with -dirty when tracked files changed)', async () => {
    const { main } = await import('../../src/cli/main.ts');
    const out: string[] = [];
    expect(await main(['--version'], { out: (x) => void out.push(x), err: () => {} })).toBe(0);
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    expect(out[0]).toMatch(new RegExp(`^dsrlb 0\\.\\d+\\.\\d+ \\(git ${head}(-dirty)?\\)$`));
  });

  it('dsrlb config check reads the reference ldirectord.cf', () => {
    const r = run(['config', 'check', join(installed, 'docs/reference-setup/ldirectord.cf')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/TCP {2}192\.168\.0\.10:80 rr/);
    expect(r.out).toMatch(/-> 192\.168\.0\.9:443/);
  });

  it('dsrlb replay runs the capture shipped in the package', () => {
    const cfg = join(work, 'wrr.cf');
    writeFileSync(cfg, 'virtual=10.123.0.100:80\n\treal=10.123.0.21:80 gate 1\n\treal=10.123.0.22:80 gate 2\n\treal=10.123.0.23:80 gate 3\n\tscheduler=wrr\n\tchecktype=off\n');
    const out = join(work, 'out.pcap');
    const r = run(['replay', '--config', cfg, '--in', join(installed, 'test/fixtures/ipvs-oracle/pcap/flows100-clients5.pcap'), '--out', out,
      '--self-mac', '02:ce:00:00:00:02', '--neigh', '10.123.0.21=02:ce:00:00:00:15', '--neigh', '10.123.0.22=02:ce:00:00:00:16', '--neigh', '10.123.0.23=02:ce:00:00:00:17']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/10\.123\.0\.2[123]:80/);
    expect(statSync(out).size).toBeGreaterThan(24); // more than a pcap header: frames were written
  });

  it('dsrlb service print points the unit at the installed copy', () => {
    const r = run(['service', 'print', 'director']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`ExecStart=${process.execPath} ${statSync(installed).isDirectory() ? execFileSync('realpath', [installed], { encoding: 'utf8' }).trim() : installed}/src/cli/dsrlb.mjs run`);
  });
});
