/**
 * The packet worker (a child process: the libpcap binding cannot run in a worker_thread) in
 * namespaces: it forwards like a director, the control process never loads the binding, it works
 * from vitest and from plain `node --import tsx`, and it stops cleanly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCaptureFilter, startPacketWorker, type PacketWorker } from '../../src/io/index.ts';
import { FIXTURES, LineProc, Topology, collectFrames } from './netns.ts';
import { describeAsRoot } from '../helpers/root.ts';
import { l4Frame, tagOf } from './frames.ts';

const MAC_C = '02:20:00:00:00:0c';
const MAC_D = '02:20:00:00:00:0d';
const MAC_R = '02:20:00:00:00:ee'; // the "real server" the handler rewrites to
const VIP = '10.77.2.100';
const HANDLER = `${FIXTURES}mac-rewrite-handler.ts`;
const filter = buildCaptureFilter([{ proto: 'udp', vip: VIP, port: 9 }]);
const frame = (tag: number) =>
  l4Frame({ dstMac: MAC_D, srcMac: MAC_C, srcIp: '10.77.2.1', dstIp: VIP, proto: 'udp', sport: 5000, dport: 9, tag }).toString('hex');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live child processes of this process running the packet worker entry. */
function workerChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('packet-worker.ts')) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function nextMessage(w: PacketWorker, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no message from the worker')), timeoutMs);
    w.once('message', (m) => {
      clearTimeout(t);
      resolve(m);
    });
  });
}

describeAsRoot('packet worker (namespaces)', () => {
  const topo = new Topology();
  let nsC = '';
  let nsD = '';
  let client: LineProc;
  const workers: PacketWorker[] = [];

  beforeAll(async () => {
    nsC = topo.addNs('wkc');
    nsD = topo.addNs('wkd');
    topo.veth({ ns: nsC, dev: 'eth0', mac: MAC_C }, { ns: nsD, dev: 'eth0', mac: MAC_D });
    client = topo.node(nsC, `${FIXTURES}frame-tool.ts`);
    await client.cmd(`open eth0 1 ether dst ${MAC_R}`); // receives what the director forwards
  });
  afterAll(async () => {
    for (const w of workers) await w.stop(2000).catch(() => null);
    topo.destroy();
  });

  it('forwards like a director from the first frame on; the binding loads only in the worker; stops cleanly', async () => {
    const w = await startPacketWorker({ netns: nsD, iface: 'eth0', filter, bufferSize: 4 << 20, handlerModule: HANDLER, handlerInit: { dstMac: MAC_R } });
    workers.push(w);
    expect(w.info).toMatchObject({ iface: 'eth0', mac: MAC_D, prime: 'primed' });
    await client.cmd(`send ${frame(1)}`);
    for (let i = 2; i <= 5; i++) await client.cmd(`send ${frame(i)}`);
    const got = (await collectFrames(client, 5)).map((h) => Buffer.from(h, 'hex'));
    expect(got.map(tagOf)).toEqual([1, 2, 3, 4, 5]);
    for (const g of got) {
      expect(g.subarray(0, 6).toString('hex')).toBe(MAC_R.replaceAll(':', ''));
      expect(g.subarray(6, 12).toString('hex')).toBe(MAC_D.replaceAll(':', ''));
    }
    // Messages both ways; the handler runs in the worker process, which has the binding mapped.
    const pong = nextMessage(w);
    w.post('ping');
    expect(await pong).toBe('pong');
    const rep = nextMessage(w);
    w.post('report');
    expect(await rep).toMatchObject({ forwarded: 5, failed: 0, pid: w.pid, capLoaded: true });
    // ... and this (control) process never loaded it.
    expect(readFileSync('/proc/self/maps', 'utf8')).not.toContain('cap.node');
    expect(await w.stats()).toMatchObject({ received: 5, sent: 5, sendErrors: 0 });
    const final = await w.stop();
    expect(final).toMatchObject({ received: 5, sent: 5 });
    expect(alive(w.pid)).toBe(false);
    expect(w.post('ping')).toBe(false);
  });

  it('runs the same under plain `node --import tsx`', async () => {
    const d = topo.node(nsD, `${FIXTURES}worker-driver.ts`, ['eth0', filter, MAC_R]);
    const ready = await d.next(20_000);
    expect(ready).toMatchObject({ ok: true, prime: 'primed', mainHasCap: false });
    await client.cmd('frames');
    await client.cmd(`send ${frame(42)} 3`);
    expect((await collectFrames(client, 3)).map((h) => tagOf(Buffer.from(h, 'hex')))).toEqual([42, 42, 42]);
    expect((await d.cmd('report')).report).toMatchObject({ forwarded: 3, capLoaded: true });
    expect((await d.cmd('stop')).stats).toMatchObject({ received: 3, sent: 3 });
    expect(await d.exited).toBe(0);
    expect(alive(ready.workerPid as number)).toBe(false);
  });

  it('fails to start with a clear error and leaves no process behind', async () => {
    const codeOf = (p: Promise<unknown>) => p.then(() => 'started', (e: { code?: string; message?: string }) => (e.code === 'E_WORKER_START' ? e.message : e.code));
    expect(await codeOf(startPacketWorker({ netns: nsD, iface: 'nosuch0', filter, bufferSize: 1 << 20, handlerModule: HANDLER, handlerInit: { dstMac: MAC_R } }))).toBe(
      'E_IFACE_MISSING',
    );
    expect(await codeOf(startPacketWorker({ netns: nsD, iface: 'eth0', filter, bufferSize: 1 << 20, handlerModule: `${FIXTURES}../frames.ts`, handlerInit: null }))).toBe(
      'E_WORKER_HANDLER',
    );
    expect(await codeOf(startPacketWorker({ netns: nsD, iface: 'eth0', filter: 'tcp dst port', bufferSize: 1 << 20, handlerModule: HANDLER, handlerInit: { dstMac: MAC_R } }))).toBe(
      'E_CAP_OPEN',
    );
    await expect(startPacketWorker({ iface: 'eth0', filter, bufferSize: 1 << 20, handlerModule: 'relative.ts', handlerInit: null })).rejects.toMatchObject({
      code: 'E_WORKER_HANDLER',
    });
    expect(workerChildren()).toEqual([]);
  });
});
