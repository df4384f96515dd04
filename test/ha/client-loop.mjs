// client-loop.mjs URL INTERVAL_MS TIMEOUT_MS MAX: one HTTP GET every INTERVAL_MS (each on a new
// connection, not waiting for the previous one), until MAX requests or "stop" on stdin; one JSON
// line per finished request: {t0, t1, ok, body, port} with wall-clock ms
// and the client's TCP port (0 when it never connected). Runs inside the client namespace.
import http from 'node:http';

const [url, intervalS, timeoutS, maxS] = process.argv.slice(2);
const interval = Number(intervalS);
const timeout = Number(timeoutS);
const max = Number(maxS);
let started = 0;
let pending = 0;
let stopping = false;

function one() {
  const t0 = Date.now();
  pending++;
  let done = false;
  let port = 0;
  const finish = (ok, body) => {
    if (done) return;
    done = true;
    pending--;
    process.stdout.write(JSON.stringify({ t0, t1: Date.now(), ok, body, port }) + '\n');
    if (stopping && pending === 0) process.exit(0);
  };
  const req = http.get(url, { agent: false, timeout }, (res) => {
    let b = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (b += c));
    res.on('end', () => finish(res.statusCode === 200, b.trim()));
    res.on('error', () => finish(false, 'error'));
  });
  req.on('socket', (sock) => sock.on('connect', () => (port = sock.localPort)));
  req.on('timeout', () => {
    req.destroy();
    finish(false, 'timeout');
  });
  req.on('error', (e) => finish(false, e.code ?? 'error'));
}

const timer = setInterval(() => {
  if (stopping || started >= max) return stop();
  started++;
  one();
}, interval);

function stop() {
  stopping = true;
  clearInterval(timer);
  if (pending === 0) process.exit(0);
}
process.stdin.on('data', (d) => {
  if (String(d).includes('stop')) stop();
});
process.stdin.on('end', stop);
