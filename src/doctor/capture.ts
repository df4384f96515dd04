/**
 * Records what each testbed host sees on its wire while something runs: one `tcpdump -w` per host
 * namespace (client, www1, www2, www3), each writing `<dir>/<host>.pcap`, for `dsrlb explain`.
 *
 * Every tcpdump runs inside a namespace of the testbed (spawnInNs checks it exists first), is
 * bounded in packets and bytes, and is stopped by its own PID.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DsrlbError } from '../errors/index.ts';
import { HOST_NAMES, hostNamespace, nsExists, spawnInNs, type HostName } from '../testbed/index.ts';

export interface CaptureOptions {
  prefix: string;
  /** Folder for the pcap files (created when missing). */
  dir: string;
  /** Hosts to record at (default: all four). */
  hosts?: readonly HostName[];
  /** Interface inside each host (default eth0). */
  iface?: string;
  /** Stop each tcpdump after this many frames (default 20000). */
  maxPackets?: number;
  /** Bytes kept of each frame (default 0: the whole frame, which checksum checks need). */
  snaplen?: number;
  /** How long to wait for each tcpdump to start (default 5 s). */
  startTimeoutMs?: number;
}

export interface TestbedCapture {
  /** host -> pcap path. */
  readonly files: ReadonlyMap<HostName, string>;
  readonly pids: readonly number[];
  /** Stops every tcpdump (SIGTERM: it flushes and closes its file) and waits for it. Idempotent. */
  stop(): Promise<void>;
}

interface One {
  host: HostName;
  child: ChildProcess;
  exited: Promise<void>;
  done: boolean;
  err: string;
}

function waitListening(one: One, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new DsrlbError('E_CAPTURE_START', `tcpdump at ${one.host} did not start in ${timeoutMs} ms: ${one.err.trim()}`)), timeoutMs);
    const check = (): void => {
      if (one.err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    one.child.stderr!.on('data', check);
    one.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new DsrlbError('E_CAPTURE_START', `tcpdump at ${one.host} exited (code ${code}): ${one.err.trim()}`));
    });
    check();
  });
}

async function stopOne(one: One, timeoutMs = 5000): Promise<void> {
  if (one.done) return;
  one.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!one.done) one.child.kill('SIGKILL');
  }, timeoutMs);
  await one.exited;
  clearTimeout(timer);
}

/** Starts one tcpdump per host; resolves once every one of them listens. */
export async function startTestbedCapture(o: CaptureOptions): Promise<TestbedCapture> {
  const hosts = o.hosts ?? HOST_NAMES;
  const iface = o.iface ?? 'eth0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new DsrlbError('E_CAPTURE_ARGS', `bad interface name ${JSON.stringify(iface)}`);
  for (const h of hosts) {
    const ns = hostNamespace(o.prefix, h);
    if (!nsExists(ns)) throw new DsrlbError('E_TESTBED_NO_NS', `namespace ${ns} does not exist: run "dsrlb testbed up --prefix ${o.prefix}" first`);
  }
  mkdirSync(o.dir, { recursive: true });
  const files = new Map<HostName, string>();
  const all: One[] = [];
  try {
    for (const h of hosts) {
      const file = join(o.dir, `${h}.pcap`);
      files.set(h, file);
      const child = spawnInNs(hostNamespace(o.prefix, h), [
        'tcpdump', '-i', iface, '-nn', '-U', '--immediate-mode', '-s', String(o.snaplen ?? 0), '-c', String(o.maxPackets ?? 20_000), '-w', file,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      const one: One = { host: h, child, exited: Promise.resolve(), done: false, err: '' };
      one.exited = new Promise<void>((r) => child.once('exit', () => {
        one.done = true;
        r();
      }));
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (one.err += c));
      all.push(one);
    }
    await Promise.all(all.map((one) => waitListening(one, o.startTimeoutMs ?? 5000)));
  } catch (e) {
    await Promise.all(all.map((one) => stopOne(one)));
    throw e;
  }
  let stopped = false;
  return {
    files,
    pids: all.map((a) => a.child.pid!).filter((p) => p !== undefined),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Let the last frames reach the files before the signal.
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all(all.map((one) => stopOne(one)));
    },
  };
}
