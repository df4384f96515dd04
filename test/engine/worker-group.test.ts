/**
 * --workers N, control side: the Director talks to N packet workers as to one. First with bare fake
 * workers (what is sent where, how answers are joined), then with N real DirectorPacketPath
 * instances in this process behind fake interfaces and one fake clock: every state change reaches
 * every worker, ARP learnt by one worker reaches the others, gratuitous ARP and ARP requests for the
 * reals come from worker 0 only, an ARP request for the VIP is answered by the worker it reaches.
 */
import { describe, expect, it } from 'vitest';
import {
  Director, DirectorPacketPath, groupPacketPaths, type FromPacket, type PacketPathInit, type PacketSnapshot, type ServiceWithReals, type ToPacket,
} from '../../src/engine/index.ts';
import { ipToString, macToString, parseIPv4, parseMac } from '../../src/model/index.ts';
import { arpReply, arpRequest, decodeFrame, FrameInfo, tcpFrame } from '../../src/packet/index.ts';
import { silentLogger, type FrameIO, type FrameIOStats, type NetControl, type PacketPathHandle } from '../../src/ports/index.ts';
import { FakeClock, flush } from '../health/fakes.ts';

const ip = (s: string) => parseIPv4(s)!;
const VIP = ip('10.0.0.100');
const SELF = '02:00:00:00:00:01';
const R1 = { ip: '10.0.0.21', mac: '02:00:00:00:00:15' };
const R2 = { ip: '10.0.0.22', mac: '02:00:00:00:00:16' };
const SVC = { proto: 'tcp' as const, vip: VIP, port: 80 };
const SERVICES: ServiceWithReals[] = [{
  spec: { ...SVC, scheduler: 'rr' },
  reals: [{ addr: ip(R1.ip), port: 80, weight: 1 }, { addr: ip(R2.ip), port: 80, weight: 1 }],
}];

const net: NetControl = {
  installIngressDrop: async () => {}, removeIngressDrop: async () => {}, localAddresses: () => [], addressOn: () => ip('10.0.0.2'),
  createLocalPath: async () => ({ iface: 'l0', peerMac: '02:00:00:00:00:99' }), removeLocalPath: async () => {},
};

/** A worker that records what it was sent and answers as told. */
class BareWorker implements PacketPathHandle {
  readonly got: ToPacket[] = [];
  cb: ((m: unknown) => void) | null = null;
  exitCb: ((why: string) => void) | null = null;
  stopped = false;
  constructor(readonly pid: number, private readonly answer: (m: ToPacket) => FromPacket | null) {}
  post(m: unknown): boolean {
    this.got.push(m as ToPacket);
    const a = this.answer(m as ToPacket);
    if (a) queueMicrotask(() => this.cb?.(a));
    return true;
  }
  onMessage(cb: (m: unknown) => void): void { this.cb = cb; }
  onExit(cb: (why: string) => void): void { this.exitCb = cb; }
  async stop(): Promise<void> { this.stopped = true; }
}

const ok = (m: ToPacket): FromPacket => ({ ev: 'reply', id: m.id, ok: true });

describe('groupPacketPaths with bare workers', () => {
  it('one handle is returned as it is', () => {
    const w = new BareWorker(7, ok);
    expect(groupPacketPaths([w])).toBe(w);
  });

  it('every request goes to every worker; the Director gets one answer once all have answered', async () => {
    const a = new BareWorker(10, ok);
    const b = new BareWorker(11, ok);
    const d = new Director({ net, startPacketPath: async () => groupPacketPaths([a, b]), log: silentLogger });
    await d.start({ iface: 'eth0', services: SERVICES });
    const ops: Parameters<Director['request']>[0][] = [
      { op: 'editReal', svc: SVC, addr: ip(R1.ip), port: 80, changes: { weight: 0 } },
      { op: 'addReal', svc: SVC, real: { addr: ip('10.0.0.23'), port: 80, weight: 2 } },
      { op: 'deleteReal', svc: SVC, addr: ip('10.0.0.23'), port: 80 },
      { op: 'editService', svc: SVC, changes: { scheduler: 'wlc' } },
      { op: 'setActive', active: false },
      { op: 'zero' },
      { op: 'syncImport', conns: [] },
      { op: 'flush' },
    ];
    for (const op of ops) await expect(d.request(op)).resolves.toBeUndefined();
    expect(a.got.map((m) => m.op)).toEqual(ops.map((o) => o.op));
    expect(b.got).toEqual(a.got);
    await d.stop();
    expect(a.stopped && b.stopped).toBe(true);
  });

  it('a refusal by any worker is the answer; a late or unknown answer is ignored', async () => {
    const a = new BareWorker(10, ok);
    const b = new BareWorker(11, (m) => ({ ev: 'reply', id: m.id, ok: false, code: 'E_NO_REAL', message: 'no such real' }));
    const d = new Director({ net, startPacketPath: async () => groupPacketPaths([a, b]), log: silentLogger });
    await d.start({ iface: 'eth0', services: SERVICES });
    await expect(d.request({ op: 'deleteReal', svc: SVC, addr: 1, port: 1 })).rejects.toMatchObject({ code: 'E_NO_REAL' });
    a.cb?.({ ev: 'reply', id: 999, ok: true });
    await d.stop();
  });

  it('waits for the slowest worker and sums the snapshots', async () => {
    const snap = (fwd: number): PacketSnapshot => ({
      at: 1, active: true, services: [], totals: { conns: 0, inPkts: 0, inBytes: 0 }, reasons: {}, forwarded: fwd, local: 0, arpReplies: 0, fromVip: 0,
      io: { received: fwd, sent: fwd, sendErrors: 0, truncated: 0 }, connEntries: 0, connEvictions: 0, timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
    });
    const a = new BareWorker(10, (m) => ({ ev: 'reply', id: m.id, ok: true, snapshot: snap(5) }));
    let release: (() => void) | null = null;
    const b = new BareWorker(11, (m) => {
      release = () => b.cb?.({ ev: 'reply', id: m.id, ok: true, snapshot: snap(7) });
      return null;
    });
    const g = groupPacketPaths([a, b]);
    const got: FromPacket[] = [];
    g.onMessage((m) => got.push(m as FromPacket));
    g.post({ op: 'snapshot', id: 1 } satisfies ToPacket);
    await flush();
    expect(got).toEqual([]);
    release!();
    expect(got).toHaveLength(1);
    const s = (got[0] as { snapshot: PacketSnapshot }).snapshot;
    expect(s.forwarded).toBe(12);
    expect(s.io).toMatchObject({ received: 12, workers: 2 });
    expect(s.perWorker!.map((w) => w.forwarded)).toEqual([5, 7]);
  });

  it('relays a worker ARP frame to the others only; neighbour events and "started" come from worker 0 only', async () => {
    const ws = [new BareWorker(10, () => null), new BareWorker(11, () => null), new BareWorker(12, () => null)];
    const g = groupPacketPaths(ws);
    const got: FromPacket[] = [];
    g.onMessage((m) => got.push(m as FromPacket));
    const frame = Uint8Array.of(1, 2, 3);
    ws[1]!.cb!({ ev: 'arp', frame } satisfies FromPacket);
    expect(ws.map((w) => w.got.map((m) => m.op))).toEqual([['arpInput'], [], ['arpInput']]);
    expect((ws[0]!.got[0] as { frame: Uint8Array }).frame).toEqual(frame);
    // the relay's own answers never reach the Director
    ws[0]!.cb!({ ev: 'reply', id: ws[0]!.got[0]!.id, ok: true });
    for (const w of ws) {
      w.cb!({ ev: 'neigh', kind: 'resolved', ip: 5, mac: '02:00:00:00:00:05' } satisfies FromPacket);
      w.cb!({ ev: 'started', services: 1, reals: 2, local: 0 } satisfies FromPacket);
    }
    expect(got.map((m) => m.ev)).toEqual(['neigh', 'started']);
  });

  it('the end of any worker ends the packet path (reported once, naming the worker)', () => {
    const ws = [new BareWorker(10, ok), new BareWorker(11, ok)];
    const g = groupPacketPaths(ws);
    const why: string[] = [];
    g.onExit((w) => why.push(w));
    ws[1]!.exitCb!('exited (code null, signal SIGKILL)');
    ws[0]!.exitCb!('exited (code 1, signal null)');
    expect(why).toEqual(['packet worker 1 of 2 (pid 11) ended: exited (code null, signal SIGKILL)']);
  });
});

/** An interface that records what was sent. */
class FakeIO implements FrameIO {
  readonly iface = 'eth0';
  readonly mac = parseMac(SELF)!;
  closed = false;
  readonly sent: Uint8Array[] = [];
  received = 0;
  onFrame(): void {}
  send(frame: Uint8Array, len?: number): boolean {
    this.sent.push(Uint8Array.from(frame.subarray(0, len ?? frame.length)));
    return true;
  }
  close(): void { this.closed = true; }
  stats(): FrameIOStats { return { received: this.received, sent: this.sent.length, sendErrors: 0, truncated: 0, unhandled: 0 }; }
}

/** N DirectorPacketPath workers in this process, each behind a handle like the worker process's. */
function inProcessWorkers(n: number, clock: FakeClock) {
  const ios: FakeIO[] = [];
  const paths: DirectorPacketPath[] = [];
  const start = async ({ init }: { init: unknown }) => {
    const handles = Array.from({ length: n }, (_, index): PacketPathHandle => {
      const io = new FakeIO();
      let cb: ((m: unknown) => void) | null = null;
      const early: unknown[] = [];
      const i: PacketPathInit = { ...(init as PacketPathInit), worker: n > 1 ? { index, count: n } : undefined };
      // structuredClone: the IPC channel's copy
      const pp = new DirectorPacketPath(i, io, null, (m) => (cb ? queueMicrotask(() => cb!(structuredClone(m))) : early.push(m)), clock);
      ios.push(io);
      paths.push(pp);
      return {
        pid: 100 + index,
        post: (m) => (queueMicrotask(() => pp.onMessage(structuredClone(m))), true),
        onMessage: (c) => { cb = c; for (const m of early.splice(0)) c(m); },
        onExit: () => {},
        stop: async () => pp.close(),
      };
    });
    return groupPacketPaths(handles);
  };
  return { ios, paths, start };
}

const info = new FrameInfo();
function arpKind(f: Uint8Array): string {
  decodeFrame(f, f.length, info);
  if (info.etherType !== 0x0806) return 'ip';
  const garp = info.arpSpa === info.arpTpa;
  return `${garp ? 'garp' : info.arpOp === 1 ? 'request' : 'reply'} ${ipToString(info.arpTpa)}`;
}

async function twoWorkerDirector() {
  const clock = new FakeClock();
  const w = inProcessWorkers(2, clock);
  const d = new Director({ net, startPacketPath: w.start, log: silentLogger });
  await d.start({ iface: 'eth0', services: SERVICES, garp: { count: 2, intervalMs: 500 }, connCapacity: 4096 });
  await flush();
  return { clock, d, ...w };
}

const replyFrom = (r: { ip: string; mac: string }) => Buffer.from(arpReply({ senderMac: parseMac(r.mac)!, senderIp: ip(r.ip), targetMac: parseMac(SELF)!, targetIp: ip('10.0.0.2') }));

describe('N DirectorPacketPath workers behind one Director', () => {
  it('gratuitous ARP and the ARP requests for the reals go out of worker 0 only', async () => {
    const { clock, ios, d } = await twoWorkerDirector();
    await clock.advance(1200);
    const kinds = ios.map((io) => io.sent.map(arpKind));
    expect(kinds[1]).toEqual([]);
    expect(kinds[0]!.filter((k) => k === 'garp 10.0.0.100')).toHaveLength(4); // 2 pairs (request + reply)
    expect(kinds[0]!.filter((k) => k === `request ${R1.ip}`)).toHaveLength(2); // at 0 and 1000 ms
    await d.stop();
  });

  it('a real\'s ARP reply received by worker 1 resolves the real in worker 0 too (and is reported once)', async () => {
    const { clock, paths, d } = await twoWorkerDirector();
    await clock.advance(100);
    paths[1]!.onFrame(replyFrom(R1), 42);
    await flush();
    const macOf = (s: PacketSnapshot, a: string) => s.services[0]!.reals.find((r) => r.addr === ip(a))!.mac;
    for (const p of paths) expect(macOf(p.snapshot(false), R1.ip)).toBe(R1.mac);
    expect(macOf(paths[0]!.snapshot(false), R2.ip)).toBeNull();
    // Past the 3 unanswered probes, R2 has failed everywhere; R1 (confirmed through the relay) has not.
    await clock.advance(4000);
    for (const p of paths) {
      expect(macOf(p.snapshot(false), R1.ip)).toBe(R1.mac);
      expect(macOf(p.snapshot(false), R2.ip)).toBeNull();
    }
    await d.stop();
  });

  it('an ARP request for the VIP is answered by the worker it reached, once', async () => {
    const { ios, paths, d } = await twoWorkerDirector();
    const before = ios.map((io) => io.sent.length);
    const req = Buffer.from(arpRequest({ senderMac: parseMac('02:00:00:00:00:0a')!, senderIp: ip('10.0.0.10'), targetIp: VIP }));
    paths[1]!.onFrame(req, req.length);
    expect(ios[0]!.sent.length - before[0]!).toBe(0);
    expect(ios[1]!.sent.slice(before[1]!).map(arpKind)).toEqual(['reply 10.0.0.10']);
    const s = await d.snapshot();
    expect(s.arpReplies).toBe(1);
    expect(s.perWorker!.map((w) => w.arpReplies)).toEqual([0, 1]);
    await d.stop();
  });

  it('weight changes, quiesce, setActive and zero reach every worker; the snapshot sums the flows of both', async () => {
    const { paths, d } = await twoWorkerDirector();
    for (const p of paths) {
      p.onFrame(replyFrom(R1), 42);
      p.onFrame(replyFrom(R2), 42);
    }
    await flush();
    // flows split between the workers as the fan-out would: 3 to worker 0, 2 to worker 1
    for (const [w, sport] of [[0, 1000], [0, 1001], [0, 1002], [1, 2000], [1, 2001]] as const) {
      const f = Buffer.from(tcpFrame({ srcMac: '02:00:00:00:00:0a', dstMac: SELF, sport, flags: 'SYN' }));
      paths[w]!.onFrame(f, f.length);
    }
    let s = await d.snapshot();
    expect(s.services[0]!.conns).toBe(5);
    expect(s.services[0]!.reals.reduce((n, r) => n + r.inactConns + r.activeConns, 0)).toBe(5);
    expect(s.perWorker!.map((w) => w.forwarded)).toEqual([3, 2]);
    expect(s.io).toMatchObject({ workers: 2 });
    await d.request({ op: 'editReal', svc: SVC, addr: ip(R1.ip), port: 80, changes: { weight: 0 } });
    for (const p of paths) expect(p.dp.services.get('tcp', VIP, 80).dests.find((x) => x.addr === ip(R1.ip))!.weight).toBe(0);
    await d.request({ op: 'setActive', active: false });
    for (const p of paths) expect(p.dp.active).toBe(false);
    await d.request({ op: 'zero' });
    s = await d.snapshot();
    expect(s.services[0]!.conns).toBe(0);
    expect(s.totals.conns).toBe(0);
    await d.request({ op: 'deleteService', svc: SVC });
    for (const p of paths) expect(p.dp.services.services).toHaveLength(0);
    await d.stop();
  });

  it('connection sync: every worker exports its connections', async () => {
    const { paths, d } = await twoWorkerDirector();
    for (const p of paths) p.onFrame(replyFrom(R1), 42);
    await flush();
    for (const [w, sport] of [[0, 1000], [1, 2000], [1, 2001]] as const) {
      const f = Buffer.from(tcpFrame({ srcMac: '02:00:00:00:00:0a', dstMac: SELF, sport, flags: 'SYN' }));
      paths[w]!.onFrame(f, f.length);
    }
    const { decodeSyncBatch } = await import('../../src/ha/index.ts');
    const snap = await d.request({ op: 'syncExport' });
    expect(decodeSyncBatch(snap!.sync!, Infinity)!.map((c) => c.cport).sort()).toEqual([1000, 2000, 2001]);
    const conns = (await d.snapshot(true)).conns!;
    expect(conns.map((c) => c.cport).sort()).toEqual([1000, 2000, 2001]);
    expect(macToString(parseMac(R1.mac)!)).toBe(R1.mac);
    await d.stop();
  });

  it('one worker (--workers 1) is as before: it sends GARP and the ARP requests itself and posts no ARP frame', async () => {
    const clock = new FakeClock();
    const io = new FakeIO();
    const posted: FromPacket[] = [];
    const init: PacketPathInit = { services: SERVICES, localAddrs: [], arpSenderIp: ip('10.0.0.2'), garp: { count: 1, intervalMs: 500 }, active: true, connCapacity: 4096 };
    const pp = new DirectorPacketPath(init, io, null, (m) => posted.push(m), clock);
    await clock.advance(100);
    pp.onFrame(replyFrom(R1), 42);
    expect(posted.map((m) => m.ev)).toEqual(['started', 'neigh']);
    const kinds = io.sent.map(arpKind);
    expect(kinds).toContain('garp 10.0.0.100');
    expect(kinds).toContain(`request ${R1.ip}`);
    expect(kinds).toContain(`request ${R2.ip}`);
    pp.close();
  });
});
