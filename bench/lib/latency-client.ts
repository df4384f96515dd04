/**
 * Sequential TCP connections, timed: run INSIDE the client namespace by the benchmark
 * (`node --import tsx bench/lib/latency-client.ts HOST PORT COUNT`).
 *
 * For each connection: connect time (net.connect → 'connect', i.e. the SYN / SYN-ACK round trip plus
 * Node's own overhead) and connect+request time (→ the whole HTTP/1.0 answer read and the server's
 * close seen). One connection at a time; every one bounded (3 s); the whole run bounded by COUNT.
 * Prints one JSON object: { connectUs: number[], requestUs: number[], errors, firstError }.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export interface LatencyOutput {
  connectUs: number[];
  requestUs: number[];
  errors: number;
  firstError: string | null;
}

function once(host: string, port: number, timeoutMs: number): Promise<{ connectUs: number; requestUs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let t1 = 0n;
    let bytes = 0;
    let done = false;
    const s = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => finish(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    function finish(e: Error | null): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) {
        s.destroy();
        reject(e);
        return;
      }
      const t2 = process.hrtime.bigint();
      resolve({ connectUs: Number(t1 - t0) / 1000, requestUs: Number(t2 - t0) / 1000 });
    }
    s.once('connect', () => {
      t1 = process.hrtime.bigint();
      s.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
    });
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.once('end', () => {
      if (bytes === 0) finish(new Error('closed without an answer'));
      else if (t1 === 0n) finish(new Error('end before connect'));
      else finish(null);
      s.end();
    });
    s.once('error', (e) => finish(e));
  });
}

export async function measureLatency(host: string, port: number, count: number, timeoutMs = 3000): Promise<LatencyOutput> {
  const out: LatencyOutput = { connectUs: [], requestUs: [], errors: 0, firstError: null };
  for (let i = 0; i < count; i++) {
    try {
      const r = await once(host, port, timeoutMs);
      out.connectUs.push(Math.round(r.connectUs * 10) / 10);
      out.requestUs.push(Math.round(r.requestUs * 10) / 10);
    } catch (e) {
      out.errors++;
      out.firstError ??= (e as Error).message;
    }
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [host, port, count] = process.argv.slice(2);
  const n = Number(count);
  if (!host || !Number(port) || !Number.isInteger(n) || n < 1 || n > 100_000) {
    process.stderr.write('usage: latency-client.ts HOST PORT COUNT (1..100000)\n');
    process.exitCode = 2;
  } else {
    // A few connections first, untimed: ARP, the server's accept path and the JIT warm up.
    await measureLatency(host, Number(port), Math.min(20, n));
    process.stdout.write(`${JSON.stringify(await measureLatency(host, Number(port), n))}\n`);
  }
}
