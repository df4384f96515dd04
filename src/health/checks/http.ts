/**
 * service=http / https negotiate checks, as ldirectord's check_http() does them with LWP: one request
 * (GET or HEAD) for the URL built by spec.ts, Host header = virtualhost or the real's address, any
 * certificate accepted (verify_hostname => 0), redirects followed (LWP's default: 7, the Host header
 * dropped on the way), up when the final answer is 2xx and the body contains `receive`. One
 * deadline (negotiatetimeout) covers the whole exchange, like ldirectord's alarm().
 */
import http from 'node:http';
import https from 'node:https';
import { compileReceive, perlMatch } from '../receive.ts';
import type { Checker, HttpSpec } from '../types.ts';
import { bounded, type Done, type OnCleanup } from './bounded.ts';

/** Bodies are read up to this size; `receive` is matched against what was read. */
export const MAX_BODY = 4 * 1024 * 1024;

export const httpCheck: Checker<HttpSpec> = (spec, signal) =>
  bounded(spec.timeoutMs, signal, `${spec.method} ${spec.url}`, (done, onCleanup) => {
    const c = compileReceive(spec.receive);
    if (!c.ok) { done({ ok: false, detail: `bad receive pattern: ${c.error}` }); return; }
    request(spec, c.re, spec.url, spec.hostHeader, 0, done, onCleanup);
  });

function request(
  spec: HttpSpec, re: RegExp | null, url: string, host: string | null, redirects: number, done: Done, onCleanup: OnCleanup,
): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    done({ ok: false, detail: `bad URL: ${url}` });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    done({ ok: false, detail: `not an http(s) URL: ${url}` });
    return;
  }
  const headers: Record<string, string> = { 'User-Agent': 'dsrlb-healthcheck', Connection: 'close' };
  if (host !== null) headers.Host = host;
  const opts = { method: spec.method, headers, agent: false as const };
  const req = u.protocol === 'https:'
    ? https.request(u, { ...opts, rejectUnauthorized: false })
    : http.request(u, opts);
  onCleanup(() => req.destroy());
  req.on('error', (e) => done({ ok: false, detail: `${spec.method} ${url}: ${e.message}` }));
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    const line = `${status} ${res.statusMessage ?? ''}`.trim();
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && redirects < spec.maxRedirects) {
      res.resume();
      let next: string;
      try {
        next = new URL(location, u).toString();
      } catch {
        done({ ok: false, detail: `${line}: bad Location ${location}` });
        return;
      }
      request(spec, re, next, null, redirects + 1, done, onCleanup);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size >= MAX_BODY) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    res.on('error', (e) => done({ ok: false, detail: `${line}: ${e.message}` }));
    res.on('end', () => {
      if (status < 200 || status > 299) { done({ ok: false, detail: line }); return; }
      if (re === null || perlMatch(re, Buffer.concat(chunks).toString('utf8'))) { done({ ok: true, detail: line }); return; }
      done({ ok: false, detail: `${line}, but the body does not match receive "${spec.receive}"` });
    });
  });
  req.end();
}
