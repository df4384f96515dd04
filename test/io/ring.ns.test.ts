/**
 * The packet ring (src/io/ring.ts + the addon) in namespaces (root; CI runs as root): frames from the
 * peer arrive in order through the RX ring, the TX ring sends (one system call per batch), kernel
 * drops are counted when the ring is overrun, residence is recorded, and misuse gives typed errors
 * without a crash: oversize frame, read/write after close, double close, no CAP_NET_RAW, a ring the
 * kernel refuses, a fan-out the kernel refuses, the interface disappearing while open.
 * Namespaces: dsrq<pid>… (this file's own prefix), removed in afterAll.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRing, ringOpenError } from '../../src/io/ring.ts';
import { FIXTURES, LineProc, Topology, isRoot, nsRun, sleep } from './netns.ts';
import { l4Frame, tagOf } from './frames.ts';

const MAC_C = '02:30:00:00:00:0c';
const MAC_D = '02:30:00:00:00:0d';
const TOOL = `${FIXTURES}ring-tool.ts`;

function frame(tag: number, srcMac = MAC_C, dstMac = MAC_D): string {
  return l4Frame({ dstMac, srcMac, srcIp: '10.78.1.1', dstIp: '10.78.1.100', proto: 'udp', sport: 40000, dport: 80, tag }).toString('hex');
}
const tags = (r: Record<string, unknown>) => (r.frames as string[]).map((h) => tagOf(Buffer.from(h, 'hex')));
type Stats = { received: number; sent: number; sendErrors: number; kernelPackets: number; kernelDrops: number; residence: { count: number; sum: number } };
const statsOf = async (p: LineProc) => (await p.cmd('stats')).stats as Stats;

async function until(pred: () => Promise<boolean>, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe.runIf(isRoot())('packet ring (namespaces)', () => {
  const topo = new Topology('dsrq');
  let nsC = '';
  let nsD = '';
  let client: LineProc;

  beforeAll(async () => {
    nsC = topo.addNs('c');
    nsD = topo.addNs('d');
    topo.veth({ ns: nsC, dev: 'eth0', mac: MAC_C }, { ns: nsD, dev: 'eth0', mac: MAC_D });
    client = topo.node(nsC, TOOL);
    // The client's ring takes only what the director side sends back to it.
    await client.cmd(`open eth0 {} inbound and ether src ${MAC_D} and udp`); // not IPv6 ND/MLD of a fresh link
  });
  afterAll(() => topo.destroy());

  for (const version of [2, 3] as const) {
    it(`V${version}: frames from the peer arrive in order, the first one included; the kernel counted them`, async () => {
      const d = topo.node(nsD, TOOL);
      try {
        await d.cmd(`open eth0 {"version":${version}} inbound and udp dst port 80`);
        await client.cmd(`send ${frame(0)}`); // right after open: no priming needed
        await client.cmd(`burst ${frame(1)} 300`); // tags 0..299 (burst numbers its frames), one send()
        await until(async () => ((await d.cmd('count')).count as number) >= 301);
        expect(tags(await d.cmd('frames'))).toEqual([0, ...Array.from({ length: 300 }, (_, i) => i)]);
        const s = await statsOf(d);
        expect(s.received).toBe(301);
        expect(s.kernelPackets).toBe(301);
        expect(s.kernelDrops).toBe(0);
      } finally {
        await d.quit();
      }
    });
  }

  it.each([2, 3])('the TX ring sends (RX V%i): every frame echoed inside its batch comes back in order, with residence recorded', async (version) => {
    const d = topo.node(nsD, TOOL);
    try {
      await d.cmd(`open eth0 {"version":${version}} inbound and udp dst port 80`);
      await d.cmd('echo 1');
      await client.cmd('frames'); // forget anything older
      const before = (await client.cmd('count')).count as number;
      await client.cmd(`burst ${frame(0)} 500`);
      await until(async () => ((await client.cmd('count')).count as number) >= before + 500);
      const back = tags(await client.cmd('frames'));
      expect(back).toEqual(Array.from({ length: 500 }, (_, i) => i));
      const s = await statsOf(d);
      expect(s.sent).toBe(500);
      expect(s.sendErrors).toBe(0);
      expect(s.residence.count).toBe(500);
      expect(s.residence.sum).toBeGreaterThan(0);
      expect(s.residence.sum / s.residence.count).toBeLessThan(1); // seconds: a sane clock pairing
    } finally {
      await d.quit();
    }
  });

  it('an overrun ring (consumer paused, bounded flood) counts its drops: received + kernel drops = frames sent', async () => {
    const d = topo.node(nsD, TOOL);
    try {
      // 64 slots of 2048 bytes.
      await d.cmd('open eth0 {"frames":64} inbound and udp dst port 80');
      await d.cmd('pause');
      const before = await statsOf(client);
      await client.cmd(`flood ${frame(0)} 3000`);
      const sent = (await statsOf(client)).sent - before.sent;
      expect(sent).toBe(3000);
      await sleep(200);
      await d.cmd('resume');
      await until(async () => ((await d.cmd('count')).count as number) >= 64);
      await sleep(200);
      const s = await statsOf(d);
      expect(s.kernelDrops).toBeGreaterThanOrEqual(3000 - 64);
      expect(s.received).toBeLessThanOrEqual(64);
      expect(s.received + s.kernelDrops).toBe(3000);
      expect(s.kernelPackets).toBe(3000); // tp_packets counts the dropped ones too
      // The counters accumulate: the kernel resets them on each read, the adapter adds them up.
      expect((await statsOf(d)).kernelDrops).toBe(s.kernelDrops);
    } finally {
      await d.quit();
    }
  });

  it('misuse: an oversize frame, read and write after close, a double close: typed errors or false, never a crash', async () => {
    const d = topo.node(nsD, TOOL);
    try {
      await d.cmd('open eth0 {} inbound and udp dst port 80');
      d.write('write 00 3000');
      const big = await d.next();
      expect(big).toMatchObject({ ok: false, code: 'E_RING_FRAME_SIZE' });
      expect(String(big.error)).toMatch(/2016 bytes/);
      expect((await d.cmd('poll')).n).toBe(0);
      expect((await d.cmd('close')).closed).toBe(true); // close() twice inside
      expect(await d.cmd(`send-after-close ${frame(1)}`)).toMatchObject({ result: false, closed: true });
      d.write('poll');
      expect(await d.next()).toMatchObject({ ok: false, code: 'E_RING_CLOSED' });
      d.write('write 00 60');
      expect(await d.next()).toMatchObject({ ok: false, code: 'E_RING_CLOSED' });
      d.write('stats');
      expect((await d.next()).ok).toBe(true); // the last counters stay readable
    } finally {
      await d.quit();
    }
    expect(await d.exited).toBe(0);
  });

  it('without CAP_NET_RAW: E_RING_PERM with the fix', async () => {
    const d = topo.node(nsD, TOOL, [], ['setpriv', '--bounding-set=-net_raw,-net_admin', '--inh-caps=-net_raw,-net_admin', '--']);
    try {
      d.write('open eth0 {} udp');
      const r = await d.next();
      expect(r).toMatchObject({ ok: false, code: 'E_RING_PERM' });
      expect(String(r.error)).toMatch(/CAP_NET_RAW/);
    } finally {
      await d.quit();
    }
  });

  it('a ring the kernel refuses is E_RING_SIZE; a fan-out it refuses is E_RING_FANOUT', async () => {
    // The kernel's own rule (frame smaller than the TPACKET_V2 header) taken straight to the addon:
    // planRing() would refuse it first, so the kernel's answer is checked here.
    const out = nsRun(nsD, process.execPath, ['--import', 'tsx', '-e', `
      import('${new URL('../../src/io/ring.ts', import.meta.url).pathname}').then(({ loadRing }) => {
        const { Ring } = loadRing();
        try {
          new Ring({ iface: 'eth0', filter: '', version: 2, rxBlockSize: 4096, rxBlockNr: 1, rxFrameSize: 32, txBlockSize: 4096, txBlockNr: 1, txFrameSize: 2048 });
          console.log(JSON.stringify({ ok: true }));
        } catch (e) {
          console.log(JSON.stringify({ ok: false, code: e.code, step: e.step, errno: e.errno, message: e.message }));
        }
      });`]);
    const r = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; code: string; step: string };
    expect(r).toMatchObject({ ok: false, code: 'EINVAL', step: 'PACKET_RX_RING' });
    expect(ringOpenError(r, 'eth0').code).toBe('E_RING_SIZE');
    expect(typeof loadRing().Ring).toBe('function');

    // Members of one group must agree on the mode: a group held in round-robin mode (PACKET_FANOUT_LB)
    // by another socket refuses our flow-hash member; with the same mode, a second member joins.
    const holder = spawn('ip', ['netns', 'exec', nsD, 'python3', '-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))',
      's.bind(("eth0", 3))',
      's.setsockopt(263, 18, 4243 | (1 << 16))  # SOL_PACKET, PACKET_FANOUT, group 4243, PACKET_FANOUT_LB',
      'print("held", flush=True)',
      'sys.stdin.read()',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const a = topo.node(nsD, TOOL);
    const b = topo.node(nsD, TOOL);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`fan-out holder exited (${code})`)));
      });
      a.write('open eth0 {"fanout":{"group":4243,"mode":"hash"}} udp');
      const r = await a.next();
      expect(r).toMatchObject({ ok: false, code: 'E_RING_FANOUT' });
      expect(String(r.error)).toMatch(/group 4243/);
      await a.cmd('open eth0 {"fanout":{"group":4244,"mode":"hash"}} udp');
      await b.cmd('open eth0 {"fanout":{"group":4244,"mode":"hash"}} udp'); // same mode and flags: joins
    } finally {
      holder.stdin!.end();
      if (holder.pid !== undefined && holder.exitCode === null) process.kill(holder.pid, 'SIGKILL');
      await a.quit();
      await b.quit();
    }
  });

  it('the interface disappearing while open: E_RING_IFACE_GONE reported once, the ring closed, no crash', async () => {
    const ns = topo.addNs('g');
    topo.veth({ ns, dev: 'eth0', mac: '02:30:00:00:00:1a' }, { ns, dev: 'eth1', mac: '02:30:00:00:00:1b' });
    const d = topo.node(ns, TOOL);
    try {
      await d.cmd('open eth0 {} udp');
      await d.cmd('poll');
      nsRun(ns, 'ip', ['link', 'del', 'eth0']);
      await until(async () => ((await d.cmd('errors')).errors as string[]).length > 0);
      expect((await d.cmd('errors')).errors).toEqual(['E_RING_IFACE_GONE']);
      expect(await d.cmd(`send-after-close ${frame(1)}`)).toMatchObject({ result: false, closed: true });
    } finally {
      await d.quit();
    }
    expect(await d.exited).toBe(0);
  });

  it('the interface going down and up again: no error, the ring goes on reading', async () => {
    const ns = topo.addNs('h');
    topo.veth({ ns, dev: 'eth0', mac: '02:30:00:00:00:2a' }, { ns, dev: 'eth1', mac: '02:30:00:00:00:2b' });
    const d = topo.node(ns, TOOL);
    const s = topo.node(ns, TOOL);
    try {
      await d.cmd('open eth0 {} inbound and udp dst port 80');
      await s.cmd('open eth1 {} less 1');
      nsRun(ns, 'ip', ['link', 'set', 'eth0', 'down']);
      await sleep(300);
      nsRun(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      await until(async () => {
        await s.cmd(`send ${frame(7, '02:30:00:00:00:2b', '02:30:00:00:00:2a')}`);
        return ((await d.cmd('count')).count as number) > 0;
      });
      expect((await d.cmd('errors')).errors).toEqual([]);
      expect(tags(await d.cmd('frames'))[0]).toBe(7);
    } finally {
      await d.quit();
      await s.quit();
    }
  });

  it('a frame larger than its RX slot is dropped and counted (truncated), never handed on; the next one is', async () => {
    const ns = topo.addNs('t');
    topo.veth({ ns, dev: 'eth0', mac: '02:30:00:00:00:3a' }, { ns, dev: 'eth1', mac: '02:30:00:00:00:3b' });
    for (const dev of ['eth0', 'eth1']) nsRun(ns, 'ip', ['link', 'set', dev, 'mtu', '4000']);
    const d = topo.node(ns, TOOL);
    const s = topo.node(ns, TOOL);
    try {
      await d.cmd('open eth0 {} inbound and udp dst port 80'); // 2048-byte slots: 1982 bytes of frame at most
      await s.cmd('open eth1 {"frameSize":4096} less 1'); // TX slots of 4096: room for 3000 bytes
      const big = Buffer.alloc(3000);
      Buffer.from(frame(1, '02:30:00:00:00:3b', '02:30:00:00:00:3a'), 'hex').copy(big);
      big.writeUInt16BE(3000 - 14, 16); // IPv4 total length
      await s.cmd(`send ${big.toString('hex')}`);
      await s.cmd(`send ${frame(2, '02:30:00:00:00:3b', '02:30:00:00:00:3a')}`);
      await until(async () => ((await d.cmd('count')).count as number) >= 1);
      expect(tags(await d.cmd('frames'))).toEqual([2]);
      const st = (await d.cmd('stats')).stats as { truncated: number; received: number };
      expect(st.truncated).toBe(1);
      expect(st.received).toBe(1);
    } finally {
      await d.quit();
      await s.quit();
    }
  });
});
