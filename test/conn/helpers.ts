import { ConnState as S, ConnTable, type ConnTableOptions } from '../../src/conn/index.ts';
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

/*
 * The INPUT_ONLY part of tcp_states[] in net/netfilter/ipvs/ip_vs_proto_tcp.c (Linux 6.1), read
 * state by state: for each current state, where SYN / FIN / ACK / RST take it.
 */
export const EXPECTED: Record<number, [syn: S, fin: S, ack: S, rst: S]> = {
  [S.None]: [S.SynRecv, S.Close, S.Established, S.Close],
  [S.Established]: [S.Established, S.FinWait, S.Established, S.Close],
  [S.SynSent]: [S.Established, S.SynSent, S.SynSent, S.Close],
  [S.SynRecv]: [S.SynRecv, S.TimeWait, S.Established, S.SynRecv],
  [S.FinWait]: [S.SynRecv, S.FinWait, S.FinWait, S.Close],
  [S.TimeWait]: [S.SynRecv, S.TimeWait, S.TimeWait, S.Close],
  [S.Close]: [S.SynRecv, S.Close, S.Close, S.Close],
  [S.CloseWait]: [S.SynRecv, S.CloseWait, S.CloseWait, S.Close],
  [S.LastAck]: [S.SynRecv, S.LastAck, S.Close, S.LastAck],
  [S.Listen]: [S.SynRecv, S.Listen, S.Listen, S.Listen],
  [S.Synack]: [S.SynRecv, S.TimeWait, S.Established, S.Close],
};

/** tcp_timeouts[] defaults, seconds. */
export const TIMEOUT_S: Record<number, number> = {
  [S.Established]: 900, [S.SynSent]: 120, [S.SynRecv]: 60, [S.FinWait]: 120, [S.TimeWait]: 120,
  [S.Close]: 10, [S.CloseWait]: 60, [S.LastAck]: 30, [S.Listen]: 120, [S.Synack]: 120,
};

