/** Helpers for the failover tests on the namespace testbed: config dirs from the seed, ha nodes, a client loop. */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/io/index.ts';
import { DSRLB_BIN, hostNamespace, nsExists, spawnInNs } from '../../src/testbed/index.ts';

export const REF = fileURLToPath(new URL('../../docs/reference-setup/', import.meta.url));
export const CLIENT_LOOP = fileURLToPath(new URL('./client-loop.mjs', import.meta.url));
export const LONG_CONN = fileURLToPath(new URL('./long-conn.mjs', import.meta.url));
export const NODE_NAME = { www1: 'www1.example.com', www2: 'www2.example.com' } as const;

/** Every helper process the tests start (client loops, long connections), for killHelpers() in afterAll. */
const helpers = new Set<ChildProcess>();
function track(c: ChildProcess): ChildProcess {
  helpers.add(c);
  c.once('exit', () => helpers.delete(c));
  return c;
}

/** Kills (by PID, SIGKILL) the helpers still running: clean-up after a failed test. */
export function killHelpers(): number {
  let n = 0;
  for (const c of helpers) if (c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')) n++;
  return n;
}

export interface DirOptions {
  /**
   * Which file of docs/reference-setup/ to copy (under its own name) as the ldirectord resource's
   * file; default ldirectord.cf. The haresources line must name it (editHaResources).
   */
  ldirectord?: string;
  /** Edits the seed's haresources before it is written (default: unchanged). */
  editHaResources?: (text: string) => string;
}

/**
 * /etc/ha.d for www1 and www2 from the seed's files, unchanged apart from the ucast address (each
 * node points at the other) and the timing lines appended (`extra`).
 */
export function makeConfigDirs(
  extra: string,
  editLdirectord: (text: string) => string = (t) => t,
  editHaCf: (text: string) => string = (t) => t,
  opts: DirOptions = {},
): { root: string; www1: string; www2: string } {
  const root = mkdtempSync(join(tmpdir(), 'dsrlb-ha-'));
  const out = { root, www1: join(root, 'www1'), www2: join(root, 'www2') };
  for (const host of ['www1', 'www2'] as const) {
    const d = out[host];
    mkdirSync(d);
    let hacf = readFileSync(join(REF, 'ha.cf'), 'utf8');
    if (host === 'www2') hacf = hacf.replace('ucast eth0 192.168.0.8', 'ucast eth0 192.168.0.7');
    writeFileSync(join(d, 'ha.cf'), editHaCf(hacf) + extra);
    writeFileSync(join(d, 'haresources'), (opts.editHaResources ?? ((t) => t))(readFileSync(join(REF, 'haresources'), 'utf8')));
    copyFileSync(join(REF, 'authkeys'), join(d, 'authkeys'));
    chmodSync(join(d, 'authkeys'), 0o600);
    const ld = opts.ldirectord ?? 'ldirectord.cf';
    writeFileSync(join(d, ld), editLdirectord(readFileSync(join(REF, ld), 'utf8')));
  }
  return out;
}

export interface HaProc {
  host: 'www1' | 'www2';
  pid: number;
  control: string;
  output(): string;
  status(): Promise<Record<string, unknown> & { role: string }>;
  exited: Promise<number | null>;
  isRunning(): boolean;
  term(timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

export function startHa(prefix: string, host: 'www1' | 'www2', dir: string, args: string[] = [], tag: string = host): HaProc {
  const ns = hostNamespace(prefix, host);
  if (!nsExists(ns)) throw new Error(`namespace ${ns} does not exist`);
  const control = `/run/dsrlb/hatest-${prefix}-${tag}.sock`;
  rmSync(control, { force: true });
  const child: ChildProcess = spawnInNs(ns, [process.execPath, DSRLB_BIN, 'ha', '--config-dir', dir, '--node', NODE_NAME[host], '--iface', 'eth0', '--control', control, '--foreground', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => {
    code = c;
    r(c);
  }));
  return {
    host, pid: child.pid!, control, exited,
    output: () => out,
    isRunning: () => code === undefined,
    status: () => controlRequest(control, { op: 'haStatus' }, 3000) as Promise<Record<string, unknown> & { role: string }>,
    async term(timeoutMs = 10_000) {
      if (code !== undefined) return code;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const c = await exited;
      clearTimeout(t);
      return c;
    },
    async kill() {
      if (code !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits (bounded) until fn() is true; returns the elapsed ms, or throws with `what`. */
export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 20): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await fn()) return Date.now() - t0;
    } catch {
      // not yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface ClientResult {
  /** Wall-clock ms when the request started and ended. */
  t0: number;
  t1: number;
  ok: boolean;
  body: string;
  /** The client's TCP port (0: never connected). */
  port: number;
}

/** A client loop in the client namespace: one HTTP request every intervalMs (not waiting for the previous one). */
export function startClientLoop(prefix: string, url: string, intervalMs: number, timeoutMs: number, maxRequests: number) {
  const ns = hostNamespace(prefix, 'client');
  if (!nsExists(ns)) throw new Error(`namespace ${ns} does not exist`);
  const child = track(spawnInNs(ns, [process.execPath, CLIENT_LOOP, url, String(intervalMs), String(timeoutMs), String(maxRequests)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    results(): ClientResult[] {
      return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ClientResult);
    },
    async stop(): Promise<ClientResult[]> {
      child.stdin!.end('stop\n');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 3000);
      await exited;
      clearTimeout(t);
      return this.results();
    },
  };
}

/** One long-lived HTTP connection from the client namespace: opened now, finished on finish(). */
export async function openLongConnection(prefix: string, host: string, port: number) {
  const ns = hostNamespace(prefix, 'client');
  if (!nsExists(ns)) throw new Error(`namespace ${ns} does not exist`);
  const child = track(spawnInNs(ns, [process.execPath, LONG_CONN, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor('the long-lived connection open', () => out.includes('open ') || out.includes('error '), 5000);
  return {
    port: Number(/open (\d+)/.exec(out)?.[1] ?? 0),
    /** Sends the rest of the request; resolves the answer's body, or "error …". */
    async finish(timeoutMs = 10_000): Promise<string> {
      child.stdin!.write('go\n');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
      return /body (.*)/.exec(out)?.[1] ?? /error .*/.exec(out)?.[0] ?? `nothing: ${out}`;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/** PIDs of the guard processes of `dsrlb ha` process `pid` (argv names them `dsrlb-ha-guard:PID`). */
export function guardsOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(`dsrlb-ha-guard:${pid}`)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** PIDs of the children of `pid` (from /proc/PID/stat's ppid field). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
