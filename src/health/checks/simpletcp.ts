/**
 * service=simpletcp (ldirectord check_simpletcp): connect, send the request string, close the sending
 * side, then read lines until one matches `receive`. Up on the first matching line; down when the
 * server closes without one, on a connection error, or after negotiatetimeout.
 */
import { connect } from 'node:net';
import { compileReceive, perlMatch } from '../receive.ts';
import type { Checker, SimpleTcpSpec } from '../types.ts';
import { bounded } from './bounded.ts';

/** Lines longer than this are tested as they are and then dropped. */
const MAX_LINE = 64 * 1024;

export const simpleTcpCheck: Checker<SimpleTcpSpec> = (spec, signal) => {
  const where = `${spec.address}:${spec.port}`;
  return bounded(spec.timeoutMs, signal, `simpletcp ${where}`, (done, onCleanup) => {
    const c = compileReceive(spec.receive);
    if (!c.ok) { done({ ok: false, detail: `bad receive pattern: ${c.error}` }); return; }
    const re = c.re;
    const matches = (line: string): boolean => re === null || perlMatch(re, line);
    let pending = '';
    let lines = 0;
    const sock = connect({ host: spec.address, port: spec.port });
    onCleanup(() => sock.destroy());
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.end(spec.payload));
    sock.on('data', (text: string) => {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        lines++;
        if (matches(line)) { done({ ok: true, detail: `matched: ${line.trimEnd().slice(0, 200)}` }); return; }
      }
      if (pending.length > MAX_LINE) {
        lines++;
        if (matches(pending)) { done({ ok: true, detail: 'matched a long line' }); return; }
        pending = '';
      }
    });
    sock.once('end', () => {
      if (pending !== '') {
        lines++;
        if (matches(pending)) { done({ ok: true, detail: `matched: ${pending.trimEnd().slice(0, 200)}` }); return; }
      }
      done({ ok: false, detail: lines === 0 ? `${where} closed without an answer` : `no line of the answer matches receive "${spec.receive}"` });
    });
    sock.once('error', (e) => done({ ok: false, detail: `simpletcp ${where}: ${e.message}` }));
  });
};
