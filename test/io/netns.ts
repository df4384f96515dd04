/**
 * Namespace helpers for the io tests. Every namespace is named `dsrio<pid><suffix>`, is created by
 * the test that uses it and deleted in its cleanup; processes are started by us and killed by PID.
 * Nothing here sends a frame from the root namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function nsName(suffix: string, prefix = 'dsrio'): string {
  return `${prefix}${process.pid}${suffix}`;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, timeout: 15_000, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function nsExists(name: string): boolean {
  return sh('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === name);
}

/** Runs a command inside a namespace that must exist. */
export function nsRun(ns: string, cmd: string, args: string[], input?: string): string {
  if (!nsExists(ns)) throw new Error(`namespace ${ns} does not exist`);
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

export interface Link {
  ns: string;
  dev: string;
  mac: string;
  ip?: string;
}

/**
 * A set of namespaces with veth links between them; `destroy()` kills the processes started through
 * it (by PID) and deletes the namespaces, and is safe to call twice.
 */
export class Topology {
  readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  /** `prefix`: the namespace name prefix (default dsrio; each test file family may use its own). */
  constructor(private readonly prefix = 'dsrio') {}

  addNs(suffix: string): string {
    const ns = nsName(suffix, this.prefix);
    if (nsExists(ns)) sh('ip', ['netns', 'del', ns]);
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    nsRun(ns, 'ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces of this topology, both ends up. */
  veth(a: Link, b: Link): void {
    for (const l of [a, b]) if (!this.namespaces.includes(l.ns)) throw new Error(`${l.ns} is not ours`);
    // Both ends are created directly inside their namespaces: nothing appears in the root namespace.
    sh('ip', ['link', 'add', 'name', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns]);
    for (const l of [a, b]) {
      nsRun(l.ns, 'ip', ['link', 'set', l.dev, 'address', l.mac]);
      if (l.ip) nsRun(l.ns, 'ip', ['addr', 'add', l.ip, 'dev', l.dev]);
      nsRun(l.ns, 'ip', ['link', 'set', l.dev, 'up']);
    }
  }

  /**
   * Starts `node --import tsx SCRIPT ARGS` inside a namespace, with a JSON-line channel; `wrap` is a
   * command put in front of node (e.g. setpriv to drop capabilities).
   */
  node(ns: string, script: string, args: string[] = [], wrap: string[] = []): LineProc {
    if (!this.namespaces.includes(ns) || !nsExists(ns)) throw new Error(`namespace ${ns} is not ours or does not exist`);
    const child = spawn('ip', ['netns', 'exec', ns, ...wrap, process.execPath, '--import', 'tsx', script, ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.children.push(child);
    return new LineProc(child);
  }

  destroy(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    this.children.length = 0;
    for (const ns of this.namespaces.splice(0)) {
      try {
        if (nsExists(ns)) sh('ip', ['netns', 'del', ns]);
      } catch {
        /* keep going: delete the others */
      }
    }
  }
}

/** A child speaking one JSON object per line on stdout; `cmd` writes a line and awaits the answer. */
export class LineProc {
  private readonly queue: string[] = [];
  private waiter: ((l: string | null) => void) | null = null;
  private ended = false;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(l);
      } else this.queue.push(l);
    });
    this.exited = new Promise((r) =>
      child.once('exit', (code) => {
        this.ended = true;
        if (this.waiter) this.waiter(null);
        r(code);
      }),
    );
  }

  next(timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const l = this.queue.shift();
    if (l !== undefined) return Promise.resolve(JSON.parse(l) as Record<string, unknown>);
    if (this.ended) return Promise.reject(new Error('process ended'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error('no answer in time'));
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(t);
        if (line === null) reject(new Error('process ended'));
        else resolve(JSON.parse(line) as Record<string, unknown>);
      };
    });
  }

  async cmd(line: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    this.child.stdin!.write(line + '\n');
    const r = await this.next(timeoutMs);
    if (r.ok === false) throw new Error(`${line.split(' ')[0]}: ${String(r.error)}`);
    return r;
  }

  /** Writes a line without waiting for an answer. */
  write(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  async quit(): Promise<void> {
    if (this.ended) return;
    this.child.stdin!.write('quit\n');
    this.child.stdin!.end();
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
