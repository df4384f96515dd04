/**
 * The packet path's teaching samples (web console): off unless asked, at most N new flows a second,
 * every n-th one, each as it arrived and as it was sent; established flows never sampled. And the
 * ARP-for-a-VIP-from-another-host notice, at most once a second per VIP.
 */
import { describe, expect, it } from 'vitest';
import { DirectorPacketPath, type FromPacket, type ToPacket } from '../../src/engine/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { ethernet, ipv4, tcp } from '../../src/packet/index.ts';
import type { FrameIO } from '../../src/ports/index.ts';

const DIR_MAC = '02:00:00:00:00:07';
const REAL_MAC = '02:00:00:00:00:09';
const CLIENT_MAC = '02:00:00:00:00:64';
const VIP = '192.168.0.10';

function setup() {
  let now = 0;
  const ticks: Array<() => void> = [];
  const posted: FromPacket[] = [];
  const io: FrameIO = {
    iface: 'eth0', mac: parseMac(DIR_MAC)!, closed: false,
    onFrame() {}, send: () => true, close() {},
    stats: () => ({ received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 }),
  };
  const pp = new DirectorPacketPath(
    {
      services: [{ spec: { proto: 'tcp', vip: parseIPv4(VIP)!, port: 80, scheduler: 'rr' }, reals: [{ addr: parseIPv4('192.168.0.9')!, port: 80, weight: 1 }] }],
      localAddrs: [], arpSenderIp: 0, garp: false, active: true,
    },
    io, null, (m) => posted.push(m),
    { now: () => now, every: (_ms, fn) => (ticks.push(fn), () => {}) },
  );
  pp.dp.services.setNeighbour(parseIPv4('192.168.0.9')!, parseMac(REAL_MAC)!);
  let id = 0;
  return {
    pp,
    posted,
    samples: () => posted.filter((m): m is Extract<FromPacket, { ev: 'sample' }> => m.ev === 'sample'),
    send: (op: Record<string, unknown>) => pp.onMessage({ ...op, id: ++id } as ToPacket),
    at(t: number) {
      now = t;
      for (const f of ticks) f();
    },
    frame(sport: number, flags: string[]) {
      const seg = tcp({ src: '192.168.0.100', dst: VIP, sport, dport: 80, flags: flags as never });
      const f = Buffer.from(ethernet(DIR_MAC, CLIENT_MAC, 0x0800, ipv4({ src: '192.168.0.100', dst: VIP, proto: 'tcp', ttl: 64, payload: seg })));
      pp.onFrame(f, f.length);
    },
    arp(spa: string, sha: string) {
      const body = Buffer.alloc(28);
      body.writeUInt16BE(1, 0); body.writeUInt16BE(0x0800, 2); body[4] = 6; body[5] = 4; body.writeUInt16BE(1, 6);
      parseMac(sha)!.forEach((b, i) => (body[8 + i] = b));
      spa.split('.').forEach((o, i) => (body[14 + i] = Number(o)));
      spa.split('.').forEach((o, i) => (body[24 + i] = Number(o)));
      const f = Buffer.from(ethernet('ff:ff:ff:ff:ff:ff', sha, 0x0806, body));
      pp.onFrame(f, f.length);
    },
  };
}

describe('teaching samples from the packet path', () => {
  it('are off unless the control side asks', () => {
    const t = setup();
    for (let p = 0; p < 5; p++) t.frame(40000 + p, ['SYN']);
    expect(t.samples()).toEqual([]);
  });

  it('take at most perSecond new flows a second, as received and as sent', () => {
    const t = setup();
    t.send({ op: 'sample', perSecond: 2 });
    t.at(10);
    for (let p = 0; p < 6; p++) t.frame(40000 + p, ['SYN']);
    // The same flows' later packets are not new flows.
    for (let p = 0; p < 6; p++) t.frame(40000 + p, ['ACK']);
    expect(t.samples()).toHaveLength(2);
    const s = t.samples()[0]!;
    const inF = Buffer.from(s.inHex, 'hex');
    const outF = Buffer.from(s.outHex, 'hex');
    expect(inF.subarray(0, 6)).toEqual(Buffer.from(parseMac(DIR_MAC)!));
    expect(inF.subarray(6, 12)).toEqual(Buffer.from(parseMac(CLIENT_MAC)!));
    expect(outF.subarray(0, 6)).toEqual(Buffer.from(parseMac(REAL_MAC)!));
    expect(outF.subarray(6, 12)).toEqual(Buffer.from(parseMac(DIR_MAC)!));
    expect([inF[22], outF[22]]).toEqual([64, 63]); // TTL, as IPVS lowers it
    expect(inF.readUInt16BE(34)).toBe(40000); // the first new flow
    expect(s.local).toBe(false);
    // The next second: two more.
    t.at(600);
    for (let p = 10; p < 14; p++) t.frame(40000 + p, ['SYN']);
    expect(t.samples()).toHaveLength(2);
    t.at(1100);
    for (let p = 20; p < 26; p++) t.frame(40000 + p, ['SYN']);
    expect(t.samples()).toHaveLength(4);
    // Off again.
    t.send({ op: 'sample', perSecond: 0 });
    t.at(5000);
    for (let p = 30; p < 36; p++) t.frame(40000 + p, ['SYN']);
    expect(t.samples()).toHaveLength(4);
  });

  it('every n-th new flow with everyN', () => {
    const t = setup();
    t.send({ op: 'sample', perSecond: 20, everyN: 3 });
    for (let p = 0; p < 9; p++) t.frame(41000 + p, ['SYN']);
    expect(t.samples().map((s) => Buffer.from(s.inHex, 'hex').readUInt16BE(34))).toEqual([41002, 41005, 41008]);
  });

  it('tells of ARP for a VIP from another host, at most once a second per VIP', () => {
    const t = setup();
    t.at(0);
    t.arp(VIP, '02:00:00:00:00:08');
    t.arp(VIP, '02:00:00:00:00:08');
    t.arp('192.168.0.50', '02:00:00:00:00:08'); // not a VIP
    t.arp(VIP, DIR_MAC); // our own
    t.at(1500);
    t.arp(VIP, '02:00:00:00:00:08');
    const seen = t.posted.filter((m) => m.ev === 'arpVip');
    expect(seen).toEqual([
      { ev: 'arpVip', ip: parseIPv4(VIP)! >>> 0, mac: '02:00:00:00:00:08', op: 'request', active: true },
      { ev: 'arpVip', ip: parseIPv4(VIP)! >>> 0, mac: '02:00:00:00:00:08', op: 'request', active: true },
    ]);
  });
});
