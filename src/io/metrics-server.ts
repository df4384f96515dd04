/**
 * `--metrics ADDR`: an HTTP server for Prometheus. GET /metrics answers the text exposition built
 * by obs/prometheus.ts from what `collect` returns at scrape time; anything else is 404 (/ has a
 * one-line pointer). One scrape at a time per connection; a failing collect answers 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DsrlbError } from '../errors/index.ts';
import { prometheusText, type DirectorCounters, type MetricsExtra } from '../obs/index.ts';
import type { Logger } from '../ports/index.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ListenAddr {
  host: string;
  port: number;
}

/** Parses ADDR: "PORT", ":PORT", "HOST:PORT" or "[V6]:PORT" (an empty host means every address). */
export function parseListenAddr(s: string): ListenAddr {
  const t = s.trim();
  const m = /^\d+$/.test(t) ? [t, undefined, '', t] : /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(t);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new DsrlbError('E_METRICS_ADDR', `--metrics: "${s}" is not PORT, :PORT, HOST:PORT or [V6]:PORT`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface MetricsSource {
  /** The director's counters now (a packet-path snapshot). */
  snapshot(): Promise<DirectorCounters>;
  /** Rates, health and the rest, if the director has them. */
  extra?(): MetricsExtra | Promise<MetricsExtra>;
}

export interface MetricsServer {
  readonly address: ListenAddr;
  close(): Promise<void>;
}

export async function startMetricsServer(addr: string | ListenAddr, source: MetricsSource, log?: Logger): Promise<MetricsServer> {
  const where = typeof addr === 'string' ? parseListenAddr(addr) : addr;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('dsrlb metrics: /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const snap = await source.snapshot();
      const extra = source.extra ? await source.extra() : {};
      const body = prometheusText(snap, extra);
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      log?.warn({ err: (e as Error).message }, 'metrics scrape failed');
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`scrape failed: ${(e as Error).message}\n`);
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new DsrlbError('E_METRICS_LISTEN', `--metrics: cannot listen on ${where.host}:${where.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(where.port, where.host, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : where;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
