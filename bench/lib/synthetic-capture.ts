/**
 * A synthetic capture of any size, written as it is made (memory stays small): `flows` long-lived
 * TCP flows from distinct clients to one VIP:port, the first frame of each a SYN and every later one
 * an ACK with a few bytes, frames of the flows interleaved, timestamps 1 µs apart. Used by the
 * streaming replay benchmark (bench/replay-stream.ts) and its tests.
 */
import { CaptureWriter, type CaptureFormat } from '../../src/io/index.ts';
import { tcpFrame } from '../../src/packet/index.ts';

export interface SyntheticCapture {
  path: string;
  frames: number;
  flows: number;
  vip: string;
  port: number;
  selfMac: string;
  format?: CaptureFormat;
}

export function writeSyntheticCapture(o: SyntheticCapture): void {
  const w = CaptureWriter.open(o.path, o.format ?? 'pcap');
  const syn: Uint8Array[] = [];
  const ack: Uint8Array[] = [];
  for (let f = 0; f < o.flows; f++) {
    const src = `10.${100 + ((f >> 16) & 0x7f)}.${(f >> 8) & 0xff}.${f & 0xff}`;
    const common = { srcMac: '02:00:00:00:01:01', dstMac: o.selfMac, src, dst: o.vip, sport: 10000 + (f % 50000), dport: o.port, pad: true as const };
    syn.push(tcpFrame({ ...common, flags: 'SYN', seq: 1000 }));
    ack.push(tcpFrame({ ...common, flags: 'PSH,ACK', seq: 1001, ack: 1, payload: 'GET /' }));
  }
  const t0 = Date.UTC(2026, 0, 1);
  try {
    for (let i = 0; i < o.frames; i++) {
      const f = i % o.flows;
      w.add(t0 + i / 1000, i < o.flows ? syn[f]! : ack[f]!);
    }
  } finally {
    w.close();
  }
}

/** ldirectord.cf for the synthetic capture's service: three reals, rr, no checks. */
export function syntheticConfig(vip: string, port: number): { config: string; neigh: string[] } {
  const reals = [1, 2, 3].map((n) => ({ ip: `10.200.0.${20 + n}`, mac: `02:00:00:00:02:0${n}` }));
  const config = `virtual=${vip}:${port}\n${reals.map((r) => `\treal=${r.ip}:${port} gate 1\n`).join('')}\tscheduler=rr\n\tchecktype=off\n`;
  return { config, neigh: reals.map((r) => `${r.ip}=${r.mac}`) };
}
