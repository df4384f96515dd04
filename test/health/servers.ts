/** Local servers on 127.0.0.1 (random ports) for the checker tests; every one is closed by closeAll(). */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

const closers: (() => Promise<void>)[] = [];

export async function closeAll(): Promise<void> {
  await Promise.all(closers.splice(0).map((c) => c().catch(() => undefined)));
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function track(server: net.Server, sockets = new Set<net.Socket>()): void {
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  closers.push(() => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
}

/** Answers by path: /ok, /other, /err, /redir, /loop, /host (echoes Host), /hang (never answers). */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/ok': res.writeHead(200, { 'content-type': 'text/plain' }).end('status: ok\n'); return;
    case '/other': res.writeHead(200).end('something else'); return;
    case '/err': res.writeHead(500).end('status: ok but broken'); return;
    case '/redir': res.writeHead(302, { location: '/ok' }).end(); return;
    case '/loop': res.writeHead(302, { location: '/loop' }).end(); return;
    case '/host': res.writeHead(200).end(`host=${req.headers.host}`); return;
    case '/hang': return;
    default: res.writeHead(404).end('not found');
  }
}

export async function httpServer(): Promise<number> {
  const s = http.createServer(handler);
  track(s);
  return listen(s);
}

/** HTTPS with a self-signed certificate made by openssl for this run. */
export async function httpsServer(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'dsrlb-health-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=dsrlb-test.invalid', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const s = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
    track(s);
    return await listen(s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Accepts, then closes at once. */
export async function closingServer(): Promise<number> {
  const s = net.createServer((c) => c.destroy());
  track(s);
  return listen(s);
}

/** Accepts and never says a word. */
export async function silentServer(): Promise<number> {
  const s = net.createServer(() => undefined);
  track(s);
  return listen(s);
}

/** A port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Line protocol: "PING\n" gets "+PONG\r\n"; anything else "-ERR\r\n". Waits for the client's end first. */
export async function pingPongServer(): Promise<number> {
  const s = net.createServer((c) => {
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => { got += d; });
    c.on('end', () => c.end(got === 'PING\n' ? 'hello\n+PONG\r\n' : '-ERR\r\n'));
    c.on('error', () => undefined);
  });
  track(s);
  return listen(s);
}

/** The test zone, written with dns-packet (the test servers use the library directly, not dsrlb's mapping). */
const ZONE: Record<string, dnsPacket.Answer[]> = {
  'www.example.org': [
    { name: 'www.example.org', type: 'A', class: 'IN', ttl: 60, data: '10.0.0.6' },
    { name: 'www.example.org', type: 'A', class: 'IN', ttl: 60, data: '10.0.0.7' },
  ],
  '7.0.0.10.in-addr.arpa': [{ name: '7.0.0.10.in-addr.arpa', type: 'PTR', class: 'IN', ttl: 60, data: 'www.example.org' }],
};

/** The answer to a query; null = stay silent (name "silent.example"). */
function answer(query: Uint8Array): Uint8Array | null {
  const q = dnsPacket.decode(Buffer.from(query));
  const id = q.id ?? 0;
  const question = q.questions?.[0];
  const name = question?.name ?? '';
  if (name === 'silent.example') return null;
  if (name === 'garbage.example') return new Uint8Array([id >> 8, id & 0xff, 0x81]);
  const answers = (ZONE[name] ?? []).filter((a) => a.type === question?.type);
  return dnsPacket.encode({
    type: 'response', id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | (ZONE[name] ? 0 : 3),
    questions: q.questions ?? [], answers,
  });
}

export async function dnsUdpServer(): Promise<number> {
  const sock: UdpSocket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const a = answer(msg);
    if (a) sock.send(a, rinfo.port, rinfo.address);
  });
  closers.push(() => new Promise((r) => sock.close(() => r())));
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock.address().port)));
}

export async function dnsTcpServer(): Promise<number> {
  const s = net.createServer((c) => {
    let acc = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      if (acc.length < 2 || acc.length < acc.readUInt16BE(0) + 2) return;
      const a = answer(acc.subarray(2, acc.readUInt16BE(0) + 2));
      if (!a) return;
      const out = Buffer.alloc(a.length + 2);
      out.writeUInt16BE(a.length, 0);
      out.set(a, 2);
      c.end(out);
    });
    c.on('error', () => undefined);
  });
  track(s);
  return listen(s);
}

/** A UDP port nobody listens on (bound, then released). */
export async function closedUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  const port = await new Promise<number>((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock.address().port)));
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}
