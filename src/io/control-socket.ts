/**
 * The director's control socket: a unix stream socket carrying one JSON request per line and one
 * JSON answer per line. The default path carries this network namespace's identity, so that
 * `dsrlb ipvsadm` run inside a namespace finds the director of that namespace without flags.
 */
import { mkdirSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
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

/** Control sockets of directors running in this network namespace. */
export function findControlSockets(): string[] {
  const prefix = `net${netnsId()}-`;
  try {
    return readdirSync(CONTROL_DIR)
      .filter((n) => n.startsWith(prefix) && n.endsWith('.sock'))
      .map((n) => join(CONTROL_DIR, n))
      .filter((p) => statSync(p).isSocket());
  } catch {
    return [];
  }
}

export type ControlHandler = (req: Record<string, unknown>) => Promise<unknown>;

/** Serves `handler` on a unix socket (a stale socket file from a crash is replaced). */
export async function serveControl(path: string, handler: ControlHandler): Promise<Server> {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
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
