/**
 * Data-path verdicts per second, on one core: the same measurement as bench/dataplane.ts, for a data
 * path that rewrites the forwarded frame in place (destination and source MAC, TTL, IPv4 checksum).
 * bench/dataplane.ts puts back only the TTL and the checksum, so since the data path writes the MACs
 * into the captured buffer every second pass of a frame is dropped as "not-our-mac" and it throws;
 * micro.ts uses it first and falls back to this one (see bench/micro.ts).
 *
 * Established: SYN then ACK of `flows` flows, then the ACKs again and again; after each verdict the
 * 15 bytes the data path changed are put back (counted in the time: a slight over-estimate).
 * New flows: one SYN whose source address and port change every time, into a large table.
 */
import { Dataplane, VerdictKind } from '../../src/dataplane/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { tcpFrame, TCP_ACK, TCP_SYN } from '../../src/packet/index.ts';

const VIP = parseIPv4('10.0.0.100')!;
const SELF = parseMac('02:00:00:00:00:01')!;
const CLIENT_MAC = parseMac('02:00:00:00:02:01')!;

function plane(capacity: number): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: capacity });
  const svc = dp.services.addService({ proto: 'tcp', vip: VIP, port: 80, scheduler: 'wlc' });
  for (let i = 0; i < 8; i++) {
    const addr = parseIPv4(`10.0.1.${10 + i}`)!;
    dp.services.setNeighbour(addr, parseMac(`02:00:00:00:01:${(10 + i).toString(16).padStart(2, '0')}`)!);
    dp.services.addDest(svc, { addr, port: 80, weight: 1 });
  }
  dp.refreshVips();
  return dp;
}

const frame = (client: number, port: number, flags: number) =>
  tcpFrame({ dstMac: SELF, srcMac: CLIENT_MAC, src: client, dst: VIP, sport: port, dport: 80, flags, ttl: 64 });

/** Puts back what a forward changed: both MACs, the TTL and the header checksum. */
function restore(f: Uint8Array, ttl: number, c0: number, c1: number): void {
  f[0] = SELF[0]!; f[1] = SELF[1]!; f[2] = SELF[2]!; f[3] = SELF[3]!; f[4] = SELF[4]!; f[5] = SELF[5]!;
  f[6] = CLIENT_MAC[0]!; f[7] = CLIENT_MAC[1]!; f[8] = CLIENT_MAC[2]!; f[9] = CLIENT_MAC[3]!; f[10] = CLIENT_MAC[4]!; f[11] = CLIENT_MAC[5]!;
  f[22] = ttl;
  f[24] = c0;
  f[25] = c1;
}

export function benchVerdicts(opts: { flows?: number; seconds?: number } = {}): {
  establishedVerdictsPerSec: number;
  newFlowVerdictsPerSec: number;
  flows: number;
} {
  const flows = opts.flows ?? 10_000;
  const seconds = opts.seconds ?? 1;
  const dp = plane(Math.max(1 << 21, flows * 2));
  const ack: Uint8Array[] = [];
  let now = 1_000_000;
  for (let i = 0; i < flows; i++) {
    const client = (parseIPv4('172.16.0.0')! + (i >>> 8)) >>> 0;
    const port = 10000 + (i & 255) * 2;
    const syn = frame(client, port, TCP_SYN);
    dp.process(syn, syn.length, now);
    ack.push(frame(client, port, TCP_ACK));
  }
  const keep = ack.map((f) => [f[22]!, f[24]!, f[25]!] as const);
  for (const f of ack) dp.process(f, f.length, now);
  for (let i = 0; i < flows; i++) restore(ack[i]!, keep[i]![0], keep[i]![1], keep[i]![2]);

  let n = 0;
  let forwarded = 0;
  const t0 = process.hrtime.bigint();
  const end0 = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end0) {
    for (let i = 0; i < flows; i++) {
      const f = ack[i]!;
      if (dp.process(f, f.length, now).kind === VerdictKind.Forward) forwarded++;
      const k = keep[i]!;
      restore(f, k[0], k[1], k[2]);
    }
    n += flows;
    now += 1;
  }
  const est = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  if (forwarded !== n) throw new Error(`only ${forwarded} of ${n} established packets were forwarded`);

  const dp2 = plane(1 << 21);
  const f = frame(parseIPv4('172.16.0.1')!, 1000, TCP_SYN);
  let m = 0;
  let created = 0;
  const t1 = process.hrtime.bigint();
  const end1 = t1 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end1 && m < 1_500_000) {
    for (let i = 0; i < 1000; i++, m++) {
      const src = (0xac100000 + (m >>> 10)) >>> 0;
      f[26] = src >>> 24; f[27] = (src >>> 16) & 255; f[28] = (src >>> 8) & 255; f[29] = src & 255;
      f[34] = ((m & 1023) >>> 8) | 0x10; f[35] = m & 255;
      restore(f, 64, f[24]!, f[25]!); // MACs and TTL back; the header checksum is not verified on input (as in bench/dataplane.ts)
      if (dp2.process(f, f.length, now).newConn) created++;
    }
  }
  const neu = m / (Number(process.hrtime.bigint() - t1) / 1e9);
  if (created !== m) throw new Error(`only ${created} of ${m} SYNs created a connection`);
  return { establishedVerdictsPerSec: est, newFlowVerdictsPerSec: neu, flows };
}
