// Runs inside the client namespace: GET http://VIP/ every INTERVAL ms (each with a TIMEOUT ms
// limit, new connection each time) for DURATION ms, one JSON line per attempt on stdout:
// {"t": wall-clock ms at the answer (or failure), "body": "ka" | "real" | ..., or null when it failed}.
import http from 'node:http';

const [vip, durationMs, intervalMs, timeoutMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 20), Number(process.argv[5] ?? 150)];
const end = Date.now() + durationMs;
function once() {
  return new Promise((resolve) => {
    const req = http.get({ host: vip, port: 80, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body.trim()));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}
while (Date.now() < end) {
  const t0 = Date.now();
  const body = await once();
  process.stdout.write(`${JSON.stringify({ t: Date.now(), body })}\n`);
  const wait = intervalMs - (Date.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
