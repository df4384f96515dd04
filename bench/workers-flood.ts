/**
 * Flood rate of `dsrlb run --io ring` with 1 and with 2 packet workers, interleaved in one run on the
 * testbed (root): trafgen sends COUNT 60-byte UDP frames of 64 flows as fast as it can from the
 * client to the VIP (bench/ldirectord.cf's UDP service, reals www2 and www3); the director's own
 * counters say what it forwarded and what the kernel dropped from its rings. Also the CPU the
 * director's processes and the whole machine used during the flood.
 *
 *   node --import tsx bench/workers-flood.ts [--rounds 3] [--count 200000]
 *
 * Only ratios within one run mean anything on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLIENT_ADDR, hostMac, hostNamespace, startLabDirector, testbedDown, testbedUp, VIP } from '../src/testbed/index.ts';
import { udpFrames } from './lib/frames.ts';
import { BENCH_CONFIG, UDP_PORT } from './lib/paths.ts';
import { childrenOf, cpuTicks, ticksPerSecond } from './lib/procfs.ts';
import { runTrafgen, trafgenConfig } from './lib/trafgen.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, count: { type: 'string' }, workers: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 3);
const COUNT = Number(values.count ?? 200_000);
const VARIANTS = (values.workers ?? '1,2').split(',').map(Number);
const prefix = `dsrfm${process.pid % 10000}`;

function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

interface Snap { forwarded: number; io: { kernelDrops?: number; kernelPackets?: number }; perWorker?: Array<{ forwarded: number }> }

async function oneRun(workers: number): Promise<Record<string, number | string>> {
  const lab = await startLabDirector({ prefix, host: 'www1', config: BENCH_CONFIG, io: 'ring', args: ['--garp', '1,100', '--workers', String(workers)] });
  try {
    const procs = [lab.pid, ...childrenOf(lab.pid)];
    const frames = udpFrames({ dstMac: hostMac('www1'), srcMac: hostMac('client'), src: CLIENT_ADDR, dst: VIP, dport: UDP_PORT, sportBase: 20000, flows: 64 });
    // prime the client's path (ARP) and the flows' connection entries
    await runTrafgen(hostNamespace(prefix, 'client'), trafgenConfig(frames), { count: 640 });
    await new Promise((r) => setTimeout(r, 300));
    const s0 = (await lab.snapshot()) as unknown as Snap;
    const c0 = procs.map(cpuTicks);
    const m0 = machineTicks();
    const t = await runTrafgen(hostNamespace(prefix, 'client'), trafgenConfig(frames), { count: COUNT });
    await new Promise((r) => setTimeout(r, 500));
    const s1 = (await lab.snapshot()) as unknown as Snap;
    const c1 = procs.map(cpuTicks);
    const m1 = machineTicks();
    const hz = ticksPerSecond();
    const fwd = s1.forwarded - s0.forwarded;
    return {
      workers,
      sent: t.sent,
      offered_pps: Math.round(t.offeredPps),
      forwarded: fwd,
      forwarded_pps: Math.round(fwd / t.seconds),
      lost: t.sent - fwd,
      kernel_drops: (s1.io.kernelDrops ?? 0) - (s0.io.kernelDrops ?? 0),
      per_worker: (s1.perWorker ?? [{ forwarded: s1.forwarded }]).map((w, i) => w.forwarded - ((s0.perWorker ?? [{ forwarded: s0.forwarded }])[i]?.forwarded ?? 0)).join('/'),
      director_cpu_s: Number((c1.reduce((a, b) => a + b, 0) - c0.reduce((a, b) => a + b, 0)) / hz).toFixed(2),
      machine_busy: ((m1.busy - m0.busy) / (m1.total - m0.total)).toFixed(2),
      seconds: t.seconds.toFixed(2),
    };
  } finally {
    await lab.stop();
  }
}

async function main(): Promise<void> {
  await testbedUp({ prefix });
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      for (const w of r % 2 ? VARIANTS : [...VARIANTS].reverse()) console.log(JSON.stringify({ round: r, ...(await oneRun(w)) }));
    }
  } finally {
    await testbedDown({ prefix });
  }
}

await main();
