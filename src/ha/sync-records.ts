/**
 * The records of connection sync, pure (ha/sync.ts frames them into batches and datagrams).
 *
 * Two generations share these bytes:
 * - version 1 (before IPv6): bare 20-byte IPv4 records, big-endian: proto u8 (6 or 17), state u8
 *   (index in STATES), client addr u32, client port u16, VIP u32, port u16, real addr u32, real
 *   port u16. A batch or datagram of IPv4 connections only is still written this way, byte for
 *   byte, so a director of the older version keeps reading them.
 * - version 2: typed records, each led by a type byte, so one frame can carry both families
 *   (IPVS's sync protocol v1 does the same with its per-connection type and size). Type 4 is
 *   followed by a version-1 record (20 bytes); type 6 by an IPv6 record of 56 bytes: proto u8,
 *   state u8, client address (16 bytes), client port u16, virtual address (16), port u16, real
 *   address (16), real port u16. Frames of version 2 start with magic "DSY2", which the older
 *   decoder refuses (batch: not a multiple of 20 / first byte not a protocol; datagram: bad magic),
 *   and counts, rather than reads as IPv4.
 */
import { foldIPv6, ipv6ToString, parseIPv6 } from '../model/index.ts';

export type SyncState = 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'UDP';
export const STATES: readonly SyncState[] = ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'UDP'];

export interface SyncConn {
  proto: 'tcp' | 'udp';
  /** IPv4: the client address (host order, unsigned). IPv6: the 32-bit fold of v6.caddr. */
  caddr: number;
  cport: number;
  /** IPv4: the VIP. IPv6: the fold of v6.vaddr. */
  vaddr: number;
  vport: number;
  /** IPv4: the real's address. IPv6: the fold of v6.daddr. */
  daddr: number;
  dport: number;
  state: SyncState;
  /**
   * An IPv6 connection: its client, virtual and real addresses, canonical text (RFC 5952, as the
   * control protocol names IPv6 addresses). Absent for IPv4.
   */
  v6?: { caddr: string; vaddr: string; daddr: string };
}

export const SYNC_RECORD_BYTES = 20;
/** An IPv6 record's body (after its type byte). */
export const SYNC_RECORD6_BYTES = 56;
/** Type bytes of version-2 records. */
export const REC_TYPE_V4 = 4;
export const REC_TYPE_V6 = 6;
/** Magic of version-2 frames ("DSY2"). */
export const SYNC_V2_MAGIC = 0x44535932;

/** The bytes a connection takes in a version-2 frame (type byte included). */
export const typedRecordBytes = (c: SyncConn): number => 1 + (c.v6 ? SYNC_RECORD6_BYTES : SYNC_RECORD_BYTES);

export function writeRecord4(b: Buffer, o: number, c: SyncConn): void {
  b.writeUInt8(c.proto === 'tcp' ? 6 : 17, o);
  b.writeUInt8(STATES.indexOf(c.state), o + 1);
  b.writeUInt32BE(c.caddr >>> 0, o + 2);
  b.writeUInt16BE(c.cport, o + 6);
  b.writeUInt32BE(c.vaddr >>> 0, o + 8);
  b.writeUInt16BE(c.vport, o + 12);
  b.writeUInt32BE(c.daddr >>> 0, o + 14);
  b.writeUInt16BE(c.dport, o + 18);
}

/** proto and state of the record at o; null when they are not a valid pair. */
function protoState(b: Buffer, o: number): { proto: 'tcp' | 'udp'; state: SyncState } | null {
  const p = b.readUInt8(o);
  const st = STATES[b.readUInt8(o + 1)];
  if ((p !== 6 && p !== 17) || st === undefined || (p === 17) !== (st === 'UDP')) return null;
  return { proto: p === 6 ? 'tcp' : 'udp', state: st };
}

/** The IPv4 record at o (the caller checked that 20 bytes are there); null when malformed. */
export function readRecord4(b: Buffer, o: number): SyncConn | null {
  const ps = protoState(b, o);
  if (ps === null) return null;
  return {
    proto: ps.proto, state: ps.state,
    caddr: b.readUInt32BE(o + 2), cport: b.readUInt16BE(o + 6),
    vaddr: b.readUInt32BE(o + 8), vport: b.readUInt16BE(o + 12),
    daddr: b.readUInt32BE(o + 14), dport: b.readUInt16BE(o + 18),
  };
}

function put6(b: Buffer, o: number, text: string): void {
  const a = parseIPv6(text);
  // SyncConns come from this program's own export (or decoder): bad text is a bug, not input.
  if (a === null) throw new RangeError(`connection sync: "${text}" is not an IPv6 address`);
  b.set(a, o);
}

/** Writes the IPv6 record body of c (c.v6 set) at o. */
export function writeRecord6(b: Buffer, o: number, c: SyncConn): void {
  const v6 = c.v6!;
  b.writeUInt8(c.proto === 'tcp' ? 6 : 17, o);
  b.writeUInt8(STATES.indexOf(c.state), o + 1);
  put6(b, o + 2, v6.caddr);
  b.writeUInt16BE(c.cport, o + 18);
  put6(b, o + 20, v6.vaddr);
  b.writeUInt16BE(c.vport, o + 36);
  put6(b, o + 38, v6.daddr);
  b.writeUInt16BE(c.dport, o + 54);
}

/** The IPv6 record body at o (56 bytes there); null when malformed. */
export function readRecord6(b: Buffer, o: number): SyncConn | null {
  const ps = protoState(b, o);
  if (ps === null) return null;
  return {
    proto: ps.proto, state: ps.state,
    caddr: foldIPv6(b, o + 2), cport: b.readUInt16BE(o + 18),
    vaddr: foldIPv6(b, o + 20), vport: b.readUInt16BE(o + 36),
    daddr: foldIPv6(b, o + 38), dport: b.readUInt16BE(o + 54),
    v6: { caddr: ipv6ToString(b, o + 2), vaddr: ipv6ToString(b, o + 20), daddr: ipv6ToString(b, o + 38) },
  };
}

/** Writes c as a version-2 record at o; returns the offset after it. */
export function writeTyped(b: Buffer, o: number, c: SyncConn): number {
  if (c.v6) {
    b.writeUInt8(REC_TYPE_V6, o);
    writeRecord6(b, o + 1, c);
    return o + 1 + SYNC_RECORD6_BYTES;
  }
  b.writeUInt8(REC_TYPE_V4, o);
  writeRecord4(b, o + 1, c);
  return o + 1 + SYNC_RECORD_BYTES;
}

/** Why a version-2 record did not read. */
export type TypedRecordError = 'truncated' | 'unknown-type' | 'bad-record';

/** The version-2 record at o of b[0, end): the connection and the offset after it, or why not. */
export function readTyped(b: Buffer, o: number, end: number): { conn: SyncConn; next: number } | TypedRecordError {
  if (o >= end) return 'truncated';
  const type = b.readUInt8(o);
  const size = type === REC_TYPE_V4 ? SYNC_RECORD_BYTES : type === REC_TYPE_V6 ? SYNC_RECORD6_BYTES : -1;
  if (size < 0) return 'unknown-type';
  if (o + 1 + size > end) return 'truncated';
  const conn = type === REC_TYPE_V4 ? readRecord4(b, o + 1) : readRecord6(b, o + 1);
  return conn === null ? 'bad-record' : { conn, next: o + 1 + size };
}
