/**
 * The monitor with its real checkers, real time (checkinterval=1) and real host adapters: an HTTP
 * server on 127.0.0.1 that can be told to fail, a maintenance directory on disk, a fallbackcommand
 * script. Bounded: every wait has a deadline of a few seconds.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { HealthMonitor, type RealChangeEvent } from '../../src/health/index.ts';
import { systemClock } from '../../src/io/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-health-int-'));
const maint = join(dir, 'maint');
let healthy = true;
const server = http.createServer((_req, res) => {
  if (healthy) res.writeHead(200).end('ok\n');
  else res.writeHead(503).end('down\n');
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'fb.sh'), `#!/bin/sh\necho "$1" >> ${join(dir, 'fb.log')}\n`);
  chmodSync(join(dir, 'fb.sh'), 0o755);
  mkdirSync(maint);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HealthMonitor with real checks and real time', () => {
  it('down on 503, up on 200, down for a maintenance file, fallbackcommand start/stop', async () => {
    const cfg = parseLdirectordConfig([
      'checkinterval=1', 'negotiatetimeout=1', 'quiescent=yes', `maintenancedir=${maint}`,
      'virtual=10.0.0.1:80', `\treal=127.0.0.1:${port} gate 4`, '\tservice=http', '\treceive="^ok$"',
      `\tfallbackcommand="${join(dir, 'fb.sh')}"`, '',
    ].join('\n'), 'int.cf');
    const changes: RealChangeEvent[] = [];
    const mon = new HealthMonitor(cfg, {
      clock: systemClock, sink: { onChange: (e) => changes.push(e), onFallback: () => undefined }, inTable: () => true, tickMs: 20,
    });
    const last = () => changes[changes.length - 1]!;
    try {
      mon.start();
      expect(last()).toMatchObject({ up: true, weight: 4 });
      healthy = false;
      await waitFor(() => !last().up, 2500);
      expect(last()).toMatchObject({ action: 'weight', weight: 0, reason: 'check failed (1/1): 503 Service Unavailable' });
      healthy = true;
      await waitFor(() => last().up, 2500);
      expect(last()).toMatchObject({ action: 'weight', weight: 4 });
      writeFileSync(join(maint, '127.0.0.1'), '');
      await waitFor(() => !last().up, 2500);
      expect(last().reason).toBe(`server in maintenance: ${maint}/127.0.0.1`);
      unlinkSync(join(maint, '127.0.0.1'));
      await waitFor(() => last().up, 2500);
      const log = join(dir, 'fb.log');
      await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').filter(Boolean).length >= 5, 2000);
      expect(readFileSync(log, 'utf8')).toBe('stop\nstart\nstop\nstart\nstop\n');
      expect(mon.status()[0]).toMatchObject({ up: true, lastOk: true, lastError: null });
      expect(mon.status()[0]!.lastLatencyMs).toBeLessThan(1000);
    } finally {
      mon.stop();
    }
  }, 15_000);
});
