// Runs inside a namespace: sends IPv4 packets (hex, one per line on stdin) through a raw IP socket
// with IP_HDRINCL (our own header: any TTL, any source) out of IFACE to DST, ROUNDS times over, at
// most ROUNDS x lines packets. Used to forge VRRP adverts at a router under test.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const raw = require('raw-socket');
const [iface, dst, rounds] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 1)];
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const pkts = input.split('\n').filter(Boolean).map((h) => Buffer.from(h, 'hex'));
  const s = raw.createSocket({ protocol: 112 });
  const dev = Buffer.from(`${iface}\0`);
  s.setOption(1, 25, dev, dev.length); // SO_BINDTODEVICE
  s.setOption(0, 3, 1); // IP_HDRINCL
  let sent = 0;
  for (let r = 0; r < rounds; r++) {
    for (const p of pkts) {
      await new Promise((resolve) => s.send(p, 0, p.length, dst, null, (e) => { if (!e) sent++; resolve(); }));
    }
  }
  s.close();
  process.stdout.write(`${sent}\n`);
});
