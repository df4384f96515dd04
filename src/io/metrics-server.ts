/**
 * `--metrics ADDR`: an HTTP server for Prometheus. GET /metrics answers the text exposition of one
 * prom-client registry: the director's families (obs/prometheus.ts), whose collectors read what
 * `source` returns at scrape time, then prom-client's default process and Node.js metrics of the
 * control process (CPU, memory, file descriptors, event-loop lag, GC, heap). Those read process
 * state, so they are wired here and not in obs/. Anything but /metrics is 404 (/ has a one-line
 * pointer); the registry is read by one scrape at a time; a failing source answers 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DsrlbError } from '../errors/index.ts';
import { exposition, registerDirectorMetrics, type DirectorCounters, type DirectorScrape, type MetricsExtra } from '../obs/index.ts';
import type { Logger } from '../ports/index.ts';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

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

/**
 * The registry a metrics server serves: the director's families reading `scrape()`, then the process
 * metrics (prom-client's collectDefaultMetrics: process_cpu_*, process_resident_memory_bytes,
 * nodejs_eventloop_lag_*, nodejs_heap_*, nodejs_gc_duration_seconds, ...).
 */
export function controlRegistry(scrape: () => DirectorScrape | null): Registry {
  const registry = new Registry();
  registerDirectorMetrics(registry, scrape);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Renders the exposition for one source: the director's families read from a snapshot fetched per
 * request, and the control process's own metrics. Used by the metrics server and the web console.
 */
export function metricsScraper(source: MetricsSource): () => Promise<string> {
  let current: DirectorScrape | null = null;
  const registry = controlRegistry(() => current);
  // Snapshots are fetched per request (a slow one delays only its own scrape); the registry is read
  // by one scrape at a time, as its collectors read `current`, the snapshot of the scrape in progress.
  let queue: Promise<unknown> = Promise.resolve();
  return async (): Promise<string> => {
    const snap = await source.snapshot();
    const extra = source.extra ? await source.extra() : {};
    const run = queue.then(async () => {
      current = { snap, extra };
      try {
        return await exposition(registry);
      } finally {
        current = null;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

export async function startMetricsServer(addr: string | ListenAddr, source: MetricsSource, log?: Logger): Promise<MetricsServer> {
  const where = typeof addr === 'string' ? parseListenAddr(addr) : addr;
  const scrape = metricsScraper(source);
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
      const body = await scrape();
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
