/**
 * The IPVS TCP state machine as a direct-routing director runs it, plus state names and timeouts.
 *
 * A DR (or TUN) connection carries IP_VS_CONN_F_NOOUTPUT: the director never sees the server's
 * replies, so every packet is handled with the kernel's INPUT_ONLY rows of tcp_states[]
 * (net/netfilter/ipvs/ip_vs_proto_tcp.c). Each packet selects one row by its flags, in the order
 * RST, then SYN, then FIN, then ACK (tcp_state_idx); a packet with none of the four moves the
 * connection to CLOSE. The new state's timeout is then re-armed from `now`, whether the state
 * changed or not.
 *
 * Written from a reading of the kernel (Linux 6.1); the tables below are transcribed values, the
 * code and comments are ours.
 */
import { ConnState, type ConnTimeouts } from './types.ts';

/** TCP header flag bits (byte 13 of the TCP header). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** IP protocol numbers the table knows by name. */
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** Number of kernel TCP states (IP_VS_TCP_S_LAST). */
export const TCP_STATE_COUNT = 11;

/** Row index for a flags byte: 0 syn, 1 fin, 2 ack, 3 rst, -1 none of them (tcp_state_idx order). */
export function tcpFlagRow(flags: number): number {
  if (flags & TCP_RST) return 3;
  if (flags & TCP_SYN) return 0;
  if (flags & TCP_FIN) return 1;
  if (flags & TCP_ACK) return 2;
  return -1;
}

const ES = ConnState.Established;
const SS = ConnState.SynSent;
const SR = ConnState.SynRecv;
const FW = ConnState.FinWait;
const TW = ConnState.TimeWait;
const CL = ConnState.Close;
const CW = ConnState.CloseWait;
const LA = ConnState.LastAck;
const LI = ConnState.Listen;
const SA = ConnState.Synack;

/**
 * INPUT_ONLY next-state table, flattened: INPUT_ONLY[row * 11 + currentState].
 * Columns in kernel order: NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT
 * LAST_ACK LISTEN SYNACK.
 */
export const INPUT_ONLY: Uint8Array = Uint8Array.from([
  /* syn */ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR,
  /* fin */ CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW,
  /* ack */ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES,
  /* rst */ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL,
]);

/**
 * States that count in the real's ActiveConn (since Linux 4.8 the pre-established ones too):
 * ESTABLISHED, SYN_SENT, SYN_RECV, SYNACK. Every other TCP state, UDP, counts as InActConn;
 * templates count in neither (they count in persistConns).
 */
export const TCP_ACTIVE: Uint8Array = Uint8Array.from([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1]);

/** The next TCP state for a packet with `flags` arriving on a connection in `state`. */
export function tcpNextState(state: number, flags: number): number {
  const row = tcpFlagRow(flags);
  return row < 0 ? ConnState.Close : INPUT_ONLY[row * TCP_STATE_COUNT + state]!;
}

/** IPVS defaults (tcp_timeouts[] and udp_timeouts[]), in seconds. */
export const DEFAULT_TIMEOUTS: Readonly<ConnTimeouts> = Object.freeze({
  synRecv: 60,
  established: 900,
  finWait: 120,
  close: 10,
  timeWait: 120,
  closeWait: 60,
  lastAck: 30,
  synSent: 120,
  listen: 120,
  synack: 120,
  udp: 300,
});

/** Timeout of IP_VS_TCP_S_NONE (a state no INPUT_ONLY transition leads to). */
export const NONE_TIMEOUT_MS = 2_000;
/** A fresh connection's timer before its first packet is applied (ip_vs_conn_new: 3 s). */
export const NEW_CONN_TIMEOUT_MS = 3_000;
/** A template that still controls connections when its timer fires is re-armed by this much. */
export const TEMPLATE_REARM_MS = 60_000;

/**
 * Per-state timeouts in ms, indexed by ConnState (0..11; templates carry their own timeout).
 * Pure: builds a new array from defaults overridden by `t`.
 */
export function timeoutTableMs(t?: Partial<ConnTimeouts>): Float64Array {
  const v: ConnTimeouts = { ...DEFAULT_TIMEOUTS, ...t };
  const out = new Float64Array(12);
  out[ConnState.None] = NONE_TIMEOUT_MS;
  out[ConnState.Established] = v.established * 1000;
  out[ConnState.SynSent] = v.synSent * 1000;
  out[ConnState.SynRecv] = v.synRecv * 1000;
  out[ConnState.FinWait] = v.finWait * 1000;
  out[ConnState.TimeWait] = v.timeWait * 1000;
  out[ConnState.Close] = v.close * 1000;
  out[ConnState.CloseWait] = v.closeWait * 1000;
  out[ConnState.LastAck] = v.lastAck * 1000;
  out[ConnState.Listen] = v.listen * 1000;
  out[ConnState.Synack] = v.synack * 1000;
  out[ConnState.Udp] = v.udp * 1000;
  return out;
}

const NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
  'LAST_ACK', 'LISTEN', 'SYNACK', 'UDP',
  // Templates: ip_vs_ctpl_state_name_table.
  'NONE', 'ASSURED',
];

/** The state as `ipvsadm -L -n -c` (/proc/net/ip_vs_conn) prints it. */
export function stateName(state: number): string {
  return NAMES[state] ?? 'ERR!';
}

/** Whether a TCP packet with these flags may create a connection (tcp_conn_schedule). */
export function tcpCanCreate(flags: number, sloppyTcp: boolean): boolean {
  // A SYN (with or without ACK: the kernel keeps SYN+ACK for active FTP), or anything with
  // sloppy_tcp; never a RST.
  return (flags & TCP_RST) === 0 && (sloppyTcp || (flags & TCP_SYN) !== 0);
}
