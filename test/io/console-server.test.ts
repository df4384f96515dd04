/** The console's HTTP server without a director: headers, assets, SSE, token-gated writes. */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run as haCli } from '../../src/cli/commands/ha.ts';
import { run as runCli } from '../../src/cli/commands/run.ts';
import {
  CONSOLE_ASSETS_DIR, CONSOLE_CSP, CONSOLE_ROUTES, parseConsoleAddr, startConsoleServer, tokenMatches, validateWrite,
  type ConsoleServer, type ConsoleSource, type ConsoleWrite,
} from '../../src/io/index.ts';
import { ConsoleModel } from '../../src/obs/index.ts';

const TOKEN = 'x'.repeat(8) + 'secret-token-123';

function source(writes: ConsoleWrite[] | null): ConsoleSource {
  const model = new ConsoleModel({ mode: 'director', writable: writes !== null });
  model.event(1000, 'info', 'hello <script>alert(1)</script>');
  return {
    state: () => model.current(),
    events: () => model.recentEvents(),
    ladders: () => [{ id: 1, at: 1, title: 't', url: '/ladder/1.svg' }],
    ladderSvg: (id) => (id === 1 ? '<svg xmlns="http://www.w3.org/2000/svg"/>' : null),
    write: writes ? async (w) => {
      writes.push(w);
      return 'done';
    } : undefined,
  };
}

let srv: ConsoleServer | null = null;
afterEach(async () => {
  await srv?.close();
  srv = null;
});

const url = (p: string) => `http://127.0.0.1:${srv!.address.port}${p}`;
const body = { proto: 'tcp', vip: '192.168.0.10', port: 80, addr: '192.168.0.8', rport: 80, action: 'quiesce' };

describe('console server', () => {
  it('binds 127.0.0.1 for PORT and :PORT', () => {
    expect(parseConsoleAddr('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseConsoleAddr(':8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseConsoleAddr('0.0.0.0:81')).toEqual({ host: '0.0.0.0', port: 81 });
    expect(() => parseConsoleAddr('nope')).toThrow(/--http/);
  });

  it('serves the page with a strict CSP and no inline script, style or foreign URL', async () => {
    srv = await startConsoleServer('127.0.0.1:0', source(null), { token: null });
    const r = await fetch(url('/'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await r.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // every <script> has a src
    expect(html).not.toMatch(/<style|style=|\bon[a-z]+=/i);
    for (const f of ['index.html', 'console.js', 'console.css']) {
      const t = readFileSync(join(CONSOLE_ASSETS_DIR, f), 'utf8');
      expect(t, f).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      expect(t, f).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
    expect((await fetch(url('/console.js'))).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(url('/ladder/1.svg'))).headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect((await fetch(url('/ladder/2.svg'))).status).toBe(404);
    expect((await fetch(url('/nothing'))).status).toBe(404);
  });

  it('bound to loopback, answers only to a loopback Host (no DNS rebinding)', async () => {
    srv = await startConsoleServer('127.0.0.1:0', source(null), { token: null });
    const get = (host: string) => new Promise<number>((resolve, reject) => {
      const r = httpRequest({ host: '127.0.0.1', port: srv!.address.port, path: '/state', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      r.on('error', reject);
      r.end();
    });
    expect(await get(`127.0.0.1:${srv.address.port}`)).toBe(200);
    expect(await get(`localhost:${srv.address.port}`)).toBe(200);
    expect(await get('evil.example:80')).toBe(403);
    expect(await get('127.0.0.1.evil.example')).toBe(403);
  });

  it('streams the state and the recent events as server-sent events', async () => {
    srv = await startConsoleServer('127.0.0.1:0', source(null), { token: null });
    const ac = new AbortController();
    const r = await fetch(url('/events'), { signal: ac.signal });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body!.getReader();
    let text = '';
    const t0 = Date.now();
    while (!text.includes('event: ladder') && Date.now() - t0 < 5000) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/event: state\ndata: \{"at":0,"mode":"director","writable":false/);
    // JSON-encoded: the hostile text travels as data, the page puts it in as text.
    expect(text).toContain('"text":"hello <script>alert(1)</script>"');
    expect(srv.clients()).toBe(1);
    srv.broadcast('event', { id: 9, text: 'pushed' });
    while (!text.includes('pushed') && Date.now() - t0 < 5000) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('event: event\ndata: {"id":9,"text":"pushed"}');
    ac.abort();
  });

  it('has no write API without a token file', async () => {
    const writes: ConsoleWrite[] = [];
    const s = source(writes);
    srv = await startConsoleServer('127.0.0.1:0', s, { token: null });
    const r = await fetch(url('/api/real'), { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(404);
    expect(writes).toEqual([]);
  });

  it('refuses a write without the right token and does it with the token', async () => {
    const writes: ConsoleWrite[] = [];
    srv = await startConsoleServer('127.0.0.1:0', source(writes), { token: TOKEN });
    const post = (auth: string | null, b: unknown = body) => fetch(url('/api/real'), {
      method: 'POST', body: JSON.stringify(b), headers: auth ? { authorization: auth } : {},
    });
    expect((await post(null)).status).toBe(401);
    expect((await post(`Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await post(`Basic ${TOKEN}`)).status).toBe(401);
    expect(writes).toEqual([]);
    expect((await fetch(url('/api/real'))).status).toBe(405);
    expect((await post(`Bearer ${TOKEN}`, { ...body, action: 'drop' })).status).toBe(400);
    expect((await post(`Bearer ${TOKEN}`, { ...body, vip: '<script>' })).status).toBe(400);
    const ok = await post(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, done: 'done' });
    expect(writes).toEqual([body]);
  });

  it('compares tokens in constant time and checks writes field by field', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(validateWrite({ ...body, action: 'weight', weight: 3 })).toEqual({ ...body, action: 'weight', weight: 3 });
    expect(() => validateWrite({ ...body, action: 'weight', weight: -1 })).toThrow(/weight/);
    expect(() => validateWrite({ ...body, port: 70000 })).toThrow(/port/);
    expect(() => validateWrite({ ...body, addr: '1.2.3.400' })).toThrow(/addr/);
  });
});

describe('docs/console.md', () => {
  const doc = readFileSync(join(CONSOLE_ASSETS_DIR, '../../docs/console.md'), 'utf8');

  it('lists exactly the routes the server answers, and its CSP', () => {
    const rows = doc.split('\n').filter((l) => /^\| `(GET|POST) /.test(l)).map((l) => l.split('|')[1]!);
    const listed = rows.flatMap((c) => [...c.matchAll(/`((?:GET|POST) [^`]+)`/g)].map((m) => m[1]!));
    expect(listed.sort()).toEqual([...CONSOLE_ROUTES].sort());
    expect(doc).toContain(`Content-Security-Policy: ${CONSOLE_CSP}`);
  });

  it('names the flags that dsrlb run and dsrlb ha take', async () => {
    for (const cmd of [runCli, haCli]) {
      let out = '';
      await cmd(['--help'], { out: (s: string) => void (out += s), err: () => {} } as never);
      expect(out).toMatch(/--http ADDR/);
      expect(out).toMatch(/--http-token FILE/);
    }
    expect(doc).toMatch(/--http-token FILE/);
  });
});

describe('console model', () => {
  it('keeps a bounded rate history per real and bounded events', () => {
    const m = new ConsoleModel({ mode: 'director', writable: false, historyPoints: 3, maxEvents: 2 });
    const spec = { proto: 'tcp' as const, vip: 0xc0a8000a, port: 80, scheduler: 'wrr' };
    const snap = {
      at: 0,
      services: [{ spec, conns: 1, inPkts: 1, inBytes: 1, reals: [{ addr: 0xc0a80008, port: 80, weight: 1, activeConns: 1, inactConns: 2, persistConns: 0, uThreshold: 0, lThreshold: 0, conns: 1, inPkts: 1, inBytes: 1 }] }],
    };
    const rates = (at: number, pps: number) => ({ at, services: [{ proto: 'tcp' as const, vip: spec.vip, port: 80, rates: { cps: 0, inpps: pps, outpps: 0, inbps: 0, outbps: 0 }, reals: [{ addr: 0xc0a80008, port: 80, rates: { cps: 0, inpps: pps, outpps: 0, inbps: 0, outbps: 0 } }] }] });
    for (let i = 0; i < 5; i++) m.update(1000 * i, snap as never, rates(2000 * i, i), new Map(), new Map());
    m.update(9999, snap as never, rates(8000, 99), new Map(), new Map()); // same tick: no new point
    const r = m.current().services[0]!.reals[0]!;
    expect(r.name).toBe('192.168.0.8:80');
    expect(r.history!.map((p) => p[1])).toEqual([2, 3, 4]);
    // Sent every second: the newest point only.
    const c = m.compact().services[0]!.reals[0]!;
    expect(c.history).toBeUndefined();
    expect(c.point![1]).toBe(4);
    expect([r.active, r.inactive]).toEqual([1, 2]);
    for (let i = 0; i < 3; i++) m.event(i, 'info', `e${i}`);
    expect(m.recentEvents().map((e) => e.text)).toEqual(['e1', 'e2']);
  });
});
