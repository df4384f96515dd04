/**
 * Who may steer the director: the control socket's mode is explicit (0600, or 0660 with a group)
 * whatever the umask, an unsafe directory is refused, and a socket left by a killed process is
 * stale: removed at start, not counted by `dsrlb ipvsadm`, while a live one is never removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chooseControlSocket } from '../../src/cli/commands/ipvsadm.ts';
import {
  checkControlDir, controlRequest, groupId, liveControlSockets, netnsId, precheckControlPath, probeControlSocket, serveControl,
} from '../../src/io/index.ts';
import { run as dsrlbRun } from '../../src/cli/commands/run.ts';
import { run as dsrlbHa } from '../../src/cli/commands/ha.ts';

const root = mkdtempSync(join(tmpdir(), 'dsrs-ctl-'));
const servers: Server[] = [];
const children: ChildProcess[] = [];
let oldMask = 0;
beforeAll(() => {
  oldMask = process.umask(0o000); // the worst case the issue names: any local user could connect
});
afterAll(() => {
  process.umask(oldMask);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

let n = 0;
function freshDir(mode = 0o700): string {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
}

const echo = async (req: Record<string, unknown>) => ({ echo: req.op });

async function serve(path: string, opts: Parameters<typeof serveControl>[2] = {}): Promise<Server> {
  const s = await serveControl(path, echo, opts);
  servers.push(s);
  return s;
}

/** A socket whose process was killed with SIGKILL: the file stays, nobody listens. */
async function staleSocket(path: string): Promise<void> {
  const js = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error('listener exited')));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  expect(statSync(path).isSocket()).toBe(true);
}

describe('socket mode under umask 000', () => {
  it('is 0600 by default, and answers requests', async () => {
    const p = join(freshDir(), 'c.sock');
    await serve(p);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(await controlRequest(p, { op: 'ping' })).toEqual({ echo: 'ping' });
  });

  it('is 0660 with the named group when --control-group is given', async () => {
    const gid = process.getgid!();
    const p = join(freshDir(0o755), 'c.sock');
    await serve(p, { group: String(gid) });
    const st = statSync(p);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(gid);
  });

  it('creates a missing directory 0755 (not 0777 as the umask would allow)', async () => {
    const d = join(freshDir(), 'run', 'dsrlb');
    await serve(join(d, 'c.sock'));
    expect(statSync(d).mode & 0o777).toBe(0o755);
  });

  it('resolves group names from a group file, and refuses an unknown group', async () => {
    const f = join(root, 'group');
    writeFileSync(f, 'root:x:0:\nlbops:x:1234:alice,bob\n');
    expect(groupId('lbops', f)).toBe(1234);
    expect(groupId('77', f)).toBe(77);
    expect(() => groupId('nosuch', f)).toThrow(/E_CONTROL_GROUP|no group named "nosuch"/);
    await expect(serve(join(freshDir(), 'c.sock'), { group: 'dsrs-no-such-group' })).rejects.toMatchObject({ code: 'E_CONTROL_GROUP' });
  });
});

describe('socket directory', () => {
  it.each([
    [0o777, /writable by every user \(mode 0777\)/],
    [0o1777, /writable by every user \(mode 1777\)/],
    [0o775, /writable by its group \(mode 0775\)/],
  ])('refuses mode %o with a typed error naming the fix, and creates no socket', async (mode, why) => {
    const d = freshDir(mode);
    const p = join(d, 'c.sock');
    const err = await serve(p).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CONTROL_DIR_UNSAFE' });
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/Fix: chmod 755 .* --control PATH/);
    expect(existsSync(p)).toBe(false);
  });

  it('accepts 0755 and 0700 directories owned by this user', () => {
    expect(() => checkControlDir(freshDir(0o755))).not.toThrow();
    expect(() => checkControlDir(freshDir(0o700))).not.toThrow();
  });
});

describe('stale sockets', () => {
  it('a killed process leaves a stale socket; a running one is live; a plain file is not a socket', async () => {
    const d = freshDir();
    await staleSocket(join(d, 'dead.sock'));
    expect(await probeControlSocket(join(d, 'dead.sock'))).toBe('stale');
    await serve(join(d, 'live.sock'));
    expect(await probeControlSocket(join(d, 'live.sock'))).toBe('live');
    expect(await probeControlSocket(join(d, 'none.sock'))).toBe('absent');
    writeFileSync(join(d, 'file.sock'), '');
    expect(await probeControlSocket(join(d, 'file.sock'))).toBe('not-a-socket');
  });

  it('start-up replaces a stale socket at its own path and says so', async () => {
    const p = join(freshDir(), 'c.sock');
    await staleSocket(p);
    const stale: string[] = [];
    await serve(p, { onStale: (x) => stale.push(x) });
    expect(stale).toEqual([p]);
    expect(await controlRequest(p, { op: 'x' })).toEqual({ echo: 'x' });
  });

  it('start-up never removes a live socket: E_CONTROL_IN_USE, and the first director still answers', async () => {
    const p = join(freshDir(), 'c.sock');
    await serve(p);
    await expect(serve(p)).rejects.toMatchObject({ code: 'E_CONTROL_IN_USE' });
    expect(await controlRequest(p, { op: 'still' })).toEqual({ echo: 'still' });
  });

  it('start-up removes the stale sockets of this namespace beside it, and only those', async () => {
    const d = freshDir();
    const ns = netnsId();
    const dead = join(d, `net${ns}-ha.sock`);
    const live = join(d, `net${ns}-eth1.sock`);
    const other = join(d, 'net1-eth0.sock'); // another namespace's: not ours to judge
    await serve(live); // first: its own start-up would sweep the stale ones
    await staleSocket(dead);
    await staleSocket(other);
    const stale: string[] = [];
    await serve(join(d, `net${ns}-eth0.sock`), { onStale: (x) => stale.push(x) });
    expect(stale).toEqual([dead]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });

  it('dsrlb ipvsadm counts only live directors: one live + one killed is one director, not two', async () => {
    const d = freshDir();
    const ns = netnsId();
    await serve(join(d, `net${ns}-eth0.sock`));
    await staleSocket(join(d, `net${ns}-ha.sock`)); // a killed `dsrlb ha`
    expect(await liveControlSockets(d)).toEqual([join(d, `net${ns}-eth0.sock`)]);
    expect(await chooseControlSocket(null, {}, () => liveControlSockets(d))).toBe(join(d, `net${ns}-eth0.sock`));
    servers.push(await serveControl(join(d, `net${ns}-eth1.sock`), echo)); // sweeps ha.sock
    await staleSocket(join(d, `net${ns}-ha2.sock`));
    await expect(chooseControlSocket(null, {}, () => liveControlSockets(d))).rejects.toThrow(/2 dsrlb directors are running/);
  });
});

describe('before anything starts', () => {
  it('precheck refuses a live path, an unsafe directory, an unknown group; accepts stale and absent paths', async () => {
    const d = freshDir();
    await serve(join(d, 'live.sock'));
    await staleSocket(join(d, 'dead.sock'));
    await expect(precheckControlPath(join(d, 'live.sock'))).rejects.toMatchObject({ code: 'E_CONTROL_IN_USE' });
    await expect(precheckControlPath(join(d, 'dead.sock'))).resolves.toBeUndefined();
    await expect(precheckControlPath(join(d, 'none.sock'))).resolves.toBeUndefined();
    await expect(precheckControlPath(join(freshDir(0o777), 'c.sock'))).rejects.toMatchObject({ code: 'E_CONTROL_DIR_UNSAFE' });
    await expect(precheckControlPath(join(d, 'x.sock'), 'dsrs-no-such-group')).rejects.toMatchObject({ code: 'E_CONTROL_GROUP' });
  });

  it('dsrlb run and dsrlb ha stop at once on a control path another process serves (nothing set up, nothing torn down)', async () => {
    const p = join(freshDir(), 'c.sock');
    await serve(p);
    const io = { out: () => {}, err: () => {} };
    await expect(dsrlbRun(['--iface', 'dsrsnone0', '--control', p], io)).rejects.toMatchObject({ code: 'E_CONTROL_IN_USE' });
    await expect(dsrlbHa(['--config-dir', '/nonexistent', '--control', p], io)).rejects.toMatchObject({ code: 'E_CONTROL_IN_USE' });
    expect(await controlRequest(p, { op: 'ok' })).toEqual({ echo: 'ok' });
  });
});
