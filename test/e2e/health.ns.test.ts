/**
 * ldirectord's control plane end to end: a real whose check fails is quiesced within
 * checkinterval × failurecount + checktimeout (+1 s), new connections avoid it while an
 * established one goes on; recovered, it gets its weight back; every real down → the fallback
 * serves. Runs as root in CI on its own testbed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  hostNamespace, nsExec, startServer, stopServer, VIP,
} from '../../src/testbed/index.ts';
import { countBy, curl, forEachIoBackend, useLab, waitFor } from './lab.ts';

const prefix = `dsrk${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const CONFIG = fileURLToPath(new URL('./fixtures/health.cf', import.meta.url));
// checkinterval × failurecount + the check's timeout (negotiatetimeout for an HTTP check) + 1 s
const BOUND_MS = (1 * 1 + 2 + 1) * 1000;

// Once per frame I/O backend (ring, pcap): the same testbed made anew for each.
forEachIoBackend(() => {
const lab = useLab(prefix, CONFIG);

async function weightOf(addr: string): Promise<number | undefined> {
  const s = await lab.director.snapshot();
  return s.services[0]!.reals.find((r) => r.addr === ip(addr))?.weight;
}
const ip = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);


describe('health checks drive the table', () => {
  it('failed check → weight 0 in time; new flows avoid it, an established one goes on; recovery restores the weight', async () => {
    // Both reals up first.
    expect(await waitFor(async () => (await weightOf('192.168.0.8')) === 1 && (await weightOf('192.168.0.9')) === 1, 5000)).toBeGreaterThanOrEqual(0);

    // A long-lived connection to www3, opened before its check fails.
    const longconn = fileURLToPath(new URL('./fixtures/longconn.mjs', import.meta.url));
    let p = null as ReturnType<typeof spawn> | null;
    let host = '';
    const lines: Array<Record<string, unknown>> = [];
    for (let attempt = 0; attempt < 4 && host !== 'www3'; attempt++) {
      p?.kill('SIGTERM');
      lines.length = 0;
      p = spawn('ip', ['netns', 'exec', client, process.execPath, longconn, VIP, '80'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let buf = '';
      p.stdout!.setEncoding('utf8').on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      });
      await waitFor(async () => lines.length >= 1, 3000);
      p.stdin!.write('go\n');
      await waitFor(async () => lines.length >= 2, 3000);
      host = String(lines[1]?.body ?? '');
    }
    expect(host).toBe('www3');
    try {
      // Make www3's checks fail without touching the client's connection: drop the director's
      // packets (source .7) to port 80 in www3.
      const www3 = hostNamespace(prefix, 'www3');
      await nsExec(www3, ['nft', '-f', '-'], {
        input: 'table inet dsrktest {\n chain checks {\n  type filter hook input priority 0;\n  ip saddr 192.168.0.7 tcp dport 80 drop\n }\n}\n',
      });
      const took = await waitFor(async () => (await weightOf('192.168.0.9')) === 0, BOUND_MS + 3000);
      expect(took).toBeGreaterThanOrEqual(0);
      expect(took).toBeLessThanOrEqual(BOUND_MS);

      const fresh: string[] = [];
      for (let i = 0; i < 4; i++) fresh.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
      expect(fresh).toEqual(['www2', 'www2', 'www2', 'www2']);
      p!.stdin!.write('go\n');
      await waitFor(async () => lines.length >= 3, 3000);
      expect(lines[2]!.body).toBe('www3');
      expect(lab.director.output()).toMatch(/"virtual":"tcp:192\.168\.0\.10:80","real":"192\.168\.0\.9:80","state":"quiesced","action":"weight","weight":0,"up":false,"reason":"[^"]+"/);

      await nsExec(www3, ['nft', 'delete', 'table', 'inet', 'dsrktest']);
      expect(await waitFor(async () => (await weightOf('192.168.0.9')) === 1, 5000)).toBeGreaterThanOrEqual(0);
      expect(lab.director.output()).toMatch(/"real":"192\.168\.0\.9:80","state":"up","action":"weight","weight":1,"up":true/);
    } finally {
      p!.stdin!.end();
      p!.kill('SIGTERM');
    }
  }, 60_000);

  it('every real down → the fallback (the director itself) serves; one back → fallback out', async () => {
    await stopServer('www2', { prefix });
    await stopServer('www3', { prefix });
    try {
      expect(await waitFor(async () => (await weightOf('192.168.0.7')) === 1, BOUND_MS + 3000)).toBeGreaterThanOrEqual(0);
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
      expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 3 });
      expect(lab.director.output()).toMatch(/fallback server in/);
    } finally {
      await startServer('www2', { prefix });
      await startServer('www3', { prefix });
    }
    expect(await waitFor(async () => (await weightOf('192.168.0.7')) === undefined, 8000)).toBeGreaterThanOrEqual(0);
    expect(lab.director.output()).toMatch(/fallback server out/);
    expect(await waitFor(async () => (await weightOf('192.168.0.8')) === 1 && (await weightOf('192.168.0.9')) === 1, 8000)).toBeGreaterThanOrEqual(0);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
    expect(new Set(answers)).toEqual(new Set(['www2', 'www3']));
  }, 60_000);
});
});
