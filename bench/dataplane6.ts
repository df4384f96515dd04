/**
 * The IPv6 data path's figures on one core, beside bench/dataplane.ts's IPv4 ones: verdicts per
 * second for packets of established IPv6 flows (an ACK, looked up with the full 128-bit compare,
 * MACs rewritten, hop limit lowered) and for new flows (a SYN scheduled and a connection created).
 * Run directly: npx tsx bench/dataplane6.ts
 */
import { pathToFileURL } from 'node:url';
import { Dataplane } from '../src/dataplane/index.ts';
import { parseIPv6, parseMac } from '../src/model/index.ts';
import { ethernet, ETHERTYPE_IPV6, IPPROTO_TCP, ipv6, tcp6, TCP_ACK, TCP_SYN } from '../src/packet/index.ts';

const SELF = parseMac('02:00:00:00:00:01')!;
const PEER = parseMac('02:00:00:00:02:01')!;
const VIP6 = '2001:db8::10';

function plane(capacity: number): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: 16, conn6Capacity: capacity });
  const svc = dp.services.addService6({ proto: 'tcp', vip6: parseIPv6(VIP6)!, port: 80, scheduler: 'wlc' });
  for (let i = 0; i < 8; i++) {
    const addr6 = parseIPv6(`2001:db8:1::${10 + i}`)!;
    dp.services.setNeighbour6(addr6, parseMac(`02:00:00:00:01:${(10 + i).toString(16).padStart(2, '0')}`)!);
    dp.services.addDest6(svc, { addr6, port: 80, weight: 1 });
  }
  return dp;
}

function frame(i: number, flags: number): Uint8Array {
  const src = `2001:db8:${(0x100 + (i >>> 16)).toString(16)}::${(i & 0xffff).toString(16)}`;
  const p = ipv6({ src, dst: VIP6, next: IPPROTO_TCP, payload: tcp6({ src, dst: VIP6, sport: 10000 + (i & 255) * 2, dport: 80, flags }) });
  return ethernet(SELF, PEER, ETHERTYPE_IPV6, p);
}

export function benchDataplane6(opts: { flows?: number; seconds?: number } = {}): { established: number; newFlows: number; flows: number } {
  const flows = opts.flows ?? 10_000;
  const seconds = opts.seconds ?? 1;
  const dp = plane(1 << 20);
  const ack: Uint8Array[] = [];
  const now = 1_000_000;
  for (let i = 0; i < flows; i++) {
    const s = frame(i, TCP_SYN);
    if (!dp.process(s, s.length, now).newConn) throw new Error('bench: a SYN did not create a connection');
    ack.push(frame(i, TCP_ACK));
  }
  // The data path rewrites the MACs and the hop limit in place: put them back each time.
  const macs0 = ack[0]!.slice(0, 12);
  const hl0 = ack[0]![21]!;
  let n = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < flows; i++) {
      const f = ack[i]!;
      if (dp.process(f, f.length, now).kind !== 1) throw new Error('bench: an established packet was not forwarded');
      f.set(macs0, 0);
      f[21] = hl0;
    }
    n += flows;
  }
  const established = n / (Number(process.hrtime.bigint() - t0) / 1e9);

  const dp2 = plane(1 << 21);
  const f = frame(0, TCP_SYN);
  let m = 0;
  const t1 = process.hrtime.bigint();
  const deadline1 = t1 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline1 && m < 1_500_000) {
    for (let i = 0; i < 1000; i++, m++) {
      // A new client address (bytes 14+8+12..15) and port each time.
      f[14 + 20] = m >>> 24; f[14 + 21] = (m >>> 16) & 255; f[14 + 22] = (m >>> 8) & 255; f[14 + 23] = m & 255;
      f.set(macs0, 0);
      f[21] = hl0;
      if (!dp2.process(f, f.length, now).newConn) throw new Error('bench: a SYN did not create a connection');
    }
  }
  const newFlows = m / (Number(process.hrtime.bigint() - t1) / 1e9);
  return { established, newFlows, flows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = benchDataplane6();
  console.log(`IPv6 established flows: ${(r.established / 1e6).toFixed(2)} M verdicts/s (${r.flows} flows)`);
  console.log(`IPv6 new flows (SYN):   ${(r.newFlows / 1e6).toFixed(2)} M verdicts/s`);
}
