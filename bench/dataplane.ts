/**
 * In-process data-path figures on one core: verdicts per second for packets of established flows
 * and for new flows (SYNs that are scheduled and create a connection).
 * Run directly: npx tsx bench/dataplane.ts
 */
import { pathToFileURL } from 'node:url';
import { Dataplane } from '../src/dataplane/index.ts';
import { parseIPv4, parseMac } from '../src/model/index.ts';
import { internetChecksum, tcpFrame, TCP_ACK, TCP_SYN } from '../src/packet/index.ts';

const VIP = parseIPv4('10.0.0.100')!;
const SELF = parseMac('02:00:00:00:00:01')!;

function plane(capacity: number, scheduler: 'rr' | 'wlc' | 'mh' = 'wlc'): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: capacity });
  const svc = dp.services.addService({ proto: 'tcp', vip: VIP, port: 80, scheduler });
  for (let i = 0; i < 8; i++) {
    const addr = parseIPv4(`10.0.1.${10 + i}`)!;
    dp.services.setNeighbour(addr, parseMac(`02:00:00:00:01:${(10 + i).toString(16).padStart(2, '0')}`)!);
    dp.services.addDest(svc, { addr, port: 80, weight: 1 });
  }
  dp.refreshVips();
  return dp;
}

function frame(client: number, port: number, flags: number): Uint8Array {
  return tcpFrame({
    dstMac: SELF, srcMac: parseMac('02:00:00:00:02:01')!,
    src: client, dst: VIP, sport: port, dport: 80, flags, ttl: 64,
  });
}

export interface DataplaneBench {
  establishedVerdictsPerSec: number;
  newFlowVerdictsPerSec: number;
  flows: number;
  /**
   * CPU time (this process, user + system) per established verdict, µs: unlike the rates, not
   * lowered by time the process spent waiting for a CPU on a loaded machine.
   */
  establishedCpuUsPerVerdict: number;
}

export function benchDataplane(opts: { flows?: number; seconds?: number; scheduler?: 'rr' | 'wlc' | 'mh'; capacity?: number } = {}): DataplaneBench {
  const flows = opts.flows ?? 10_000;
  const seconds = opts.seconds ?? 1;
  const capacity = opts.capacity ?? 1 << 20;
  const dp = plane(Math.max(capacity, flows * 2), opts.scheduler);
  const syn: Uint8Array[] = [];
  const ack: Uint8Array[] = [];
  for (let i = 0; i < flows; i++) {
    const client = (parseIPv4('172.16.0.0')! + (i >>> 8)) >>> 0;
    const port = 10000 + (i & 255) * 2;
    syn.push(frame(client, port, TCP_SYN));
    ack.push(frame(client, port, TCP_ACK));
  }
  let now = 1_000_000;
  const pristine = ack[0]!.slice(0, 12);
  for (const f of syn) dp.process(f, f.length, now);
  for (const f of ack) {
    const ttl = f[22]!;
    const c = [f[24]!, f[25]!];
    dp.process(f, f.length, now);
    f.set(pristine, 0);
    f[22] = ttl;
    f[24] = c[0]!;
    f[25] = c[1]!;
  }
  // Established: the same ACKs again and again. The data path rewrites the MACs and lowers the TTL
  // in place; put the 12 MAC bytes, the TTL and the checksum back so every packet stays forwardable.
  const ttlOff = 22;
  const ttl0 = ack[0]![ttlOff]!;
  const c0 = ack.map((f) => [f[24]!, f[25]!] as const);
  const macs0 = pristine;
  let n = 0;
  let forwarded = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < flows; i++) {
      const f = ack[i]!;
      if (dp.process(f, f.length, now).kind === 1) forwarded++;
      f.set(macs0, 0);
      f[ttlOff] = ttl0;
      f[24] = c0[i]![0];
      f[25] = c0[i]![1];
    }
    n += flows;
    now += 1;
  }
  const est = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  const cpu = process.cpuUsage(cpu0);
  const cpuPerVerdict = (cpu.user + cpu.system) / n;
  if (forwarded !== n) throw new Error(`bench: only ${forwarded} of ${n} established packets were forwarded`);

  // New flows: one SYN buffer whose source address/port change every time.
  const dp2 = plane(Math.max(capacity, 1 << 21), opts.scheduler);
  const f = frame(parseIPv4('172.16.0.1')!, 1000, TCP_SYN);
  let m = 0;
  let created = 0;
  const t1 = process.hrtime.bigint();
  const deadline1 = t1 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline1 && m < 1_500_000) {
    for (let i = 0; i < 1000; i++, m++) {
      const src = (0xac100000 + (m >>> 10)) >>> 0;
      f[26] = src >>> 24; f[27] = (src >>> 16) & 255; f[28] = (src >>> 8) & 255; f[29] = src & 255;
      f[34] = (m & 1023) >>> 8 | 0x10; f[35] = m & 255;
      f[22] = 64;
      // A correct IPv4 header checksum for the new source (the data path drops a wrong one, as ip_rcv does).
      f[24] = 0; f[25] = 0;
      const c = internetChecksum(f, 14, 20);
      f[24] = c >>> 8; f[25] = c & 255;
      f.set(macs0, 0);
      if (dp2.process(f, f.length, now).newConn) created++;
    }
  }
  const neu = m / (Number(process.hrtime.bigint() - t1) / 1e9);
  if (created !== m) throw new Error(`bench: only ${created} of ${m} SYNs created a connection`);
  return { establishedVerdictsPerSec: est, newFlowVerdictsPerSec: neu, flows, establishedCpuUsPerVerdict: cpuPerVerdict };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = benchDataplane();
  console.log(`established flows: ${(r.establishedVerdictsPerSec / 1e6).toFixed(2)} M verdicts/s (${r.flows} flows)`);
  console.log(`new flows (SYN):   ${(r.newFlowVerdictsPerSec / 1e6).toFixed(2)} M verdicts/s`);
}
