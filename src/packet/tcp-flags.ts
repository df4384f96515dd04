/** TCP flag names and bits, shared by the views and the builders. */

import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from './decode.ts';

export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export type TcpFlagName = 'FIN' | 'SYN' | 'RST' | 'PSH' | 'ACK' | 'URG' | 'ECE' | 'CWR';

/** Names in bit order, low bit first. */
export const TCP_FLAG_NAMES: readonly TcpFlagName[] = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

const BITS: Readonly<Record<TcpFlagName, number>> = {
  FIN: TCP_FIN,
  SYN: TCP_SYN,
  RST: TCP_RST,
  PSH: TCP_PSH,
  ACK: TCP_ACK,
  URG: TCP_URG,
  ECE: TCP_ECE,
  CWR: TCP_CWR,
};

/** The names of the bits set in a flags byte, low bit first (0x12 gives ['SYN', 'ACK']). */
export function tcpFlagNames(bits: number): TcpFlagName[] {
  const out: TcpFlagName[] = [];
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) out.push(TCP_FLAG_NAMES[i]!);
  return out;
}

/** The flags byte for a list of names (order and repeats do not matter). */
export function tcpFlagBits(names: readonly TcpFlagName[]): number {
  let bits = 0;
  for (const n of names) bits |= BITS[n] ?? 0;
  return bits;
}

/** True when `s` names a TCP flag. */
export function isTcpFlagName(s: string): s is TcpFlagName {
  return Object.prototype.hasOwnProperty.call(BITS, s);
}
