// long-conn.mjs HOST PORT: opens one TCP connection, sends half an HTTP request, prints "open PORT"
// (the local port), waits for "go" on stdin, sends the rest and prints the answer's body as
// "body TEXT", or "error CODE". Bounded: gives up after 60 s. Runs inside the client namespace.
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const s = net.connect({ host, port: Number(port) });
let got = '';
const bail = setTimeout(() => {
  process.stdout.write('error timeout\n');
  process.exit(1);
}, 60_000);
s.on('connect', () => {
  s.write('GET / HTTP/1.1\r\nHost: vip\r\n');
  process.stdout.write(`open ${s.localPort}\n`);
});
s.setEncoding('utf8');
s.on('data', (d) => {
  got += d;
  const i = got.indexOf('\r\n\r\n');
  if (i >= 0 && /content-length: (\d+)/i.test(got)) {
    const len = Number(/content-length: (\d+)/i.exec(got)[1]);
    if (got.length >= i + 4 + len) {
      process.stdout.write(`body ${got.slice(i + 4, i + 4 + len).trim()}\n`);
      clearTimeout(bail);
      s.destroy();
      process.exit(0);
    }
  }
});
s.on('error', (e) => {
  process.stdout.write(`error ${e.code}\n`);
  clearTimeout(bail);
  process.exit(1);
});
process.stdin.on('data', (d) => {
  if (String(d).includes('go')) s.write('Connection: close\r\n\r\n');
});
