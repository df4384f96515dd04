/**
 * The director's control socket: a unix stream socket carrying one JSON request per line and one
 * JSON answer per line. The default path carries this network namespace's identity, so that
 * `dsrlb ipvsadm` run inside a namespace finds the director of that namespace without flags.
 *
 * Whoever can connect can steer the director (`dsrlb ipvsadm -C` clears every service), so the
 * socket's mode is set explicitly, never left to the umask: 0600 (the owner only), or 0660 with a
 * group (an operator group may run `dsrlb ipvsadm` without root). The directory it lives in must not
 * be writable by others (they could replace the socket), and a socket file left by a killed
 * process is told from a live one by connecting to it: only stale ones are removed.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { DsrlbError } from '../errors/index.ts';

export const CONTROL_DIR = '/run/dsrlb';

/** The inode number of this process's network namespace (the same for every process in it). */
export function netnsId(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function defaultControlPath(iface: string): string {
  return join(CONTROL_DIR, `net${netnsId()}-${iface}.sock`);
}

/** Control socket files of this network namespace in `dir` (live or stale: see liveControlSockets). */
export function findControlSockets(dir = CONTROL_DIR): string[] {
  const prefix = `net${netnsId()}-`;
  try {
    return readdirSync(dir)
      .filter((n) => n.startsWith(prefix) && n.endsWith('.sock'))
      .map((n) => join(dir, n))
      .filter((p) => statSync(p).isSocket());
  } catch {
    return [];
  }
}

export type SocketState = 'live' | 'stale' | 'absent' | 'not-a-socket';

/**
 * Connects to `path` to learn whether a process serves it: ECONNREFUSED on an existing socket
 * file means nobody listens (its process was killed); a connection means it is live. A socket
 * that neither accepts nor refuses within timeoutMs counts as live (never remove what may be used).
 */
export function probeControlSocket(path: string, timeoutMs = 1000): Promise<SocketState> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return Promise.resolve('absent');
  }
  if (!st.isSocket()) return Promise.resolve('not-a-socket');
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const done = (s: SocketState) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(s);
    };
    const timer = setTimeout(() => done('live'), timeoutMs);
    sock.once('connect', () => done('live'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'stale' : e.code === 'ENOENT' ? 'absent' : 'live'));
  });
}

/** The control sockets of this namespace that a running process answers on (stale ones left out). */
export async function liveControlSockets(dir = CONTROL_DIR): Promise<string[]> {
  const found = findControlSockets(dir);
  const states = await Promise.all(found.map((p) => probeControlSocket(p)));
  return found.filter((_p, i) => states[i] === 'live');
}

/** Removes the stale control sockets of this namespace in `dir` (probed first); returns their paths. */
export async function removeStaleControlSockets(dir = CONTROL_DIR): Promise<string[]> {
  const removed: string[] = [];
  for (const p of findControlSockets(dir)) {
    if ((await probeControlSocket(p)) !== 'stale') continue;
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}

/** The numeric id of a group named in /etc/group (or given as a number). */
export function groupId(name: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // no group file: the name cannot be resolved
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new DsrlbError('E_CONTROL_GROUP', `--control-group: no group named "${name}" in ${groupFile}; create it (groupadd ${name}) or name an existing one`);
}

/**
 * Refuses a socket directory that others could use to replace the socket: writable by all
 * (even with the sticky bit) or by its group, or owned by someone else than this user or root.
 */
export function checkControlDir(dir: string): void {
  const st = statSync(dir);
  if (!st.isDirectory()) throw new DsrlbError('E_CONTROL_DIR_UNSAFE', `${dir} is not a directory`);
  const uid = process.getuid?.() ?? 0;
  const why = (st.mode & 0o002) !== 0 ? `writable by every user (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`
    : (st.mode & 0o020) !== 0 ? `writable by its group (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`
      : st.uid !== 0 && st.uid !== uid ? `owned by uid ${st.uid}, not by this user (${uid}) or root` : null;
  if (why !== null) {
    throw new DsrlbError('E_CONTROL_DIR_UNSAFE',
      `refusing to serve the control socket in ${dir}: the directory is ${why}, so another user could replace the socket and steer or impersonate the director. ` +
      `Fix: chmod 755 ${dir} && chown ${uid} ${dir}, or choose another directory with --control PATH`);
  }
}

/**
 * What serveControl would refuse, checked before anything starts (a second director on the same
 * path must not set up, then tear down, what the running one relies on): an unsafe existing
 * directory, a path a running process serves, an unknown group.
 */
export async function precheckControlPath(path: string, group: string | null = null): Promise<void> {
  if (group) groupId(group);
  let dirExists = true;
  try {
    statSync(dirname(path));
  } catch {
    dirExists = false;
  }
  if (dirExists) checkControlDir(dirname(path));
  if ((await probeControlSocket(path)) === 'live') {
    throw new DsrlbError('E_CONTROL_IN_USE', `${path} is served by a running process (another dsrlb?); stop it, or choose another path with --control PATH`);
  }
}

export interface ControlSocketOptions {
  /** The group allowed to steer the director (mode 0660); without it the mode is 0600. */
  group?: string | null;
  /** Told about each stale socket removed at start (this path and stale siblings). */
  onStale?: (path: string) => void;
}

export type ControlHandler = (req: Record<string, unknown>) => Promise<unknown>;

/**
 * Serves `handler` on a unix socket with mode 0600 (0660 and the group with `group`). Refuses an
 * unsafe directory (E_CONTROL_DIR_UNSAFE) and a path another process still serves
 * (E_CONTROL_IN_USE); removes stale sockets of this namespace in the same directory.
 */
export async function serveControl(path: string, handler: ControlHandler, opts: ControlSocketOptions = {}): Promise<Server> {
  const dir = dirname(path);
  const gid = opts.group ? groupId(opts.group) : null;
  try {
    statSync(dir);
  } catch {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755); // explicit: mkdir's mode is filtered by the umask
  }
  checkControlDir(dir);
  const state = await probeControlSocket(path);
  if (state === 'live') {
    throw new DsrlbError('E_CONTROL_IN_USE', `${path} is served by a running process (another dsrlb?); stop it, or choose another path with --control PATH`);
  }
  if (state === 'not-a-socket') throw new DsrlbError('E_CONTROL_IN_USE', `${path} exists and is not a socket; remove it or choose another path with --control PATH`);
  if (state === 'stale') {
    rmSync(path, { force: true });
    opts.onStale?.(path);
  }
  for (const p of await removeStaleControlSockets(dir)) opts.onStale?.(p);
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 1 << 20) {
        sock.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void answer(line).then((out) => sock.write(JSON.stringify(out) + '\n'));
      }
    });
    sock.on('error', () => sock.destroy());
  });
  async function answer(line: string): Promise<unknown> {
    try {
      const req = JSON.parse(line) as Record<string, unknown>;
      return { ok: true, result: await handler(req) };
    } catch (e) {
      const code = e instanceof DsrlbError ? e.code : e instanceof SyntaxError ? 'E_CONTROL_REQUEST' : 'E_INTERNAL';
      return { ok: false, code, message: (e as Error).message };
    }
  }
  // The socket is created by listen() with the umask's mode: a strict umask for that moment, then
  // the mode (and group) set explicitly, so no umask (not even 000) opens it to others.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  if (gid !== null) chownSync(path, process.getuid?.() ?? 0, gid);
  chmodSync(path, gid !== null ? 0o660 : 0o600);
  return server;
}

/** Sends one request and returns the result (throws the director's error as a DsrlbError). */
export function controlRequest(path: string, req: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DsrlbError('E_CONTROL_TIMEOUT', `no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const ans = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; code?: string; message?: string };
      if (ans.ok) resolve(ans.result);
      else reject(new DsrlbError(ans.code ?? 'E_CONTROL', ans.message ?? 'error'));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new DsrlbError('E_CONTROL_CONNECT', `cannot reach the director at ${path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
  });
}
