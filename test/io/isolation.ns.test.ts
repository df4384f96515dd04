/**
 * Isolation of the packet path (root only; must not skip in CI): a sender floods the director at
 * about twice what the worker can forward, while this (control) process runs a 100 ms timer. The
 * worker's capacity is measured first, in the same run. Asserts: no timer gap over 500 ms, the
 * worker still answers, frames were forwarded. The rates (capacity, offered rate, their ratio)
 * are measurements, not assertions: a loaded 2-core machine slows the sender too. They are printed
 * ("isolation figures", for native-notes) and not bounded here.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCaptureFilter, startPacketWorker, type PacketWorker } from '../../src/io/index.ts';
import { FIXTURES, LineProc, Topology, nsRun } from './netns.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeAsRoot } from '../helpers/root.ts';
import { l4Frame } from './frames.ts';

const MAC_C = '02:30:00:00:00:0c';
const MAC_D = '02:30:00:00:00:0d';
const MAC_R = '02:30:00:00:00:ee';
const VIP = '10.77.3.100';
const frame = l4Frame({ dstMac: MAC_D, srcMac: MAC_C, srcIp: '10.77.3.1', dstIp: VIP, proto: 'udp', sport: 5000, dport: 9, tag: 1 }).toString('hex');

interface Report {
  forwarded: number;
  failed: number;
  firstMs: number;
  lastMs: number;
}

function ask(w: PacketWorker, msg: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('worker did not answer')), 5000);
    w.once('message', (m) => {
      clearTimeout(t);
      resolve(m as Report);
    });
    w.post(msg);
  });
}

describeAsRoot('packet path isolation under a flood (namespaces)', () => {
  const topo = new Topology();
  let nsC = '';
  let nsD = '';
  let sender: LineProc;
  let w: PacketWorker | null = null;

  beforeAll(async () => {
    nsC = topo.addNs('isoc');
    nsD = topo.addNs('isod');
    topo.veth({ ns: nsC, dev: 'eth0', mac: MAC_C }, { ns: nsD, dev: 'eth0', mac: MAC_D });
    // As a director should run (preflight W_OFFLOAD): no segmentation offloads, so the ring has MTU-sized slots.
    nsRun(nsD, 'ethtool', ['-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off']);
    sender = topo.node(nsC, `${FIXTURES}frame-tool.ts`);
    await sender.cmd('open eth0 0 less 1');
  });
  afterAll(async () => {
    await w?.stop(2000).catch(() => null);
    topo.destroy();
  });

  it('a flood aimed at twice the measured forwarding capacity: the control timer never stalls 500 ms, the worker still answers', { timeout: 60_000 }, async () => {
    w = await startPacketWorker({
      netns: nsD,
      iface: 'eth0',
      filter: buildCaptureFilter([{ proto: 'udp', vip: VIP, port: 9 }]),
      bufferSize: 16 << 20,
      handlerModule: `${FIXTURES}mac-rewrite-handler.ts`,
      handlerInit: { dstMac: MAC_R },
    });

    // The worker has drained its ring when its forwarded count stops moving (two reports 100 ms
    // apart agree); bounded, it throws after 10 s.
    const drained = async (): Promise<Report> => {
      let prev = -1;
      return waitFor(() => ask(w!, 'report'), (r) => {
        const same = r.forwarded === prev;
        prev = r.forwarded;
        return same;
      }, { timeoutMs: 10_000, intervalMs: 100 }, 'the worker to drain its ring');
    };

    // 0. For the record: the plain handler's rate when the sender offers all it can (on 2 vCPUs the
    //    sender may be the limit: compare the offered rate).
    const measure = async (ms: number) => {
      w!.post('reset');
      const sent = await sender.cmd(`flood ${frame} 0 2000000 ${ms}`, 20_000);
      const r = await drained();
      return { pps: r.forwarded / ((r.lastMs - r.firstMs) / 1000), offered: (sent.sent as number) / ((sent.ms as number) / 1000), forwarded: r.forwarded, sent: sent.sent as number };
    };
    const plain = await measure(1500);
    // 1. Capacity of a heavier data path (20 µs of CPU per frame), which one sender can outrun 2:1.
    w.post({ workUs: 20 });
    const heavy = await measure(1500);
    const capacity = heavy.pps;

    // 2. Flood at twice the capacity for at most 5 s, with a 100 ms timer here.
    w.post('reset');
    const target = Math.round(2 * capacity);
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    const iv = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 100);
    let flood: Record<string, unknown>;
    try {
      flood = await sender.cmd(`flood ${frame} ${target} ${target * 5} 5000`, 20_000);
    } finally {
      clearInterval(iv);
    }
    const offered2 = (flood.sent as number) / ((flood.ms as number) / 1000);
    const r2 = await drained();
    const stats = await w.stats();
    const figures = {
      plainHandler: { forwardedPps: Math.round(plain.pps), offeredPps: Math.round(plain.offered), sent: plain.sent, forwarded: plain.forwarded },
      heavyHandler: { forwardedPps: Math.round(heavy.pps), offeredPps: Math.round(heavy.offered), sent: heavy.sent, forwarded: heavy.forwarded },
      floodTargetPps: target,
      floodOfferedPps: Math.round(offered2),
      floodOfferedToCapacity: Number((offered2 / capacity).toFixed(2)),
      floodSent: flood.sent,
      floodMs: Math.round(flood.ms as number),
      floodForwarded: r2.forwarded,
      maxTimerGapMs: Math.round(maxGap),
      ticks,
      workerStats: stats,
    };
    console.log('isolation figures', JSON.stringify(figures));

    expect(heavy.forwarded).toBeGreaterThan(1000);
    expect(flood.sent as number).toBeGreaterThan(0);
    expect(r2.forwarded).toBeGreaterThan(0);
    expect(maxGap).toBeLessThan(500);
    expect(ticks).toBeGreaterThan(20);
    expect(stats.received).toBeGreaterThan(0);
  });
});
