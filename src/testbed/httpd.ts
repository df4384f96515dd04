/**
 * The testbed's real-server web server: HTTP and HTTPS on 0.0.0.0 (so it serves both the host's own
 * address and the VIP held on lo). `/ping.cgi` answers `ok` (ldirectord's check in the seed), `/`
 * answers the host's name, anything else 404.
 *
 * Run inside a host's namespace:
 *   ip netns exec dsr-www1 node --import tsx src/testbed/httpd.ts --name www1 --cert C --key K
 * It prints one `ready` line when both ports listen, and exits cleanly on SIGTERM/SIGINT.
 */

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface HttpdReply {
  status: number;
  body: string;
}

/** Pure: the reply of host `name` to a request. */
export function httpdReply(name: string, method: string, url: string): HttpdReply {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'method not allowed\n' };
  const path = url.split('?')[0];
  if (path === '/ping.cgi') return { status: 200, body: 'ok\n' };
  if (path === '/') return { status: 200, body: `${name}\n` };
  const bytes = /^\/bytes\/(\d{1,8})$/.exec(path ?? '');
  if (bytes && Number(bytes[1]) <= 16 << 20) return { status: 200, body: 'x'.repeat(Number(bytes[1])) };
  return { status: 404, body: 'not found\n' };
}

export interface HttpdOptions {
  name: string;
  host?: string;
  httpPort?: number;
  /** HTTPS is served when cert and key are given. */
  httpsPort?: number;
  cert?: string;
  key?: string;
}

export interface RunningHttpd {
  httpPort: number;
  httpsPort: number | null;
  close(): Promise<void>;
}

function handler(name: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const r = httpdReply(name, req.method ?? 'GET', req.url ?? '/');
    res.writeHead(r.status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(r.body),
      'x-real-server': name,
    });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  };
}

function listen(s: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      const a = s.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

/** Starts the servers (port 0 picks a free port: handy for tests without root). */
export async function startHttpd(o: HttpdOptions): Promise<RunningHttpd> {
  const host = o.host ?? '0.0.0.0';
  const h = handler(o.name);
  const http = createHttpServer(h);
  const servers: Server[] = [http];
  try {
    const httpPort = await listen(http, o.httpPort ?? 80, host);
    let httpsPort: number | null = null;
    if (o.cert && o.key) {
      const https = createHttpsServer({ cert: readFileSync(o.cert), key: readFileSync(o.key) }, h);
      servers.push(https);
      httpsPort = await listen(https, o.httpsPort ?? 443, host);
    }
    return { httpPort, httpsPort, close: async () => void (await Promise.all(servers.map(closeServer))) };
  } catch (e) {
    await Promise.all(servers.map((s) => (s.listening ? closeServer(s) : Promise.resolve())));
    throw e;
  }
}

/** Parses `--name N [--tag T] [--host H] [--http-port P] [--https-port P] [--cert F --key F]`. */
export function parseHttpdArgs(argv: readonly string[]): HttpdOptions & { tag?: string } {
  const o: HttpdOptions & { tag?: string } = { name: '' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value after ${k}`);
    i++;
    switch (k) {
      case '--name': o.name = v; break;
      case '--tag': o.tag = v; break;
      case '--host': o.host = v; break;
      case '--http-port': o.httpPort = Number(v); break;
      case '--https-port': o.httpsPort = Number(v); break;
      case '--cert': o.cert = v; break;
      case '--key': o.key = v; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!o.name) throw new Error('--name is required');
  return o;
}

async function main(): Promise<void> {
  const o = parseHttpdArgs(process.argv.slice(2));
  const srv = await startHttpd(o);
  process.stdout.write(`httpd ${o.name} ready pid=${process.pid} http=${srv.httpPort} https=${srv.httpsPort ?? '-'}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void srv.close().then(() => {
      process.stdout.write(`httpd ${o.name} stopped\n`);
      process.exitCode = 0;
    });
    // closeAllConnections() ends kept-alive clients, so close() completes; the stopper
    // (daemon.ts) still bounds the wait and sends SIGKILL after it.
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`httpd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
