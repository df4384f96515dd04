/**
 * A dsrlb director started on one testbed host (`dsrlb run` inside its namespace), for the demo,
 * the end-to-end tests and the benchmarks: waits until its control socket answers and every remote
 * real's MAC is resolved, and stops it by PID (SIGTERM, then SIGKILL if it hangs).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DsrlbError } from '../errors/index.ts';
import { controlRequest } from '../io/index.ts';
import { hostNamespace, type RealName } from './addresses.ts';
import { nsExists, spawnInNs } from './ns.ts';

export const DSRLB_BIN = fileURLToPath(new URL('../cli/dsrlb.mjs', import.meta.url));

/** What the director's snapshot looks like from outside (see engine/protocol.ts PacketSnapshot). */
export interface LabSnapshot {
  active: boolean;
  forwarded: number;
  local: number;
  arpReplies: number;
  fromVip: number;
  reasons: Record<string, number>;
  totals: { conns: number; inPkts: number; inBytes: number };
  services: Array<{
    spec: { proto: string; vip: number; port: number; scheduler: string };
    /** An IPv6 service: its VIP6 (spec.vip is then its fold). */
    vip6?: string;
    conns: number;
    reals: Array<{ addr: number; addr6?: string; port: number; weight: number; activeConns: number; inactConns: number; conns: number; inPkts: number; mac: string | null; local: boolean }>;
  }>;
  io: {
    received: number; sent: number; sendErrors: number; truncated: number;
    backend?: 'ring' | 'pcap'; workers?: number; kernelPackets?: number; kernelDrops?: number;
    residence?: { count: number; sum: number; buckets: Array<[number, number]> };
  };
  conns?: Array<{ caddr: number; cport: number; daddr: number; state: string }>;
}

export interface LabDirector {
  readonly pid: number;
  readonly control: string;
  /** Everything the director printed (JSON log lines and warnings). */
  output(): string;
  snapshot(conns?: boolean): Promise<LabSnapshot>;
  request(op: Record<string, unknown>): Promise<unknown>;
  /** SIGTERM and wait; SIGKILL after timeoutMs. Resolves with the exit code (null if killed). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash would (nothing cleaned up by the director itself). */
  kill(): Promise<void>;
}

export interface LabDirectorOptions {
  prefix: string;
  host?: RealName;
  /** Run in this namespace instead of the host's (the ECMP testbed's directors: `<prefix>-d1`…). */
  ns?: string;
  config: string;
  iface?: string;
  /**
   * Frame I/O backend (`--io`); default: the DSRLB_IO environment variable, else dsrlb's own default.
   * The e2e suites run once per backend with it.
   */
  io?: 'ring' | 'pcap';
  /** Extra `dsrlb run` arguments. */
  args?: string[];
  /** Give up waiting for readiness after this long (default 20 s). */
  readyTimeoutMs?: number;
  /** Wait until every remote real's MAC is resolved (default true). */
  waitForMacs?: boolean;
  /** Write the director's output to this file and detach it, so it outlives this process (demo --keep). */
  logFile?: string;
}

const fds = new Map<string, number>();
/** One append descriptor per log file (stdout and stderr share it). */
function logFd(file: string): number {
  let fd = fds.get(file);
  if (fd === undefined) {
    fd = openSync(file, 'a');
    fds.set(file, fd);
    setTimeout(() => {
      closeSync(fd!);
      fds.delete(file);
    }, 0);
  }
  return fd;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** DSRLB_IO=ring|pcap picks the lab director's backend (anything else: dsrlb's default). */
export function labIoFromEnv(env: NodeJS.ProcessEnv = process.env): 'ring' | 'pcap' | undefined {
  const v = env.DSRLB_IO;
  return v === 'ring' || v === 'pcap' ? v : undefined;
}

export async function startLabDirector(o: LabDirectorOptions): Promise<LabDirector> {
  const ns = o.ns ?? hostNamespace(o.prefix, o.host ?? 'www1');
  if (!nsExists(ns)) throw new DsrlbError('E_TESTBED_NO_NS', `namespace ${ns} does not exist: run "dsrlb testbed up --prefix ${o.prefix}" first`);
  const control = o.ns ? `/run/dsrlb/lab-${o.ns}.sock` : `/run/dsrlb/lab-${o.prefix}-${o.host ?? 'www1'}.sock`;
  rmSync(control, { force: true });
  const io = o.io ?? labIoFromEnv();
  const child: ChildProcess = spawnInNs(ns, [
    process.execPath, DSRLB_BIN, 'run', '--config', o.config, '--iface', o.iface ?? 'eth0', '--control', control, '--foreground',
    ...(io ? ['--io', io] : []), ...(o.args ?? []),
  ], o.logFile ? { stdio: ['ignore', logFd(o.logFile), logFd(o.logFile)], detached: true } : { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  if (o.logFile) child.unref();
  else {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  }
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve(code);
  }));

  const lab: LabDirector = {
    pid: child.pid!,
    control,
    output: () => (o.logFile ? readLog(o.logFile) : out),
    snapshot: (conns = false) => controlRequest(control, { op: 'snapshot', conns }) as Promise<LabSnapshot>,
    request: (op) => controlRequest(control, op),
    async stop(timeoutMs = 10_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exitCode !== undefined) throw new DsrlbError('E_LAB_DIRECTOR', `dsrlb run exited with code ${exitCode}:\n${out}`);
    try {
      const s = await lab.snapshot();
      const unresolved = s.services.flatMap((v) => v.reals).filter((r) => !r.local && r.mac === null);
      if (unresolved.length === 0 || o.waitForMacs === false) return lab;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await lab.stop();
      throw new DsrlbError('E_LAB_DIRECTOR', `director not ready after ${o.readyTimeoutMs ?? 20_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
