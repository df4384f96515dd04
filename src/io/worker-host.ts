/**
 * Control-side handle of the packet worker: starts src/io/packet-worker.ts as a child process with
 * an IPC channel, hands it the capture settings and the handler module, and relays messages.
 *
 * It is a process rather than a worker_thread because the libpcap binding cannot run off the main
 * thread (see packet-worker.ts). The isolation it buys is the same or better: a flood keeps the
 * worker's CPU busy, never the control process's event loop, and a native crash in the capture
 * ends the worker, not the control plane (the host then emits 'exit' and 'error').
 *
 * The worker runs TypeScript through tsx: its loader is passed with --import (resolved to an
 * absolute URL, so it works from vitest, from `node --import tsx` and from the CLI alike).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DsrlbError } from '../errors/index.ts';
import type { FrameIOStats, PacketIoOptions } from '../ports/index.ts';
import { assertIfaceName } from './cap.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

export interface PacketWorkerOptions {
  iface: string;
  filter: string;
  bufferSize: number;
  snaplen?: number;
  /** Absolute path or file: URL of a module exporting createHandler (ports/CreateHandler). */
  handlerModule: string | URL;
  handlerInit: unknown;
  /** Frame I/O backend and its options (default: pcap). */
  io?: PacketIoOptions;
  /** Start the worker inside this network namespace (`ip netns exec`): for testbeds and tests. */
  netns?: string;
  /** Node options for the worker; default: the tsx loader. */
  execArgv?: string[];
  /** Give up on start after this long (default 15 s). */
  startTimeoutMs?: number;
  /** Receives the handler's messages from the very start (those posted before 'ready' included). */
  onMessage?: (msg: unknown) => void;
}

export interface PacketWorkerInfo {
  iface: string;
  mac: string;
  prime: string;
  filter: string;
  backend: 'ring' | 'pcap';
}

/** The tsx loader as an absolute file: URL (resolved from this package, not from the cwd). */
export function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

export const WORKER_ENTRY = fileURLToPath(new URL('./packet-worker.ts', import.meta.url));

export class PacketWorker extends EventEmitter {
  readonly pid: number;
  info: PacketWorkerInfo | null = null;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (s: FrameIOStats) => void>();
  private stopping = false;
  private exited = false;
  private finalStats: FrameIOStats | null = null;
  private readonly exitPromise: Promise<void>;

  /** Use startPacketWorker(). */
  constructor(child: ChildProcess) {
    super();
    this.child = child;
    if (child.pid === undefined) throw new DsrlbError('E_WORKER_START', 'packet worker did not start');
    this.pid = child.pid;
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        for (const r of this.pending.values()) r({ received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 });
        this.pending.clear();
        if (!this.stopping) this.emit('error', new DsrlbError('E_WORKER_EXIT', `packet worker ${this.pid} exited (code ${code}, signal ${signal})`));
        this.emit('exit', code, signal);
        resolve();
      });
    });
    child.on('message', (raw) => this.onChildMessage(raw as FromWorker));
    child.on('error', (e) => this.emit('error', e));
  }

  private onChildMessage(msg: FromWorker): void {
    switch (msg.t) {
      case 'user':
        this.emit('message', msg.m);
        break;
      case 'stats': {
        const r = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        r?.(msg.s);
        break;
      }
      case 'stopped':
        this.finalStats = msg.s;
        break;
      case 'ready':
        this.info = { iface: msg.iface, mac: msg.mac, prime: msg.prime, filter: msg.filter, backend: msg.backend };
        this.emit('ready', this.info);
        break;
      case 'error':
        this.emit('workerError', new DsrlbError(msg.code, msg.message));
        break;
    }
  }

  /** @internal The raw channel (used by startPacketWorker for 'init'). */
  sendRaw(msg: ToWorker): boolean {
    if (this.exited || !this.child.connected) return false;
    try {
      return this.child.send(msg);
    } catch {
      return false;
    }
  }

  /** Sends a message to the handler's onMessage. False when the worker is gone. */
  post(msg: unknown): boolean {
    return this.sendRaw({ t: 'user', m: msg });
  }

  /** The capture counters, asked from the worker. */
  stats(timeoutMs = 5000): Promise<FrameIOStats> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DsrlbError('E_WORKER_TIMEOUT', 'packet worker did not answer a stats request'));
      }, timeoutMs);
      this.pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      if (!this.sendRaw({ t: 'stats', id })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new DsrlbError('E_WORKER_GONE', 'packet worker is not running'));
      }
    });
  }

  /**
   * Stops the worker: it closes the capture first (no send after that), then the handler, and
   * exits. Resolves with the final counters (null if the worker could not report them). A worker
   * that does not exit within timeoutMs is killed (SIGKILL, by its pid).
   */
  async stop(timeoutMs = 5000): Promise<FrameIOStats | null> {
    this.stopping = true;
    if (!this.exited) {
      if (!this.sendRaw({ t: 'stop' })) this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exitPromise.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut && !this.exited) {
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    return this.finalStats;
  }
}

/** Starts the packet worker and resolves once its capture is open and primed and the handler exists. */
export async function startPacketWorker(opts: PacketWorkerOptions): Promise<PacketWorker> {
  assertIfaceName(opts.iface);
  const handlerUrl = opts.handlerModule instanceof URL ? opts.handlerModule.href : opts.handlerModule;
  if (!handlerUrl.startsWith('file:') && !handlerUrl.startsWith('/')) {
    throw new DsrlbError('E_WORKER_HANDLER', `handlerModule must be an absolute path or a file: URL (got ${handlerUrl})`);
  }
  const nodeArgs = [...(opts.execArgv ?? ['--import', tsxLoaderUrl()]), WORKER_ENTRY];
  const [cmd, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  }).catch((e: unknown) => {
    throw new DsrlbError('E_WORKER_START', `cannot start the packet worker: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  const w = new PacketWorker(child);
  if (opts.onMessage) w.on('message', opts.onMessage);
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new DsrlbError('E_WORKER_TIMEOUT', `packet worker not ready after ${opts.startTimeoutMs ?? 15000} ms`)), opts.startTimeoutMs ?? 15000);
    const onReady = () => done(null);
    const onFail = (e: Error) => done(e);
    const onExit = () => done(new DsrlbError('E_WORKER_EXIT', 'packet worker exited before it was ready'));
    function done(e: Error | null): void {
      clearTimeout(timer);
      w.off('ready', onReady);
      w.off('workerError', onFail);
      w.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    }
    w.once('ready', onReady);
    w.once('workerError', onFail);
    w.once('exit', onExit);
  });
  // An 'error' emitted while starting is reported through `ready`'s rejection instead.
  const swallow = () => {};
  w.on('error', swallow);
  w.sendRaw({ t: 'init', init: { iface: opts.iface, filter: opts.filter, bufferSize: opts.bufferSize, snaplen: opts.snaplen, handlerUrl, handlerInit: opts.handlerInit, ...(opts.io ? { io: opts.io } : {}) } });
  try {
    await ready;
  } catch (e) {
    await w.stop(2000);
    throw e;
  } finally {
    w.off('error', swallow);
  }
  return w;
}
