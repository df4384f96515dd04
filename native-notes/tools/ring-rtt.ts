/**
 * Round trip through a packet worker (the test forwarder: MACs rewritten, frame sent back), one frame
 * at a time, so every frame finds the worker asleep: what the wake-up costs, and what busy polling
 * buys (root; namespaces dsrq<pid>a/b, removed at the end):
 *
 *   npx tsx native-notes/tools/ring-rtt.ts [--n 2000] [--rounds 3] [--configs pcap,ring,ring-poll50,ring-poll200]
 *
 * The client side is test/io/fixtures/ring-tool.ts in namespace a, spinning on its own ring's poll()
 * (so its own wake-up is not in the figure); the worker runs in namespace b. Reported per config:
 * round-trip p50/p99 (µs) and the worker's CPU per round trip (µs).
 */
import { execFileSync, spawn } from 'node:child_process';
import readline from 'node:readline';
import { readFileSync } from 'node:fs';
import { cpuTicks, ticksPerSecond } from '../../bench/lib/procfs.ts';
import { startPacketWorker } from '../../src/io/index.ts';
import type { PacketIoOptions } from '../../src/ports/index.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const N = Math.min(Number(opt('n', '2000')), 5000);
const ROUNDS = Math.min(Number(opt('rounds', '3')), 10);
const CONFIGS = opt('configs', 'pcap,ring,ring-poll50,ring-poll200').split(',');
const IO: Record<string, PacketIoOptions> = {
  pcap: { backend: 'pcap' },
  ring: { backend: 'ring' },
  'ring-v3': { backend: 'ring', ringVersion: 3 },
  'ring-poll50': { backend: 'ring', busyPollUs: 50 },
  'ring-poll200': { backend: 'ring', busyPollUs: 200 },
};
const P = `dsrq${process.pid % 10000}`;
const A = `${P}a`;
const B = `${P}b`;
const MAC_A = '02:41:00:00:00:0a';
const MAC_B = '02:41:00:00:00:0b';
const sh = (cmd: string, a: string[]) => execFileSync(cmd, a, { encoding: 'utf8', timeout: 20_000 });
const inNs = (ns: string, a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);

function frameHex(): string {
  const b = Buffer.alloc(60);
  Buffer.from(MAC_B.replaceAll(':', ''), 'hex').copy(b, 0);
  Buffer.from(MAC_A.replaceAll(':', ''), 'hex').copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(46, 16);
  b[22] = 64;
  b[23] = 17;
  b.writeUInt32BE(0x0a510101, 26);
  b.writeUInt32BE(0x0a510164, 30);
  b.writeUInt16BE(40000, 34);
  b.writeUInt16BE(9, 36);
  b.writeUInt16BE(26, 38);
  return b.toString('hex');
}

async function main(): Promise<void> {
  let tool: ReturnType<typeof spawn> | null = null;
  try {
    sh('ip', ['netns', 'add', A]);
    sh('ip', ['netns', 'add', B]);
    sh('ip', ['link', 'add', 'eth0', 'netns', A, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B]);
    for (const [ns, mac] of [[A, MAC_A], [B, MAC_B]] as const) {
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(ns, ['ip', 'link', 'set', 'eth0', 'address', mac, 'up']);
      inNs(ns, ['ethtool', '-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off']);
    }
    tool = spawn('ip', ['netns', 'exec', A, process.execPath, '--import', 'tsx', new URL('../../test/io/fixtures/ring-tool.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
    const t = tool;
    const lines = readline.createInterface({ input: t.stdout! })[Symbol.asyncIterator]();
    const cmd = async (l: string) => {
      t.stdin!.write(`${l}\n`);
      const r = JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
      if (r.ok === false) throw new Error(String(r.error));
      return r;
    };
    await cmd(`open eth0 {} inbound and ether src ${MAC_B}`);
    console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').trim()} (2 vCPUs shared with other work: compare ratios only)`);
    const rows: Array<{ config: string; p50: number; p99: number; cpu: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of CONFIGS) {
        const w = await startPacketWorker({
          iface: 'eth0', filter: 'inbound and udp dst port 9', bufferSize: 4 << 20, netns: B, io: IO[c],
          handlerModule: new URL('../../test/io/fixtures/mac-rewrite-handler.ts', import.meta.url), handlerInit: { dstMac: MAC_A },
        });
        try {
          await cmd(`rtt ${frameHex()} 50`); // warm-up
          const t0 = cpuTicks(w.pid);
          const res = await cmd(`rtt ${frameHex()} ${N}`);
          const cpu = ((cpuTicks(w.pid) - t0) / ticksPerSecond()) * 1e6 / Math.max(1, Number(res.n));
          const row = { config: c, p50: Number(res.p50us), p99: Number(res.p99us), cpu: Math.round(cpu * 10) / 10 };
          console.log(JSON.stringify({ round: r + 1, ...row, lost: res.lost }));
          rows.push(row);
        } finally {
          await w.stop();
        }
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log('medians:');
    for (const c of CONFIGS) {
      const m = rows.filter((x) => x.config === c);
      console.log(`  ${c.padEnd(13)} rtt p50 ${med(m.map((x) => x.p50))} µs  p99 ${med(m.map((x) => x.p99))} µs  worker cpu ${med(m.map((x) => x.cpu))} µs per round trip`);
    }
  } finally {
    tool?.stdin!.end();
    if (tool?.pid !== undefined && tool.exitCode === null) process.kill(tool.pid, 'SIGKILL');
    for (const ns of [A, B]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}

await main();
