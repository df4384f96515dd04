/**
 * systemd's readiness protocol without systemd: `dsrlb run` on a two-namespace testbed (director and
 * a client that is also the real server), with NOTIFY_SOCKET pointing at a unix datagram socket this
 * test listens on (a python3 listener, as a service manager would). READY=1 arrives only once the
 * packet path serves the VIP (the client's ARP for it is answered by the director's MAC, the
 * control socket is up); SIGHUP brings RELOADING=1 … READY=1 around the reload, which changes the
 * table as the file says; the watchdog is fed; SIGTERM sends STOPPING=1 before the process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest, notifyMessage, sdNotifier } from '../../src/io/index.ts';
import { DSRLB_BIN } from '../../src/testbed/index.ts';

const tag = `dsrs${process.pid % 10000}`;
const DIR_NS = `${tag}d`;
const CLI_NS = `${tag}c`;
const DIR_MAC = '02:00:5e:77:00:01';
const VIP = '10.77.0.100';
const work = mkdtempSync(join(tmpdir(), 'dsrs-notify-'));
const notifySock = join(work, 'notify.sock');
const control = join(work, 'control.sock');
const cfgPath = join(work, 'ldirectord.cf');

const children: ChildProcess[] = [];
let listener: ChildProcess;
let director: ChildProcess;
let out = '';
const got: Array<{ at: number; msg: string; controlUp: boolean }> = [];

function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const inNs = (ns: string, argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);

function config(weight: number): string {
  return `checkinterval=1\nquiescent=yes\nvirtual=${VIP}:80\n\treal=10.77.0.2:80 gate ${weight}\n\tchecktype=on\n\tscheduler=rr\n\tprotocol=tcp\n`;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms\nmessages: ${JSON.stringify(got)}\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cleanNamespaces(): void {
  for (const ns of [DIR_NS, CLI_NS]) spawnSync('ip', ['netns', 'del', ns]);
}

beforeAll(async () => {
  chmodSync(work, 0o700);
  cleanNamespaces();
  sh(['ip', 'netns', 'add', DIR_NS]);
  sh(['ip', 'netns', 'add', CLI_NS]);
  sh(['ip', 'link', 'add', 'name', 'eth0', 'netns', DIR_NS, 'address', DIR_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CLI_NS]);
  inNs(DIR_NS, ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'eth0']);
  inNs(CLI_NS, ['ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'eth0']);
  for (const ns of [DIR_NS, CLI_NS]) {
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  }
  writeFileSync(cfgPath, config(1));

  // The service manager's end: every datagram, with whether the control socket existed on arrival.
  const py = [
    'import json, socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(notifySock)})`,
    's.settimeout(90)',
    'print(json.dumps("listening"), flush=True)',
    'while True:',
    '    try: d = s.recv(4096)',
    '    except socket.timeout: break',
    '    print(json.dumps(d.decode()), flush=True)',
  ].join('\n');
  listener = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(listener);
  let buf = '';
  let listening!: () => void;
  const up = new Promise<void>((r) => (listening = r));
  listener.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl)) as string;
      buf = buf.slice(nl + 1);
      if (msg === 'listening') listening();
      else got.push({ at: Date.now(), msg, controlUp: existsSync(control) });
    }
  });
  await up;

  director = spawn('ip', ['netns', 'exec', DIR_NS, process.execPath, DSRLB_BIN, 'run', '--config', cfgPath, '--iface', 'eth0',
    '--garp', '0', '--fix-offloads', '--foreground', '--control', control], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: notifySock, WATCHDOG_USEC: '1000000' },
  });
  children.push(director);
  director.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  director.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
}, 60_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  cleanNamespaces();
  rmSync(work, { recursive: true, force: true });
});

const fields = (m: string) => Object.fromEntries(m.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('dsrlb run under a fake NOTIFY_SOCKET', () => {
  it('sends READY=1 (with MAINPID and STATUS) once, after the packet path is up and the VIP is served', async () => {
    await until('READY=1', () => got.some((g) => fields(g.msg).READY === '1'));
    const first = got[0]!;
    // Nothing before READY=1: it is the first message, and the control socket was already up.
    expect(fields(first.msg).READY).toBe('1');
    expect(first.controlUp).toBe(true);
    expect(fields(first.msg).STATUS).toMatch(/^serving 1 virtual service\(s\) on eth0; control /);
    expect(Number(fields(first.msg).MAINPID)).toBeGreaterThan(0);
    expect(out).toMatch(/director ready/);
    // The VIP is served: the client's ARP for it is answered with the director's MAC.
    spawnSync('ip', ['netns', 'exec', CLI_NS, 'ping', '-c', '1', '-W', '1', VIP], { timeout: 5000 });
    expect(inNs(CLI_NS, ['ip', 'neigh', 'show', VIP])).toContain(DIR_MAC);
    const snap = (await controlRequest(control, { op: 'snapshot' })) as { active: boolean };
    expect(snap.active).toBe(true);
  });

  it('feeds the watchdog (WATCHDOG_USEC=1 s: WATCHDOG=1 about every 500 ms) while the packet path answers', async () => {
    await until('two WATCHDOG=1', () => got.filter((g) => fields(g.msg).WATCHDOG === '1').length >= 2);
  });

  it('SIGHUP: RELOADING=1 with MONOTONIC_USEC, the reload applied, then READY=1', async () => {
    writeFileSync(cfgPath, config(3));
    const from = got.length;
    director.kill('SIGHUP');
    await until('READY=1 after RELOADING=1', () => got.slice(from).some((g) => fields(g.msg).READY === '1'));
    const after = got.slice(from).map((g) => fields(g.msg)).filter((f) => f.WATCHDOG === undefined);
    expect(after[0]!.RELOADING).toBe('1');
    expect(after[0]!.MONOTONIC_USEC).toMatch(/^\d+$/);
    expect(after[1]!.READY).toBe('1');
    const snap = (await controlRequest(control, { op: 'snapshot' })) as { services: Array<{ reals: Array<{ weight: number }> }> };
    expect(snap.services[0]!.reals[0]!.weight).toBe(3);
  });

  it('SIGTERM: STOPPING=1, then the process exits 0', async () => {
    const exited = new Promise<number | null>((r) => director.once('exit', (code) => r(code)));
    const from = got.length;
    director.kill('SIGTERM');
    const t = setTimeout(() => director.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(t);
    await until('STOPPING=1', () => got.slice(from).some((g) => fields(g.msg).STOPPING === '1'), 3000);
    expect(code).toBe(0);
    expect(fields(got.slice(from).find((g) => fields(g.msg).STOPPING === '1')!.msg).STATUS).toBe('stopping (SIGTERM)');
  });
});

describe('as the unit runs it: a non-root user with only the unit\'s capabilities', () => {
  it('User=daemon, AmbientCapabilities=CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN, NoNewPrivileges: READY=1, the VIP served, a clean stop', async () => {
    // setpriv reproduces those unit settings (systemd is not PID 1 here); the control socket lives
    // in a directory owned by that user, as RuntimeDirectory= makes it.
    const runDir = join(work, 'run-daemon');
    sh(['mkdir', '-m', '0755', runDir]);
    sh(['chown', 'daemon:daemon', runDir]);
    chmodSync(work, 0o755);
    chmodSync(notifySock, 0o666);
    chmodSync(cfgPath, 0o644);
    const ctl = join(runDir, 'control.sock');
    const from = got.length;
    let log = '';
    const p = spawn('ip', ['netns', 'exec', DIR_NS, 'setpriv', '--reuid=daemon', '--regid=daemon', '--clear-groups',
      '--inh-caps=-all,+net_raw,+net_admin', '--ambient-caps=-all,+net_raw,+net_admin', '--bounding-set=-all,+net_raw,+net_admin', '--no-new-privs',
      process.execPath, DSRLB_BIN, 'run', '--config', cfgPath, '--iface', 'eth0', '--garp', '0', '--foreground', '--control', ctl], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: notifySock, HOME: '/nonexistent' },
    });
    children.push(p);
    p.stdout!.setEncoding('utf8').on('data', (c: string) => (log += c));
    p.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
    try {
      await until('READY=1 from the unprivileged director', () => {
        if (p.exitCode !== null) throw new Error(`exited ${p.exitCode}: ${log}`);
        return got.slice(from).some((g) => fields(g.msg).READY === '1');
      }, 30_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${log}`);
    }
    const status = readFileSync(`/proc/${Number(fields(got.slice(from).find((g) => fields(g.msg).READY === '1')!.msg).MAINPID)}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+1\s/m);
    expect(status).toMatch(/^CapEff:\s+0000000000003000$/m); // NET_ADMIN (12) | NET_RAW (13)
    expect(status).toMatch(/^CapBnd:\s+0000000000003000$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(statSync(ctl).mode & 0o777).toBe(0o600);
    expect(statSync(ctl).uid).toBe(1);
    spawnSync('ip', ['netns', 'exec', CLI_NS, 'ip', 'neigh', 'flush', 'dev', 'eth0']);
    spawnSync('ip', ['netns', 'exec', CLI_NS, 'ping', '-c', '1', '-W', '1', VIP], { timeout: 5000 });
    expect(inNs(CLI_NS, ['ip', 'neigh', 'show', VIP])).toContain(DIR_MAC);
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
    expect(await exited).toBe(0);
    clearTimeout(t);
    // It undid what it set up: no ingress table left in the director's namespace.
    expect(inNs(DIR_NS, ['nft', 'list', 'tables'])).not.toMatch(/netdev/);
  }, 60_000);
});

describe('the notifier outside a service', () => {
  it('does nothing and loads nothing without NOTIFY_SOCKET', () => {
    const n = sdNotifier({}, () => {
      throw new Error('must not load');
    });
    expect(n.enabled).toBe(false);
    expect(n.notify({ READY: 1 })).toBe(false);
  });

  it('fails with E_SD_NOTIFY when NOTIFY_SOCKET is set and the addon cannot load', () => {
    expect(() => sdNotifier({ NOTIFY_SOCKET: '/run/x' }, () => {
      throw new Error('cannot load');
    })).toThrow(/E_SD_NOTIFY|addon is not built/);
  });

  it('formats assignments one per line, values on one line; honours WATCHDOG_PID', () => {
    expect(notifyMessage({ READY: 1, STATUS: 'a\nb' })).toBe('READY=1\nSTATUS=a b');
    const send = () => ({ send: () => 0 });
    expect(sdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000' }, send).watchdogMs).toBe(2000);
    expect(sdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, send).watchdogMs).toBe(null);
  });
});
