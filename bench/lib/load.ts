/**
 * The TCP loads, run in the client namespace: ab (connection rate, HTTP/1.0, one request per
 * connection) and the sequential latency client. Parsers are pure.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNs } from './exec.ts';
import type { LatencyOutput } from './latency-client.ts';
import type { SenderArgs, SenderOutput } from './udp-sender.ts';

export interface AbResult {
  complete: number;
  failed: number;
  non2xx: number;
  reqPerSec: number;
  /** Requests asked minus complete, plus failed, plus non-2xx answers. */
  failedTotal: number;
}

/** Reads ab's summary. `asked` is the -n given (requests never completed count as failed). */
export function parseAb(text: string, asked: number): AbResult | null {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const complete = num(/^Complete requests:\s+(\d+)/m);
  const rps = num(/^Requests per second:\s+([\d.]+)/m);
  if (complete === null || rps === null) return null;
  const failed = num(/^Failed requests:\s+(\d+)/m) ?? 0;
  const non2xx = num(/^Non-2xx responses:\s+(\d+)/m) ?? 0;
  return { complete, failed, non2xx, reqPerSec: rps, failedTotal: Math.max(0, asked - complete) + failed + non2xx };
}

export async function runAb(ns: string, url: string, o: { n: number; c: number }): Promise<AbResult> {
  // -r: count socket errors instead of stopping; -s 10: no request waits longer than 10 s.
  const r = await runInNs(ns, ['ab', '-q', '-r', '-s', '10', '-n', String(o.n), '-c', String(o.c), url], {
    timeoutMs: 30_000 + o.n * 5,
  });
  const res = parseAb(r.stdout, o.n);
  if (res === null) {
    // ab gave up without a summary: every request counts as failed.
    return { complete: 0, failed: o.n, non2xx: 0, reqPerSec: 0, failedTotal: o.n };
  }
  return res;
}

const LATENCY_CLIENT = fileURLToPath(new URL('./latency-client.ts', import.meta.url));

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

export function parseLatency(stdout: string): LatencyOutput | null {
  const line = stdout.trim().split('\n').pop();
  if (!line) return null;
  try {
    const o = JSON.parse(line) as LatencyOutput;
    if (!Array.isArray(o.connectUs) || !Array.isArray(o.requestUs) || typeof o.errors !== 'number') return null;
    return o;
  } catch {
    return null;
  }
}

export async function runLatency(ns: string, host: string, port: number, count: number): Promise<LatencyOutput> {
  const r = await runInNs(ns, [process.execPath, '--import', tsxLoader(), LATENCY_CLIENT, host, String(port), String(count)], {
    timeoutMs: 20_000 + count * 50,
  });
  const out = parseLatency(r.stdout);
  if (r.code !== 0 || out === null) {
    return { connectUs: [], requestUs: [], errors: count, firstError: `latency client failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim().slice(-300)}` };
  }
  return out;
}

const UDP_SENDER = fileURLToPath(new URL('./udp-sender.ts', import.meta.url));

/** The paced UDP sender in `ns` (see udp-sender.ts); bounded by its own deadline and a timeout. */
export async function runPacedSender(ns: string, a: SenderArgs): Promise<SenderOutput & { offeredPps: number }> {
  const r = await runInNs(ns, [process.execPath, '--import', tsxLoader(), UDP_SENDER, JSON.stringify(a)], {
    timeoutMs: Math.ceil((a.count / a.rate) * 3000) + 20_000,
  });
  let out: SenderOutput | null = null;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as SenderOutput;
  } catch {
    out = null;
  }
  if (r.code !== 0 || out === null || !(out.seconds > 0)) {
    throw new Error(`paced sender failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim().slice(-300)}`);
  }
  return { ...out, offeredPps: out.sent / out.seconds };
}
