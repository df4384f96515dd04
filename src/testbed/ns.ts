/**
 * Running commands inside network namespaces (no shell: execFile/spawn with an argv).
 *
 * Every helper checks first that the namespace exists: traffic toward testbed addresses must never
 * leave from the root namespace (where 192.168.0.0/24 may be a real network).
 */

import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';

/** Where `ip netns add` keeps the namespace handles. */
export const NETNS_DIR = '/run/netns';
/** Default time bound of one command. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10_000;

const NS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal (then see `signal`) or when it could not start. */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Data written to the command's standard input. */
  input?: string;
  /** Throw a DsrlbError (E_TESTBED_EXEC) unless the command exits 0. */
  check?: boolean;
}

function checkNsName(name: string): void {
  if (!NS_NAME_RE.test(name)) throw new DsrlbError('E_TESTBED_NS_NAME', `bad namespace name ${JSON.stringify(name)}`);
}

export function netnsPath(name: string): string {
  checkNsName(name);
  return `${NETNS_DIR}/${name}`;
}

/** True when the named network namespace (as made by `ip netns add`) exists. */
export function nsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

/** Names of all named network namespaces (everyone's: filter by your own prefix). */
export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}

/** Inode of a namespace handle (compare with /proc/PID/ns/net to tell which namespace a process is in). */
export function nsInode(name: string): number | null {
  try {
    return statSync(netnsPath(name)).ino;
  } catch {
    return null;
  }
}

function assertNs(ns: string): void {
  if (!nsExists(ns)) throw new DsrlbError('E_TESTBED_NO_NS', `network namespace ${ns} does not exist`);
}

/** argv that runs `argv` inside `ns`: `ip -n NS …` for ip itself (cheaper), `ip netns exec NS …` otherwise. */
export function nsArgv(ns: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new DsrlbError('E_TESTBED_EXEC', 'empty command');
  if (argv[0] === 'ip' && argv[1] !== 'netns') return ['ip', '-n', ns, ...argv.slice(1)];
  return ['ip', 'netns', 'exec', ns, ...argv];
}

function run(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
  const timeout = o.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0, signal: null, timedOut: false });
        const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: string | null; killed?: boolean };
        const code = typeof e.code === 'number' ? e.code : null;
        const signal = e.signal ?? null;
        const timedOut = Boolean(e.killed) && signal === 'SIGKILL';
        const extra = code === null && !signal ? `${e.message}\n` : '';
        resolve({ stdout: stdout ?? '', stderr: `${stderr ?? ''}${extra}`, code, signal, timedOut });
      },
    );
    // A command that exits before reading its input makes the write fail with EPIPE: its exit
    // status (above) is the answer, not that error.
    child.stdin?.on('error', () => {});
    if (o.input !== undefined) child.stdin?.end(o.input);
    else child.stdin?.end();
  });
}

function checked(argv: readonly string[], r: ExecResult, o: ExecOptions): ExecResult {
  if (o.check && r.code !== 0) {
    const why = r.timedOut ? `timed out after ${o.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS} ms` : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    throw new DsrlbError('E_TESTBED_EXEC', `${argv.join(' ')}: ${why}: ${r.stderr.trim()}`);
  }
  return r;
}

/** Runs argv inside namespace `ns` (which must exist) and returns its output; bounded by a timeout. */
export async function nsExec(ns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  assertNs(ns);
  const full = nsArgv(ns, argv);
  return checked(full, await run(full, opts), opts);
}

/**
 * Runs a root-namespace command. Only namespace creation/removal is allowed there: the testbed makes
 * nothing else in the root namespace.
 */
export async function rootExec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const ok = argv.length === 4 && argv[0] === 'ip' && argv[1] === 'netns' && (argv[2] === 'add' || argv[2] === 'del');
  if (!ok) throw new DsrlbError('E_TESTBED_ROOT_NS', `refusing to run in the root namespace: ${argv.join(' ')}`);
  checkNsName(argv[3]!);
  return checked(argv, await run(argv, opts), opts);
}

/** Starts argv inside namespace `ns` (which must exist) and returns the process (its PID is argv[0]'s: `ip netns exec` execs). */
export function spawnInNs(ns: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  assertNs(ns);
  const full = ['ip', 'netns', 'exec', ns, ...argv];
  return spawn(full[0]!, full.slice(1), opts);
}

/** PIDs of the processes whose network namespace is `name` (read from /proc; no command run). */
export function pidsInNs(name: string): number[] {
  const ino = nsInode(name);
  if (ino === null) return [];
  const want = `net:[${ino}]`;
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === want) out.push(Number(e));
    } catch {
      /* gone or not readable */
    }
  }
  return out;
}
