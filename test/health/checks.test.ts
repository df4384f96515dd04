/**
 * The checkers against real servers on 127.0.0.1 (random ports), with short timeouts: every test is
 * bounded by the check's own timeout.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEchoRequest, connectCheck, dnsCheck, externalCheck, httpCheck, parseEchoReply, pingCheck, pingChecker,
  simpleTcpCheck, type RawSocket,
} from '../../src/health/checks/index.ts';
import { itAsRoot } from '../helpers/root.ts';
import { poll } from '../helpers/wait.ts';
import type { DnsSpec, HttpSpec } from '../../src/health/index.ts';
import {
  closeAll, closedPort, closedUdpPort, closingServer, dnsTcpServer, dnsUdpServer, httpServer, httpsServer, pingPongServer, silentServer,
} from './servers.ts';

const never = new AbortController().signal;

/** A process is gone when /proc has no entry or only a zombie (PID 1 may not reap in containers). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
let ports: Record<'http' | 'https' | 'closing' | 'silent' | 'closed' | 'pong' | 'dnsUdp' | 'dnsTcp', number>;
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-health-'));

beforeAll(async () => {
  ports = {
    http: await httpServer(), https: await httpsServer(), closing: await closingServer(), silent: await silentServer(),
    closed: await closedPort(), pong: await pingPongServer(), dnsUdp: await dnsUdpServer(), dnsTcp: await dnsTcpServer(),
  };
});
afterAll(async () => {
  await closeAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('connect check', () => {
  it('up when the port accepts', async () => {
    expect(await connectCheck({ checker: 'connect', address: '127.0.0.1', port: ports.http, timeoutMs: 1000 }, never)).toMatchObject({ ok: true });
    expect((await connectCheck({ checker: 'connect', address: '127.0.0.1', port: ports.closing, timeoutMs: 1000 }, never)).ok).toBe(true);
  });
  it('down when refused', async () => {
    const r = await connectCheck({ checker: 'connect', address: '127.0.0.1', port: ports.closed, timeoutMs: 1000 }, never);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });
});

describe('http / https negotiate check', () => {
  const h = (path: string, o: Partial<HttpSpec> = {}): HttpSpec => ({
    checker: 'http', url: `http://127.0.0.1:${ports.http}${path}`, method: 'GET', hostHeader: '127.0.0.1', receive: 'ok', timeoutMs: 1500, maxRedirects: 7, ...o,
  });

  it('200 with the expected body: up', async () => {
    expect(await httpCheck(h('/ok'), never)).toEqual({ ok: true, detail: '200 OK' });
  });
  it('receive is a regular expression, with Perl\'s $ before the final newline', async () => {
    expect((await httpCheck(h('/ok', { receive: 'st.tus: (ok|fine)$' }), never)).ok).toBe(true);
    expect((await httpCheck(h('/ok', { receive: '^ok' }), never)).ok).toBe(false);
  });
  it('200 without the expected body: down', async () => {
    const r = await httpCheck(h('/other'), never);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/200 OK, but the body does not match receive "ok"/);
  });
  it('200 and no receive: up', async () => {
    expect((await httpCheck(h('/other', { receive: '' }), never)).ok).toBe(true);
  });
  it('500: down even when the body matches', async () => {
    expect(await httpCheck(h('/err'), never)).toEqual({ ok: false, detail: '500 Internal Server Error' });
  });
  it('404: down', async () => {
    expect((await httpCheck(h('/nothing', { receive: '' }), never)).detail).toBe('404 Not Found');
  });
  it('HEAD: status only; a receive cannot match an empty body (as in ldirectord)', async () => {
    expect((await httpCheck(h('/ok', { method: 'HEAD', receive: '' }), never)).ok).toBe(true);
    expect((await httpCheck(h('/ok', { method: 'HEAD' }), never)).ok).toBe(false);
  });
  it('sends virtualhost as the Host header', async () => {
    expect((await httpCheck(h('/host', { hostHeader: 'www.example.org', receive: '^host=www\\.example\\.org$' }), never)).ok).toBe(true);
    expect((await httpCheck(h('/host', { receive: '^host=127\\.0\\.0\\.1$' }), never)).ok).toBe(true);
  });
  it('follows redirects (up to maxRedirects)', async () => {
    expect((await httpCheck(h('/redir'), never)).ok).toBe(true);
    expect(await httpCheck(h('/loop', { receive: '' }), never)).toEqual({ ok: false, detail: '302 Found' });
    expect((await httpCheck(h('/redir', { maxRedirects: 0, receive: '' }), never)).ok).toBe(false);
  });
  it('a server that accepts and never answers: down at negotiatetimeout', async () => {
    const t0 = performance.now();
    const r = await httpCheck(h('/hang', { timeoutMs: 300 }), never);
    expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/^timeout after 300 ms/) });
    expect(performance.now() - t0).toBeLessThan(1500);
    const raw = await httpCheck({ ...h('/'), url: `http://127.0.0.1:${ports.silent}/`, timeoutMs: 300 }, never);
    expect(raw.detail).toMatch(/^timeout after 300 ms/);
  });
  it('a server that closes at once / a closed port: down', async () => {
    expect((await httpCheck({ ...h('/'), url: `http://127.0.0.1:${ports.closing}/` }, never)).ok).toBe(false);
    expect((await httpCheck({ ...h('/'), url: `http://127.0.0.1:${ports.closed}/` }, never)).detail).toMatch(/ECONNREFUSED/);
  });
  it('https with a self-signed certificate: accepted, as ldirectord does', async () => {
    const r = await httpCheck(h('/ok', { url: `https://127.0.0.1:${ports.https}/ok` }), never);
    expect(r).toEqual({ ok: true, detail: '200 OK' });
    expect((await httpCheck(h('/host', { url: `https://127.0.0.1:${ports.https}/host`, hostHeader: 'www.example.org', receive: 'host=www.example.org' }), never)).ok).toBe(true);
    expect((await httpCheck(h('/err', { url: `https://127.0.0.1:${ports.https}/err` }), never)).ok).toBe(false);
  });
  it('an abort ends the check at once', async () => {
    const ac = new AbortController();
    const p = httpCheck(h('/hang', { timeoutMs: 10_000 }), ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect((await p).detail).toMatch(/^aborted/);
  });
});

describe('simpletcp check', () => {
  const s = (port: number, payload: string, receive: string, timeoutMs = 1000) =>
    simpleTcpCheck({ checker: 'simpletcp', address: '127.0.0.1', port, payload, receive, timeoutMs }, never);

  it('sends the request, closes its side, matches a line of the answer', async () => {
    expect(await s(ports.pong, 'PING\n', '^\\+PONG')).toEqual({ ok: true, detail: 'matched: +PONG' });
    expect((await s(ports.pong, 'PING\n', 'PONG\\r$')).ok).toBe(true);
  });
  it('no line matches: down', async () => {
    expect(await s(ports.pong, 'HELLO\n', 'PONG')).toEqual({ ok: false, detail: 'no line of the answer matches receive "PONG"' });
  });
  it('closed without an answer, refused, silent: down', async () => {
    expect((await s(ports.closing, 'x', '')).ok).toBe(false);
    expect((await s(ports.closed, 'x', '')).detail).toMatch(/ECONNREFUSED/);
    expect((await s(ports.silent, 'x', '', 300)).detail).toMatch(/^timeout after 300 ms/);
  });
});

describe('dns check', () => {
  const d = (o: Partial<DnsSpec>): DnsSpec => ({
    checker: 'dns', address: '127.0.0.1', port: ports.dnsUdp, transport: 'udp', name: 'www.example.org', qtype: 'A', receive: '', timeoutMs: 1000, ...o,
  });
  it('an answer comes: up; receive must be one of the addresses', async () => {
    expect(await dnsCheck(d({}), never)).toEqual({ ok: true, detail: '2 answer record(s)' });
    expect(await dnsCheck(d({ receive: '10.0.0.7' }), never)).toEqual({ ok: true, detail: 'A 10.0.0.7' });
    expect((await dnsCheck(d({ receive: '10.0.0.8' }), never)).detail).toMatch(/response mismatch: want 10.0.0.8, got 10.0.0.6, 10.0.0.7/);
  });
  it('PTR queries match the name', async () => {
    expect((await dnsCheck(d({ name: '7.0.0.10.in-addr.arpa', qtype: 'PTR', receive: 'www.example.org' }), never)).ok).toBe(true);
  });
  it('NXDOMAIN, silence, garbage: down', async () => {
    expect((await dnsCheck(d({ name: 'nope.example' }), never)).detail).toBe('no answer records (NXDOMAIN)');
    expect((await dnsCheck(d({ name: 'silent.example', timeoutMs: 400 }), never)).detail).toMatch(/^timeout after 400 ms/);
    expect((await dnsCheck(d({ name: 'garbage.example' }), never)).detail).toMatch(/^malformed DNS answer/);
  });
  it('a closed UDP port: down at once (ICMP port unreachable), not at the timeout', async () => {
    const t0 = performance.now();
    expect((await dnsCheck(d({ port: await closedUdpPort(), timeoutMs: 5000 }), never)).detail).toMatch(/ECONNREFUSED/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
  it('over TCP for a TCP service', async () => {
    expect((await dnsCheck(d({ transport: 'tcp', port: ports.dnsTcp, receive: '10.0.0.6' }), never)).ok).toBe(true);
    expect((await dnsCheck(d({ transport: 'tcp', port: ports.closed }), never)).detail).toMatch(/ECONNREFUSED/);
  });
});

describe('external check', () => {
  const e = (command: string, timeoutMs = 2000, args = ['10.0.0.1', '80', '10.0.0.2', '8080']) =>
    externalCheck({ checker: 'external', command, args, perl: false, timeoutMs }, never);

  it('exit 0 = up, other = down, missing command = down', async () => {
    expect((await e('/bin/true')).ok).toBe(true);
    expect(await e('/bin/false')).toMatchObject({ ok: false, detail: expect.stringMatching(/exit 1$/) });
    expect((await e('/nonexistent/check')).detail).toMatch(/cannot run \/nonexistent\/check/);
  });
  it('gets VIP VPORT RIP RPORT', async () => {
    const script = join(tmp, 'args.sh');
    const out = join(tmp, 'args.out');
    writeFileSync(script, `#!/bin/sh\necho "$@" > ${out}\n`);
    chmodSync(script, 0o755);
    expect((await e(script)).ok).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe('10.0.0.1 80 10.0.0.2 8080\n');
  });
  it('killed after checktimeout, with everything it started', async () => {
    const script = join(tmp, 'slow.sh');
    const pidFile = join(tmp, 'slow.pid');
    writeFileSync(script, `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\nwait\n`);
    chmodSync(script, 0o755);
    const t0 = performance.now();
    const r = await e(script, 300);
    expect(r.detail).toMatch(/^timeout after 300 ms/);
    expect(performance.now() - t0).toBeLessThan(1500);
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    // Killed with the script's process group: gone within a bounded wait (not a fixed sleep).
    expect(await poll(() => !alive(sleepPid), { timeoutMs: 2000, intervalMs: 10 })).toBeGreaterThanOrEqual(0);
  });
  it('sleep longer than the timeout: down', async () => {
    expect((await e('sleep 5', 200)).ok).toBe(false);
  });
});

describe('ping check', () => {
  it('builds an echo request with a valid checksum and reads replies after the IP header', () => {
    const req = buildEchoRequest(0x1234, 7);
    expect(req[0]).toBe(8);
    let sum = 0;
    for (let i = 0; i < req.length; i += 2) sum += (req[i]! << 8) | req[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    const reply = Buffer.concat([ip, req]);
    reply[20] = 0;
    expect(parseEchoReply(reply)).toEqual({ id: 0x1234, seq: 7 });
    reply[20] = 8;
    expect(parseEchoReply(reply)).toBeNull();
  });

  itAsRoot('127.0.0.1 answers (raw ICMP socket, root)', async () => {
    const r = await pingCheck({ checker: 'ping', address: '127.0.0.1', count: 1, timeoutMs: 1000 }, never);
    expect(r).toMatchObject({ ok: true, detail: expect.stringMatching(/^echo reply from 127\.0\.0\.1/) });
  });
  itAsRoot('a send the kernel refuses (broadcast without SO_BROADCAST): down at once', async () => {
    const r = await pingCheck({ checker: 'ping', address: '255.255.255.255', count: 3, timeoutMs: 2000 }, never);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/EACCES|permission|not permitted/i);
  });

  /** A socket that records what is sent, answers nothing unless told, and can fail sends. */
  function fakeSocket(o: { reply?: (req: Buffer, to: string) => Buffer | null; sendError?: string } = {}) {
    const sent: string[] = [];
    let closed = false;
    let onMsg: ((b: Buffer, s: string) => void) | null = null;
    const sock: RawSocket = {
      on(ev: string, cb: (...a: never[]) => void) { if (ev === 'message') onMsg = cb as unknown as (b: Buffer, s: string) => void; },
      send(buf, _off, _len, addr, _before, after) {
        sent.push(addr);
        setTimeout(() => {
          if (o.sendError) { after(new Error(o.sendError), 0); return; }
          after(null, buf.length);
          const rep = o.reply?.(buf, addr);
          if (rep) onMsg?.(rep, addr);
        }, 1);
      },
      close() { closed = true; },
    } as RawSocket;
    return { sock, sent, isClosed: () => closed };
  }
  const asReply = (req: Buffer): Buffer => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    const icmp = Buffer.from(req);
    icmp[0] = 0;
    return Buffer.concat([ip, icmp]);
  };

  it('no answer: count attempts of timeout each, then down; the socket is closed', async () => {
    const f = fakeSocket();
    const t0 = performance.now();
    const r = await pingChecker(() => f.sock)({ checker: 'ping', address: '10.9.9.9', count: 3, timeoutMs: 100 }, never);
    expect(r).toEqual({ ok: false, detail: 'timeout after 100 ms (ping 10.9.9.9) (3 attempts)' });
    expect(f.sent).toEqual(['10.9.9.9', '10.9.9.9', '10.9.9.9']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(f.isClosed()).toBe(true);
  });
  it('a reply to another identifier or from another address does not count', async () => {
    const wrongId = fakeSocket({ reply: (req) => { const r = asReply(req); r[24] ^= 0xff; return r; } });
    expect((await pingChecker(() => wrongId.sock)({ checker: 'ping', address: '10.9.9.9', count: 1, timeoutMs: 100 }, never)).ok).toBe(false);
    const right = fakeSocket({ reply: asReply });
    expect((await pingChecker(() => right.sock)({ checker: 'ping', address: '10.9.9.9', count: 1, timeoutMs: 100 }, never)).ok).toBe(true);
  });
  it('a failed send or a socket that cannot be opened: down', async () => {
    const f = fakeSocket({ sendError: 'EHOSTUNREACH' });
    expect((await pingChecker(() => f.sock)({ checker: 'ping', address: '10.9.9.9', count: 1, timeoutMs: 1000 }, never)).detail).toBe('ping 10.9.9.9: EHOSTUNREACH');
    const none = await pingChecker(() => { throw new Error('EPERM'); })({ checker: 'ping', address: '10.9.9.9', count: 1, timeoutMs: 100 }, never);
    expect(none.detail).toMatch(/raw ICMP socket .*EPERM/);
  });
});
