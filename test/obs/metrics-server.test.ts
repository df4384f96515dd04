/** --metrics ADDR: address forms, and the HTTP server a Prometheus scrapes (on 127.0.0.1 only). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListenAddr, PROMETHEUS_CONTENT_TYPE, startMetricsServer, type MetricsServer } from '../../src/io/metrics-server.ts';
import type { DirectorCounters } from '../../src/obs/index.ts';

describe('parseListenAddr', () => {
  it('PORT, :PORT, HOST:PORT, [V6]:PORT', () => {
    expect(parseListenAddr('9100')).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(parseListenAddr(':9100')).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(parseListenAddr('127.0.0.1:9100')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseListenAddr('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListenAddr('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
  });
  it('refuses the rest', () => {
    for (const bad of ['', 'x', '1.2.3.4', '1.2.3.4:99999', '::1:80', 'a:b']) expect(() => parseListenAddr(bad)).toThrow(/--metrics/);
  });
});

describe('metrics server', () => {
  let ok = true;
  const snap: DirectorCounters = {
    at: 0, active: false, services: [], reasons: {}, forwarded: 5, local: 0, arpReplies: 0, fromVip: 0,
    io: { received: 5, sent: 5, sendErrors: 0, truncated: 0 }, connEntries: 0, connEvictions: 0,
  };
  let srv: MetricsServer;
  beforeAll(async () => {
    srv = await startMetricsServer('127.0.0.1:0', {
      snapshot: async () => {
        if (!ok) throw new Error('packet path gone');
        return snap;
      },
      extra: () => ({ startTimeSeconds: 1764162000 }),
    });
  });
  afterAll(async () => srv?.close());
  const url = (p: string) => `http://127.0.0.1:${srv.address.port}${p}`;

  it('GET /metrics: the exposition with its content type', async () => {
    const r = await fetch(url('/metrics'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const body = await r.text();
    expect(body).toMatch(/^dsrlb_forwarded_frames_total 5$/m);
    expect(body).toMatch(/^dsrlb_director_active 0$/m);
    expect(body).toMatch(/^dsrlb_start_time_seconds 1764162000$/m);
  });

  it('the control process\'s own metrics follow the director\'s: CPU, memory, event-loop lag (prom-client defaults)', async () => {
    const body = await (await fetch(url('/metrics'))).text();
    expect(body).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m);
    expect(body).toMatch(/^process_cpu_user_seconds_total [\d.e+-]+$/m);
    expect(Number(/^process_resident_memory_bytes (\d+)$/m.exec(body)?.[1])).toBeGreaterThan(1_000_000);
    expect(body).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_p99_seconds [\d.e+-]+$/m);
    expect(body.indexOf('# HELP dsrlb_connection_evictions_total')).toBeLessThan(body.indexOf('# HELP process_cpu_user_seconds_total'));
    expect(body).not.toMatch(/\n\n/);
  });

  it('concurrent scrapes each read their own snapshot (fetched concurrently, answered in any order)', async () => {
    let n = 0;
    const s2 = await startMetricsServer('127.0.0.1:0', {
      snapshot: async () => {
        const mine = ++n;
        await new Promise((r) => setTimeout(r, 20 * (3 - mine)));
        return { ...snap, forwarded: mine * 100 };
      },
      extra: async () => {
        await new Promise((r) => setTimeout(r, 5));
        return {};
      },
    });
    try {
      const bodies = await Promise.all([1, 2, 3].map(() => fetch(`http://127.0.0.1:${s2.address.port}/metrics`).then((r) => r.text())));
      const values = bodies.map((b) => Number(/^dsrlb_forwarded_frames_total (\d+)$/m.exec(b)?.[1])).sort();
      expect(values).toEqual([100, 200, 300]);
    } finally {
      await s2.close();
    }
  });

  it('404 elsewhere, 405 for other methods, 503 when the director cannot answer', async () => {
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
    ok = false;
    const r = await fetch(url('/metrics'));
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/packet path gone/);
    ok = true;
  });

  it('a port in use is a clear error', async () => {
    await expect(startMetricsServer(`127.0.0.1:${srv.address.port}`, { snapshot: async () => snap })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});
