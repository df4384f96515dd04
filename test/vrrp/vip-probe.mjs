// Runs inside the client namespace: GET http://VIP/ every INTERVAL ms (each with a TIMEOUT ms
// limit, new connection each time) for DURATION ms, one JSON line per attempt on stdout:
// {"t": wall-clock ms at the answer (or failure), "sent": wall-clock ms it started, "body": "ka" |
// "real" | ..., or null when it failed}.
// MODE 'sequential' (default): the next request starts when the last one has ended, so a request
// lost to a dead router costs TIMEOUT ms before the next try. MODE 'overlap': a request starts every
// INTERVAL ms whatever the others do (at most TIMEOUT / INTERVAL + 1 open at once): the first
// answer after a takeover comes within about INTERVAL ms of it, not on a TIMEOUT ms grid.
import http from 'node:http';

const [vip, durationMs, intervalMs, timeoutMs, mode] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 20), Number(process.argv[5] ?? 150), process.argv[6] ?? 'sequential'];
if (mode !== 'sequential' && mode !== 'overlap') throw new Error(`vip-probe: MODE is sequential or overlap, not ${mode}`);
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
const open = new Set();
while (Date.now() < end) {
  const t0 = Date.now();
  const p = once().then((body) => process.stdout.write(`${JSON.stringify({ t: Date.now(), sent: t0, body })}\n`));
  if (mode === 'sequential') await p;
  else {
    open.add(p);
    void p.then(() => open.delete(p));
  }
  const wait = intervalMs - (Date.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await Promise.all(open);
