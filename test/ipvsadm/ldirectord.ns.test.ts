/**
 * dsrlb as a drop-in for the kernel, proven with the real thing (runs as root in CI): Debian's
 * ldirectord package runs in www1's namespace against `dsrlb run --iface eth0` started with an
 * EMPTY table. ldirectord finds "ipvsadm" where it always does (/sbin/ipvsadm, a fixed path): in
 * ldirectord's own mount namespace only, a shim that runs `dsrlb ipvsadm` is bind-mounted over it,
 * so nothing on the root filesystem changes. ldirectord reads docs/reference-setup/ldirectord.cf
 * (plus supervised=yes, so that it stays in the foreground where the test can stop it), builds the
 * table with ipvsadm -A/-a, runs its real HTTP/HTTPS checks, and quiesces www3 when its web server
 * stops: `dsrlb ipvsadm -L -n` then shows weight 0 for it, and new connections avoid it.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/io/index.ts';
import {
  DSRLB_BIN, hostNamespace, nsExec, spawnInNs, startServer, stateDirFor, stopServer, testbedDown, testbedUp, VIP,
} from '../../src/testbed/index.ts';
import { curl, forEachIoBackend } from '../e2e/lab.ts';
import { REPO } from './harness.ts';

const prefix = `dsrv${process.pid % 10000}`;
const www1 = hostNamespace(prefix, 'www1');
const client = hostNamespace(prefix, 'client');
const LDIRECTORD = '/usr/sbin/ldirectord';
const CFG_NAME = `dsrlb-e2e-${prefix}.cf`;

let work = '';
let director: ChildProcess | null = null;
let directorOut = '';
let ldirectord: ChildProcess | null = null;
let ldOut = '';
let control = '';

/** `dsrlb ipvsadm` as the shim runs it, through dsrlb's CLI. */
function ipvsadmArgv(): string[] {
  return [process.execPath, DSRLB_BIN, 'ipvsadm'];
}

/** `dsrlb ipvsadm ARGS` inside www1's namespace, finding the director without flags. */
async function ipvsadmInWww1(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await nsExec(www1, [...ipvsadmArgv(), ...args], { timeoutMs: 20_000 });
  return { code: r.code ?? -1, out: r.stdout, err: r.stderr };
}

const TITLE = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
];

function realRow(addr: string, weight: number): RegExp {
  // ActiveConn/InActConn depend on the checks' own connections: any numbers.
  return new RegExp(`^  -> ${`${addr}`.padEnd(28).replaceAll('.', '\\.')} Route   ${String(weight).padEnd(6)} \\d+\\s+\\d+\\s*$`);
}

function expectTable(text: string, weights: Record<string, number>): void {
  const lines = text.trimEnd().split('\n');
  expect(lines.slice(0, 3)).toEqual(TITLE);
  const want: Array<string | RegExp> = [];
  for (const port of [80, 443]) {
    want.push(`TCP  ${VIP}:${port} rr`);
    for (const h of ['192.168.0.7', '192.168.0.8', '192.168.0.9']) want.push(realRow(`${h}:${port}`, weights[`${h}:${port}`]!));
  }
  expect(lines.length).toBe(3 + want.length);
  want.forEach((w, i) => (typeof w === 'string' ? expect(lines[3 + i]).toBe(w) : expect(lines[3 + i]).toMatch(w)));
}

interface Snap {
  services: Array<{ spec: { port: number }; reals: Array<{ addr: number; port: number; weight: number }> }>;
}

async function weights(): Promise<Record<string, number>> {
  const s = (await controlRequest(control, { op: 'snapshot' })) as Snap;
  const out: Record<string, number> = {};
  for (const svc of s.services) for (const r of svc.reals) out[`${[r.addr >>> 24, (r.addr >>> 16) & 255, (r.addr >>> 8) & 255, r.addr & 255].join('.')}:${r.port}`] = r.weight;
  return out;
}

/** Polls until cond() holds (bounded); returns the milliseconds it took. */
async function until(what: string, cond: () => Promise<boolean>, limitMs: number, stepMs = 250): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms\n--- ldirectord:\n${ldOut.slice(-4000)}\n--- director:\n${directorOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function same(a: Record<string, number>, b: Record<string, number>): boolean {
  const norm = (x: Record<string, number>) => JSON.stringify(Object.entries(x).sort(([k1], [k2]) => k1.localeCompare(k2)));
  return norm(a) === norm(b);
}

const ALL_UP = Object.fromEntries(['7', '8', '9'].flatMap((h) => [80, 443].map((p) => [`192.168.0.${h}:${p}`, 1])));

async function stopChild(p: ChildProcess | null, graceMs: number): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

// Once per frame I/O backend (ring, pcap): DSRLB_IO is inherited by every dsrlb this suite starts.
forEachIoBackend(() => {
beforeAll(async () => {
  if (!existsSync(LDIRECTORD)) {
    throw new Error(`${LDIRECTORD} is missing: install Debian's ldirectord package (apt-get install ldirectord; src/cli/setup.sh should list it)`);
  }
  directorOut = '';
  ldOut = '';
  work = mkdtempSync(join(tmpdir(), 'dsrlb-ldirectord-'));
  chmodSync(work, 0o755);
  await testbedUp({ prefix });

  // The director: no configuration at all, as `ipvsadm` would find an empty kernel table.
  director = spawnInNs(www1, [process.execPath, DSRLB_BIN, 'run', '--iface', 'eth0', '--garp', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  director.stdout!.setEncoding('utf8').on('data', (c: string) => (directorOut += c));
  director.stderr!.setEncoding('utf8').on('data', (c: string) => (directorOut += c));
  // Its default control socket carries the namespace's inode: the one `dsrlb ipvsadm` looks for.
  control = `/run/dsrlb/net${statSync(`/run/netns/${www1}`).ino}-eth0.sock`;
  await until('director ready', async () => ((await controlRequest(control, { op: 'snapshot' }, 2000)) as Snap).services.length === 0, 30_000);

  // ldirectord's view of "ipvsadm": a shim, bind-mounted over the real one in its mount namespace only.
  const shim = join(work, 'ipvsadm');
  writeFileSync(shim, `#!/bin/sh\nexec ${ipvsadmArgv().map((a) => `'${a}'`).join(' ')} "$@"\n`, { mode: 0o755 });
  const targets = [...new Set(['/sbin/ipvsadm', '/usr/sbin/ipvsadm'].filter((p) => existsSync(p)).map((p) => realpathSync(p)))];
  if (targets.length === 0) throw new Error('no ipvsadm to stand in for (the ldirectord package depends on ipvsadm)');
  const cfg = join(work, CFG_NAME);
  writeFileSync(cfg, `${readFileSync(join(REPO, 'docs/reference-setup/ldirectord.cf'), 'utf8')}\n# added by the test: stay in the foreground, log to stdout\nsupervised=yes\n`);
  const runLd = join(work, 'run-ldirectord.sh');
  writeFileSync(runLd, [
    '#!/bin/sh',
    'set -e',
    ...targets.map((t) => `mount --bind '${shim}' '${t}'`),
    `exec ${LDIRECTORD} '${cfg}' start`,
    '',
  ].join('\n'), { mode: 0o755 });
  // The reals' self-signed certificates as the trusted set: Debian 12's LWP verifies certificates
  // even with ldirectord's verify_hostname => 0, so without this every HTTPS check fails.
  const ca = join(work, 'testbed-ca.pem');
  writeFileSync(ca, ['www1', 'www2', 'www3'].map((h) => readFileSync(join(stateDirFor(prefix), `${h}.crt`), 'utf8')).join(''));

  ldirectord = spawnInNs(www1, ['unshare', '--mount', '--propagation', 'private', runLd], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${work}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, PERL_LWP_SSL_CA_FILE: ca },
  });
  ldirectord.stdout!.setEncoding('utf8').on('data', (c: string) => (ldOut += c));
  ldirectord.stderr!.setEncoding('utf8').on('data', (c: string) => (ldOut += c));
}, 120_000);

afterAll(async () => {
  // ldirectord's clean stop removes its services through the shim, so it goes before the director.
  await stopChild(ldirectord, 30_000);
  await stopChild(director, 15_000);
  try {
    await testbedDown({ prefix });
  } finally {
    rmSync(`/var/run/ldirectord.${CFG_NAME}.pid`, { force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  }
}, 90_000);

describe('Debian ldirectord drives dsrlb through ipvsadm', () => {
  it('builds the reference table: two rr services, three reals each, all up after their first checks', async () => {
    const ms = await until('every real up', async () => same(await weights(), ALL_UP), 150_000, 1000);
    const r = await ipvsadmInWww1(['-L', '-n']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expectTable(r.out, ALL_UP);
    expect(ldOut).toMatch(/Added virtual server: 192\.168\.0\.10:80/);
    expect(ldOut).toMatch(/Added virtual server: 192\.168\.0\.10:443/);
    expect(directorOut).toMatch(/"msg":"runtime change/);
    console.log(`ldirectord brought all six reals up in ${ms} ms`);
  }, 160_000);

  it('quiesces www3 when its web server stops: weight 0 within checkinterval × failurecount + checktimeout (+1 s), and new connections avoid it', async () => {
    // The reference ldirectord.cf: checkinterval=5, failurecount=1 (default), checktimeout=10.
    const bound = 5 * 1 * 1000 + 10 * 1000 + 1000;
    expect(await stopServer('www3', { prefix })).not.toBeNull();
    const ms = await until('www3 quiesced', async () => {
      const w = await weights();
      return w['192.168.0.9:80'] === 0 && w['192.168.0.9:443'] === 0;
    }, bound, 200);
    console.log(`www3 quiesced ${ms} ms after its web server stopped`);
    const r = await ipvsadmInWww1(['-L', '-n']);
    expectTable(r.out, { ...ALL_UP, '192.168.0.9:80': 0, '192.168.0.9:443': 0 });
    expect(ldOut).toMatch(/Quiescent real server: 192\.168\.0\.9:80 \(192\.168\.0\.10:80\) \(Weight set to 0\)/);
    // the runtime change is in the director's log
    expect(directorOut).toMatch(/"op":"editReal"[^\n]*"addr":3232235529,"port":80,"changes":\{"weight":0/);

    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
    expect(answers.filter((a) => a === 'www3')).toEqual([]);
    expect(new Set(answers)).toEqual(new Set(['www1', 'www2']));
  }, 60_000);

  it('restores www3\'s weight when its web server is back', async () => {
    await startServer('www3', { prefix });
    await until('www3 restored', async () => same(await weights(), ALL_UP), 30_000, 250);
    expectTable((await ipvsadmInWww1(['-L', '-n'])).out, ALL_UP);
    expect(ldOut).toMatch(/Restored real server: 192\.168\.0\.9:80 \(192\.168\.0\.10:80\) \(Weight set to 1\)/);
  }, 40_000);

  it('ldirectord\'s clean stop empties the table through ipvsadm -d/-D', async () => {
    await stopChild(ldirectord, 30_000);
    ldirectord = null;
    const r = await ipvsadmInWww1(['-L', '-n']);
    expect(r.out).toBe(`${TITLE.join('\n')}\n`);
  }, 40_000);
});

describe('dsrlb ipvsadm finds its director', () => {
  it('in a namespace without a director (the client\'s): a clear error, exit 2', async () => {
    const r = await nsExec(client, [...ipvsadmArgv(), '-L', '-n'], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dsrlb ipvsadm: no dsrlb director is running in this network namespace \(no \/run\/dsrlb\/net\d+-\*\.sock\)\.\nStart one with "dsrlb run --iface IF", or name its socket with --control PATH\.\n$/);
  });
});
});
