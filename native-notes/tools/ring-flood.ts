/**
 * Ring vs libpcap on one bounded flood, interleaved, in namespaces of its own (root):
 *
 *   npx tsx native-notes/tools/ring-flood.ts [--frames N] [--rounds R] [--configs pcap,ring,...]
 *
 * Topology: namespace G (trafgen, eth0) ↔ veth ↔ namespace D (a packet worker with the test
 * forwarder test/io/fixtures/mac-rewrite-handler.ts: destination MAC := G's, source MAC := D's,
 * sent back out of eth0). Offloads off on D, tx checksum off on G. For each configuration and round:
 * a fresh worker, N frames of 60 bytes from trafgen flat out, then the counters:
 *   delivered  frames back at G (its eth0 rx_packets)
 *   loss       1 - delivered / sent
 *   drops      the kernel's PACKET_STATISTICS tp_drops (ring only; cap has no pcap_stats)
 *   accounted  (delivered + drops) / sent: how much of the loss has a counter
 *   cpu/frame  the worker process's CPU (utime + stime, clock ticks) / frames it forwarded
 * Configurations: pcap | ring (V2) | ring-bypass (V2 + PACKET_QDISC_BYPASS) | ring-v3 | ring-poll50
 * (V2 + 50 µs busy poll). Namespaces dsrq<pid>g/d, removed at the end (also on failure).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuTicks, ticksPerSecond } from '../../bench/lib/procfs.ts';
import { runTrafgen, trafgenConfig } from '../../bench/lib/trafgen.ts';
import { startPacketWorker } from '../../src/io/index.ts';
import type { PacketIoOptions } from '../../src/ports/index.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const FRAMES = Math.min(Number(opt('frames', '300000')), 2_000_000);
const ROUNDS = Math.min(Number(opt('rounds', '3')), 10);
const CONFIGS = opt('configs', 'pcap,ring,ring-bypass,ring-v3').split(',');
const IO: Record<string, PacketIoOptions> = {
  pcap: { backend: 'pcap' },
  ring: { backend: 'ring' },
  'ring-bypass': { backend: 'ring', qdiscBypass: true },
  'ring-v3': { backend: 'ring', ringVersion: 3 },
  'ring-poll50': { backend: 'ring', busyPollUs: 50 },
};
const P = `dsrq${process.pid % 10000}`;
const G = `${P}g`;
const D = `${P}d`;
const MAC_G = '02:40:00:00:00:0a';
const MAC_D = '02:40:00:00:00:0d';
const sh = (cmd: string, a: string[]) => execFileSync(cmd, a, { encoding: 'utf8', timeout: 20_000 });
const inNs = (ns: string, a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);
const rx = (ns: string) => Number(inNs(ns, ['cat', '/sys/class/net/eth0/statistics/rx_packets']).trim());

function frame(): Uint8Array {
  const b = Buffer.alloc(60);
  Buffer.from(MAC_D.replaceAll(':', ''), 'hex').copy(b, 0);
  Buffer.from(MAC_G.replaceAll(':', ''), 'hex').copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(46, 16);
  b[22] = 64;
  b[23] = 17;
  b.writeUInt32BE(0x0a500101, 26); // 10.80.1.1
  b.writeUInt32BE(0x0a500164, 30); // 10.80.1.100
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, 24);
  b.writeUInt16BE(40000, 34);
  b.writeUInt16BE(9, 36);
  b.writeUInt16BE(26, 38);
  return b;
}

async function one(name: string): Promise<Record<string, number | string>> {
  const w = await startPacketWorker({
    iface: 'eth0', filter: 'inbound and udp dst port 9', bufferSize: 32 << 20, netns: D, io: IO[name],
    handlerModule: new URL('../../test/io/fixtures/mac-rewrite-handler.ts', import.meta.url), handlerInit: { dstMac: MAC_G },
  });
  try {
    const rx0 = rx(G);
    const t0 = cpuTicks(w.pid);
    const tg = await runTrafgen(G, trafgenConfig([frame()]), { count: FRAMES });
    // Let the worker drain what is still in its ring.
    let last = -1;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const s = await w.stats();
      if (s.sent === last) break;
      last = s.sent;
    }
    const ticks = cpuTicks(w.pid) - t0;
    const s = await w.stats();
    const delivered = rx(G) - rx0;
    return {
      config: name,
      sent: tg.sent,
      offered_pps: Math.round(tg.offeredPps),
      delivered,
      forwarded: s.sent,
      loss_pct: Math.round((1 - delivered / tg.sent) * 10000) / 100,
      drops: s.kernelDrops ?? 'n/a',
      accounted: s.kernelDrops !== undefined ? Math.round(((delivered + s.kernelDrops) / tg.sent) * 10000) / 10000 : 'n/a',
      cpu_us_per_frame: Math.round(((ticks / ticksPerSecond()) * 1e6 / Math.max(1, s.sent)) * 100) / 100,
    };
  } finally {
    await w.stop();
  }
}

async function main(): Promise<void> {
  try {
    sh('ip', ['netns', 'add', G]);
    sh('ip', ['netns', 'add', D]);
    sh('ip', ['link', 'add', 'eth0', 'netns', G, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', D]);
    for (const [ns, mac] of [[G, MAC_G], [D, MAC_D]] as const) {
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(ns, ['ip', 'link', 'set', 'eth0', 'address', mac, 'up']);
    }
    inNs(D, ['ethtool', '-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off']);
    inNs(G, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').trim()} (2 vCPUs shared with other work: compare ratios only)`);
    const rows: Array<Record<string, number | string>> = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of CONFIGS) {
        const row = { round: r + 1, ...(await one(c)) };
        console.log(JSON.stringify(row));
        rows.push(row);
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log('medians:');
    for (const c of CONFIGS) {
      const mine = rows.filter((x) => x.config === c);
      const num = (k: string) => mine.map((x) => Number(x[k])).filter((v) => !Number.isNaN(v));
      console.log(`  ${c.padEnd(12)} cpu ${med(num('cpu_us_per_frame')).toFixed(2)} µs/frame  loss ${med(num('loss_pct')).toFixed(2)} %  offered ${med(num('offered_pps'))} pps` +
        (num('accounted').length ? `  accounted ${med(num('accounted'))}` : ''));
    }
  } finally {
    for (const ns of [G, D]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}

await main();
