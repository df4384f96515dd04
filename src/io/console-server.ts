/**
 * `--http ADDR`: the live web console's HTTP server (dsrlb run / dsrlb ha), in the control process.
 *
 *   GET /                the page (src/console/index.html), GET /console.js, /console.css its assets
 *   GET /events          server-sent events: `state` (the whole model on connecting, then at most
 *                        once a second the same bytes for every page, histories left out but for
 *                        their newest point), `event` (one event), `ladder` (a sampled flow)
 *   GET /state           the model now, as JSON
 *   GET /ladder/N.svg    a sampled flow's ladder (an image: SVG never runs script in <img>)
 *   GET /metrics         the Prometheus exposition of --metrics (the same function)
 *   POST /api/real       weight / quiesce / restore — only with --http-token FILE, with
 *                        "Authorization: Bearer TOKEN" (compared in constant time); else 404
 *
 * Every answer carries a strict Content-Security-Policy (no inline script or style, nothing from
 * elsewhere) and X-Content-Type-Options: nosniff. The assets are read once at start from the
 * folder that ships in the package; nothing comes from the network.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsrlbError } from '../errors/index.ts';
import { ipv6ToString, parseIPv6 } from '../model/index.ts';
import { type ConsoleEvent, type ConsoleLadder, type ConsoleState } from '../obs/index.ts';
import type { Logger } from '../ports/index.ts';
import { metricsScraper, parseListenAddr, PROMETHEUS_CONTENT_TYPE, type ListenAddr, type MetricsSource } from './metrics-server.ts';

/** The page's assets: a folder of their own, shipped with the package. */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../console/', import.meta.url));

export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** Every route the server answers (docs/console.md lists the same; a test compares them). */
export const CONSOLE_ROUTES = ['GET /', 'GET /console.js', 'GET /console.css', 'GET /events', 'GET /state', 'GET /ladder/N.svg', 'GET /metrics', 'POST /api/real'] as const;

/** ADDR for --http: "PORT" and ":PORT" mean 127.0.0.1 (the console is local unless told otherwise). */
export function parseConsoleAddr(s: string): ListenAddr {
  const t = s.trim();
  let a: ListenAddr;
  try {
    a = parseListenAddr(/^\d+$/.test(t) ? `127.0.0.1:${t}` : t.startsWith(':') ? `127.0.0.1${t}` : t);
  } catch {
    throw new DsrlbError('E_CONSOLE_ADDR', `--http: "${s}" is not PORT, :PORT, HOST:PORT or [V6]:PORT`);
  }
  return a;
}

/** Reads --http-token FILE: the first line, at least 16 characters. */
export function readConsoleToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DsrlbError('E_CONSOLE_TOKEN', `--http-token: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.split('\n')[0]!.trim();
  if (token.length < 16) throw new DsrlbError('E_CONSOLE_TOKEN', `--http-token: ${path} must hold a token of at least 16 characters on its first line`);
  return token;
}

/** Constant-time comparison of the presented token with the expected one (hashes: equal lengths). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface ConsoleWrite {
  /** Service: proto, VIP (dotted) and port; the real: address (dotted) and port. */
  proto: string;
  vip: string;
  port: number;
  addr: string;
  rport: number;
  action: 'weight' | 'quiesce' | 'restore';
  weight?: number;
}

export interface ConsoleSource {
  state(): ConsoleState;
  events(): ConsoleEvent[];
  ladders(): ConsoleLadder[];
  ladderSvg(id: number): string | null;
  metrics?: MetricsSource;
  /** Applies a write (the token has been checked); resolves a one-line description of what it did. */
  write?(w: ConsoleWrite, from: string): Promise<string>;
}

export interface ConsoleServer {
  readonly address: ListenAddr;
  /** Sends an SSE message to every open page. */
  broadcast(event: 'state' | 'event' | 'ladder', data: unknown): void;
  clients(): number;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  /** null: no writes (POST answers 404, the page shows no controls). */
  token: string | null;
  assetsDir?: string;
  /** At most this many open event streams (default 32). */
  maxClients?: number;
  log?: Logger;
}

const MAX_BODY = 4096;
const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/i;

function headers(type: string, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    'content-type': type,
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    ...extra,
  };
}

function sseFrame(event: string, data: unknown): string {
  // JSON has no raw newlines: one data line per message.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function startConsoleServer(addr: string | ListenAddr, source: ConsoleSource, o: ConsoleServerOptions): Promise<ConsoleServer> {
  const scrapeMetrics = source.metrics ? metricsScraper(source.metrics) : null;
  const where = typeof addr === 'string' ? parseConsoleAddr(addr) : addr;
  const dir = o.assetsDir ?? CONSOLE_ASSETS_DIR;
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [path, a] of Object.entries(ASSETS)) {
    try {
      assets.set(path, { body: readFileSync(join(dir, a.file)), type: a.type });
    } catch (e) {
      throw new DsrlbError('E_CONSOLE_ASSETS', `the console's ${a.file} is missing from ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const loopback = /^(127\.|::1$|::ffff:127\.)/.test(where.host) || where.host === 'localhost';
  const streams = new Set<ServerResponse>();
  const maxClients = o.maxClients ?? 32;
  const log = o.log;

  const text = (res: ServerResponse, code: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(code, headers('text/plain; charset=utf-8', extra)).end(body);
  };

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (streams.size >= maxClients) {
      text(res, 503, 'too many open consoles\n', { 'retry-after': '5' });
      return;
    }
    res.writeHead(200, headers('text/event-stream; charset=utf-8', { connection: 'keep-alive' }));
    res.write('retry: 2000\n\n');
    res.write(sseFrame('state', source.state()));
    for (const ev of source.events().slice(-50)) res.write(sseFrame('event', ev));
    for (const l of source.ladders()) res.write(sseFrame('ladder', l));
    streams.add(res);
    req.socket.setNoDelay(true);
    const drop = () => streams.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  };

  const write = async (req: IncomingMessage, res: ServerResponse) => {
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(auth);
    if (!m || !tokenMatches(m[1]!, o.token!)) {
      log?.warn({ from, path: req.url }, 'console write refused: missing or wrong token');
      req.resume();
      text(res, 401, 'a valid "Authorization: Bearer TOKEN" is required\n', { 'www-authenticate': 'Bearer' });
      return;
    }
    let body = '';
    let tooBig = false;
    req.setEncoding('utf8');
    for await (const chunk of req) {
      body += chunk as string;
      if (body.length > MAX_BODY) {
        tooBig = true;
        break;
      }
    }
    if (tooBig) {
      text(res, 413, 'request too large\n');
      return;
    }
    let w: ConsoleWrite;
    try {
      w = validateWrite(JSON.parse(body));
    } catch (e) {
      log?.warn({ from, err: (e as Error).message }, 'console write refused: malformed request');
      text(res, 400, `${(e as Error).message}\n`);
      return;
    }
    try {
      const done = await source.write!(w, from);
      res.writeHead(200, headers('application/json')).end(JSON.stringify({ ok: true, done }));
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'E_INTERNAL';
      log?.warn({ from, write: w, code, err: (e as Error).message }, 'console write failed');
      res.writeHead(409, headers('application/json')).end(JSON.stringify({ ok: false, code, message: (e as Error).message }));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    // Bound to loopback: only a loopback name in Host. A web page elsewhere whose name is made to
    // resolve to 127.0.0.1 (DNS rebinding) then cannot read the console through the browser.
    if (loopback && !LOOPBACK_HOST.test(req.headers.host ?? '')) {
      req.resume();
      text(res, 403, 'this console answers to 127.0.0.1, localhost or [::1] only\n');
      return;
    }
    if (path === '/api/real') {
      // Without a token file the write API does not exist.
      if (o.token === null || !source.write) {
        req.resume();
        text(res, 404, 'not found\n');
        return;
      }
      if (req.method !== 'POST') {
        text(res, 405, 'method not allowed\n', { allow: 'POST' });
        return;
      }
      await write(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const asset = assets.get(path);
    if (asset) {
      res.writeHead(200, headers(asset.type, { 'content-length': asset.body.length }));
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (path === '/events') {
      if (req.method === 'HEAD') res.writeHead(200, headers('text/event-stream; charset=utf-8')).end();
      else openStream(req, res);
      return;
    }
    if (path === '/state') {
      res.writeHead(200, headers('application/json')).end(JSON.stringify({ ...source.state(), events: source.events(), ladders: source.ladders() }));
      return;
    }
    const lm = /^\/ladder\/(\d+)\.svg$/.exec(path);
    if (lm) {
      const svg = source.ladderSvg(Number(lm[1]));
      if (svg === null) text(res, 404, 'no such ladder (only the last few are kept)\n');
      else res.writeHead(200, headers('image/svg+xml; charset=utf-8')).end(svg);
      return;
    }
    if (path === '/metrics' && scrapeMetrics) {
      try {
        const body = await scrapeMetrics();
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (e) {
        text(res, 503, `scrape failed: ${(e as Error).message}\n`);
      }
      return;
    }
    text(res, 404, 'not found\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log?.warn({ err: (e as Error).message }, 'console request failed');
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new DsrlbError('E_CONSOLE_LISTEN', `--http: cannot listen on ${where.host}:${where.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(where.port, where.host, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : where;
  // Keeps idle streams alive through proxies; the page also notices a silent server.
  const keepalive = setInterval(() => {
    for (const s of streams) s.write(': keepalive\n\n');
  }, 15_000);
  keepalive.unref();
  return {
    address,
    broadcast(event, data) {
      if (streams.size === 0) return;
      const frame = sseFrame(event, data);
      for (const s of streams) {
        // A page that does not read its stream is dropped rather than buffered without bound.
        if (s.writableLength > 1 << 20) {
          s.destroy();
          streams.delete(s);
          continue;
        }
        s.write(frame);
      }
    },
    clients: () => streams.size,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(keepalive);
        for (const s of streams) s.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Checks a write's JSON body field by field (anything else is refused). */
export function validateWrite(x: unknown): ConsoleWrite {
  const o = x as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new Error('the body must be a JSON object');
  const port = (v: unknown, what: string) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) throw new Error(`${what} must be a port number`);
    return v as number;
  };
  // A dotted IPv4 address, or an IPv6 one (returned in canonical text, as the state names it).
  const ip = (v: unknown, what: string) => {
    const m = typeof v === 'string' ? IPV4.exec(v) : null;
    if (m && !m.slice(1).some((p) => Number(p) > 255)) return v as string;
    const a6 = typeof v === 'string' ? parseIPv6(v) : null;
    if (a6 === null) throw new Error(`${what} must be a dotted IPv4 address or an IPv6 address`);
    return ipv6ToString(a6);
  };
  if (o.proto !== 'tcp' && o.proto !== 'udp') throw new Error('proto must be tcp or udp');
  if (o.action !== 'weight' && o.action !== 'quiesce' && o.action !== 'restore') throw new Error('action must be weight, quiesce or restore');
  const w: ConsoleWrite = { proto: o.proto, vip: ip(o.vip, 'vip'), port: port(o.port, 'port'), addr: ip(o.addr, 'addr'), rport: port(o.rport, 'rport'), action: o.action };
  if (o.action === 'weight') {
    if (!Number.isInteger(o.weight) || (o.weight as number) < 0 || (o.weight as number) > 65535) throw new Error('weight must be an integer 0..65535');
    w.weight = o.weight as number;
  }
  return w;
}
