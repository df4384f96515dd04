/**
 * A synthetic DSR capture set of any size, taken at several points (client.pcap, director.pcap,
 * real1.pcap … real3.pcap), written as it is made (memory stays small). The client side (one
 * router MAC, a new client address and port per flow) asks ARP for the VIP once; then `flows` short
 * HTTP connections one after the other, each: SYN to the director, forwarded to a real (round
 * robin), SYN-ACK from the VIP straight to the client, the request forwarded, the reply, FIN both
 * ways — 11 frames on the wire, 22 sightings. Planted problems: every `bigEvery`-th reply is larger
 * than the MTU (frame-over-mtu); flow 500 of every 1000 gets no answer (handshake-incomplete: its
 * SYN, forwarded, and nothing else); at the very end real3 answers ARP for the VIP too
 * (arp-multiple-macs). Used by the streaming explain test and benchmark.
 */
import { join } from 'node:path';
import { CaptureWriter } from '../../src/io/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { arpReply, arpRequest, tcpFrame } from '../../src/packet/index.ts';

export const DSR = {
  vip: '10.200.0.100',
  port: 80,
  client: '02:00:00:00:01:01',
  clientIp: '10.100.0.1',
  director: '02:00:00:00:00:64',
  directorIp: '10.200.0.10',
  reals: [1, 2, 3].map((n) => ({ mac: `02:00:00:00:02:0${n}`, ip: `10.200.0.2${n}`, point: `real${n}` })),
};

export interface SyntheticDsr {
  dir: string;
  flows: number;
  /** Time between flow starts (ms, default 0.5). */
  stepMs?: number;
  /** Every this many flows, an over-MTU reply (default 1000). */
  bigEvery?: number;
}

/** ldirectord.cf for the set's service. */
export function dsrConfig(): string {
  return `virtual=${DSR.vip}:${DSR.port}\n${DSR.reals.map((r) => `\treal=${r.ip}:${DSR.port} gate 1\n`).join('')}\tscheduler=rr\n\tchecktype=off\n`;
}

/** Writes the capture set; returns the number of records written (all points). */
export function writeSyntheticDsr(o: SyntheticDsr): number {
  const points = ['client', 'director', ...DSR.reals.map((r) => r.point)];
  const w = new Map(points.map((p) => [p, CaptureWriter.open(join(o.dir, `${p}.pcap`))]));
  const step = o.stepMs ?? 0.5;
  const bigEvery = o.bigEvery ?? 1000;
  let records = 0;
  const put = (t: number, frame: Uint8Array, at: string[]): void => {
    for (const p of at) w.get(p)!.add(t, frame);
    records += at.length;
  };
  const mac = (m: string) => parseMac(m)!;
  const ip = (s: string) => parseIPv4(s)!;
  const all = points;
  const t0 = Date.UTC(2026, 0, 1);
  try {
    put(t0, arpRequest({ senderMac: mac(DSR.client), senderIp: ip(DSR.clientIp), targetIp: ip(DSR.vip) }), all);
    put(t0 + 0.05, arpReply({ senderMac: mac(DSR.director), senderIp: ip(DSR.vip), targetMac: mac(DSR.client), targetIp: ip(DSR.clientIp) }), ['client', 'director']);
    for (let i = 0; i < o.flows; i++) {
      const t = t0 + 1 + i * step;
      const real = DSR.reals[i % 3]!;
      const client = `10.${100 + ((i >> 16) & 0x7f)}.${(i >> 8) & 0xff}.${(i & 0xff) | 1}`;
      const sport = 10000 + (i % 50000);
      const up = { src: client, dst: DSR.vip, sport, dport: DSR.port, pad: true as const, ipId: i & 0xffff };
      const down = { src: DSR.vip, dst: client, sport: DSR.port, dport: sport, srcMac: real.mac, dstMac: DSR.client, pad: true as const, ipId: i & 0xffff };
      let k = 0;
      const req = (flags: string, seq: number, ack: number, payload?: string): void => {
        const f = { ...up, flags, seq, ack, payload };
        put(t + 0.01 * k++, tcpFrame({ ...f, srcMac: DSR.client, dstMac: DSR.director, ttl: 64 }), ['client', 'director']);
        put(t + 0.01 * k++, tcpFrame({ ...f, srcMac: DSR.director, dstMac: real.mac, ttl: 63 }), ['director', real.point]);
      };
      const rep = (flags: string, seq: number, ack: number, payload?: string): void => {
        put(t + 0.01 * k++, tcpFrame({ ...down, flags, seq, ack, payload }), [real.point, 'client']);
      };
      req('SYN', 1000, 0);
      if (i % 1000 === 500) continue;
      rep('SYN,ACK', 5000, 1001);
      req('PSH,ACK', 1001, 5001, 'GET / HTTP/1.0\r\n\r\n');
      rep('PSH,ACK', 5001, 1019, i % bigEvery === bigEvery - 1 ? 'x'.repeat(1960) : 'HTTP/1.0 200 OK\r\n\r\nhello');
      req('FIN,ACK', 1019, 5040);
      rep('FIN,ACK', 5040, 1020);
      req('ACK', 1020, 5041);
    }
    // The ARP problem, at the very end: real3 answers for the VIP too.
    const te = t0 + 2 + o.flows * step;
    put(te, arpRequest({ senderMac: mac(DSR.client), senderIp: ip(DSR.clientIp), targetIp: ip(DSR.vip) }), all);
    put(te + 0.05, arpReply({ senderMac: mac(DSR.director), senderIp: ip(DSR.vip), targetMac: mac(DSR.client), targetIp: ip(DSR.clientIp) }), ['client', 'director']);
    put(te + 0.06, arpReply({ senderMac: mac(DSR.reals[2]!.mac), senderIp: ip(DSR.vip), targetMac: mac(DSR.client), targetIp: ip(DSR.clientIp) }), ['client', 'real3']);
  } finally {
    for (const x of w.values()) x.close();
  }
  return records;
}
