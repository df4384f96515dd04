import { ConnTable, type ConnTableOptions } from '../../src/conn/index.ts';
import { newDest, type Dest } from '../../src/model/index.ts';

export const TCP = 6;
export const UDP = 17;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export const VIP = 0x0a7b0064; // 10.123.0.100
export const CLIENT = 0x0a7b0101; // 10.123.1.1

/** n reals with ids 0..n-1 (addresses 10.123.0.21 …), and a resolver over a mutable array. */
export function setup(opts: Partial<ConnTableOptions> = {}, n = 3): {
  t: ConnTable; dests: (Dest | undefined)[]; d: Dest[];
} {
  const d: Dest[] = [];
  for (let i = 0; i < n; i++) d.push(newDest(i, 0x0a7b0015 + i, 80, 1));
  const dests: (Dest | undefined)[] = [...d];
  const t = new ConnTable({ capacity: 1024, ...opts }, (id) => dests[id]);
  return { t, dests, d };
}

/** A TCP connection created by its first packet, as the data path does it. */
export function openTcp(t: ConnTable, caddr: number, cport: number, destId: number, now: number, flags = SYN): number {
  const h = t.create(TCP, caddr, cport, VIP, 80, destId, now);
  t.tcpInput(h, flags, now);
  return h;
}

export function counts(d: Dest): [number, number, number] {
  return [d.activeConns, d.inactConns, d.persistConns];
}
