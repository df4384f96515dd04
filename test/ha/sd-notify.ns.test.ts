/**
 * `dsrlb ha` under a fake NOTIFY_SOCKET (a unix datagram socket this test binds, as systemd would),
 * alone on a two-namespace testbed (its peer never answers): READY=1 once its packet path answers
 * and heartbeats run, with the role in STATUS=; STATUS= follows the takeover when the silent peer is
 * declared dead ("active (serving VIP)"); SIGHUP: RELOADING=1 … READY=1 (log files reopened);
 * SIGTERM: STOPPING=1 and exit 0. ha.cf's logfile receives the node's lines meanwhile.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DSRLB_BIN } from '../../src/testbed/index.ts';

const tag = `dsrs${process.pid % 10000}`;
const NODE_NS = `${tag}h`;
const PEER_NS = `${tag}p`;
const VIP = '10.78.0.100';
const work = mkdtempSync(join(tmpdir(), 'dsrs-hanotify-'));
const notifySock = join(work, 'notify.sock');
const etc = join(work, 'ha.d');
const logfile = join(work, 'ha-log');
const children: ChildProcess[] = [];
let node: ChildProcess;
let out = '';
const got: string[] = [];

function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const inNs = (ns: string, argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
const fields = (m: string) => Object.fromEntries(m.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms\nmessages: ${JSON.stringify(got)}\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cleanNamespaces(): void {
  for (const ns of [NODE_NS, PEER_NS]) spawnSync('ip', ['netns', 'del', ns]);
}

beforeAll(async () => {
  cleanNamespaces();
  sh(['ip', 'netns', 'add', NODE_NS]);
  sh(['ip', 'netns', 'add', PEER_NS]);
  sh(['ip', 'link', 'add', 'name', 'eth0', 'netns', NODE_NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', PEER_NS]);
  inNs(NODE_NS, ['ip', 'addr', 'add', '10.78.0.7/24', 'dev', 'eth0']);
  inNs(PEER_NS, ['ip', 'addr', 'add', '10.78.0.8/24', 'dev', 'eth0']);
  for (const ns of [NODE_NS, PEER_NS]) {
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  }
  mkdirSync(etc);
  writeFileSync(join(etc, 'ha.cf'), `logfacility none\nlogfile ${logfile}\nkeepalive 200ms\ndeadtime 1\ninitdead 2\nucast eth0 10.78.0.8\nauto_failback off\nnode n1\nnode n2\n`);
  writeFileSync(join(etc, 'haresources'), `n1 ${VIP} ldirectord::ldirectord.cf IPaddr::${VIP}/24/eth0\n`);
  writeFileSync(join(etc, 'authkeys'), 'auth 2\n2 sha1 dsrs-test-key\n');
  chmodSync(join(etc, 'authkeys'), 0o600);
  writeFileSync(join(etc, 'ldirectord.cf'), `virtual=${VIP}:80\n\treal=10.78.0.8:80 gate\n\tchecktype=on\n\tscheduler=rr\n`);

  const py = [
    'import json, socket',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(notifySock)})`,
    's.settimeout(60)',
    'print(json.dumps("listening"), flush=True)',
    'while True:',
    '    try: d = s.recv(4096)',
    '    except socket.timeout: break',
    '    print(json.dumps(d.decode()), flush=True)',
  ].join('\n');
  const listener = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
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
      else if (fields(msg).WATCHDOG === undefined) got.push(msg);
    }
  });
  await up;
  node = spawn('ip', ['netns', 'exec', NODE_NS, process.execPath, DSRLB_BIN, 'ha', '--config-dir', etc, '--node', 'n1', '--iface', 'eth0',
    '--arp-suppression', 'none', '--garp', '1,100', '--control', join(work, 'ha.sock')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: notifySock },
  });
  children.push(node);
  node.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  node.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
}, 60_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  cleanNamespaces();
  rmSync(work, { recursive: true, force: true });
});

describe('dsrlb ha under a fake NOTIFY_SOCKET', () => {
  it('READY=1 first, with the role in STATUS=', async () => {
    await until('READY=1', () => got.some((m) => fields(m).READY === '1'));
    const first = fields(got[0]!);
    expect(first.READY).toBe('1');
    expect(first.STATUS).toMatch(/^node n1: (init|standby|active)\b.*; peer n2$/); // init: waiting out initdead
  });

  it('STATUS= follows the takeover: active, serving the VIP', async () => {
    await until('STATUS active', () => got.some((m) => /^node n1: active \(serving 10\.78\.0\.100\); peer n2$/.test(fields(m).STATUS ?? '')));
  });

  it('SIGHUP: RELOADING=1 then READY=1', async () => {
    const from = got.length;
    node.kill('SIGHUP');
    await until('READY after RELOADING', () => got.slice(from).some((m) => fields(m).READY === '1'));
    const after = got.slice(from).map(fields);
    expect(after[0]!.RELOADING).toBe('1');
    expect(after.find((f) => f.READY === '1')!.STATUS).toMatch(/^node n1: active/);
  });

  it('SIGTERM: STOPPING=1, exit 0; its lines went to ha.cf\'s logfile, not stdout', async () => {
    const exited = new Promise<number | null>((r) => node.once('exit', (code) => r(code)));
    const from = got.length;
    node.kill('SIGTERM');
    const t = setTimeout(() => node.kill('SIGKILL'), 15_000);
    expect(await exited).toBe(0);
    clearTimeout(t);
    await until('STOPPING=1', () => got.slice(from).some((m) => fields(m).STOPPING === '1'), 3000);
    const msgs = readFileSync(logfile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('ha node ready');
    expect(msgs).toContain('stopped');
    expect(out).not.toMatch(/ha node ready/);
  });
});
