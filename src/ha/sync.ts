/**
 * Connection synchronisation (IPVS sync-daemon style), pure: the active director sends the
 * connections it forwards to its standby (or, with `--sync-peer`, every active director to the
 * others), which enters them in its own table, so that after a takeover or a route change the
 * mid-flow packets of those connections find the real they were scheduled to, whatever the
 * scheduler. The records, IPv4 and IPv6, are in sync-records.ts.
 *
 * Batches travel in authenticated `t=sync` messages (codec.ts), field `c`, base64; the packet
 * process hands its export to the control side the same way. A batch of IPv4 connections only is
 * the version-1 form (bare 20-byte records); one with an IPv6 connection is "DSY2" followed by
 * typed records to its end. syncDelta keeps the two families in separate batches, so an older
 * standby still takes the IPv4 ones and refuses (counts as malformed) the others.
 */
import {
  readRecord4, readTyped, STATES, SYNC_RECORD6_BYTES, SYNC_RECORD_BYTES, SYNC_V2_MAGIC, typedRecordBytes,
  writeRecord4, writeTyped, type SyncConn, type SyncState,
} from './sync-records.ts';

export {
  REC_TYPE_V4, REC_TYPE_V6, SYNC_RECORD6_BYTES, SYNC_RECORD_BYTES, SYNC_V2_MAGIC, type SyncConn, type SyncState,
} from './sync-records.ts';

/** IPv4 records per message: 1500 × 20 bytes = 40 kB of base64, under MAX_MESSAGE_BYTES. */
export const SYNC_MAX_RECORDS = 1500;
/** IPv6 records per message: the same 30 000-byte budget (4 + 526 × 57 bytes). */
export const SYNC_MAX_RECORDS6 = Math.floor((SYNC_MAX_RECORDS * SYNC_RECORD_BYTES - 4) / (1 + SYNC_RECORD6_BYTES));

export function isSyncState(s: string): s is SyncState {
  return (STATES as readonly string[]).includes(s);
}

/** A stable key of a connection (the flow), for diffing what was already sent; IPv6 by its full addresses. */
export function syncKey(c: SyncConn): string {
  return c.v6 ? `${c.proto}/[${c.v6.caddr}]/${c.cport}/[${c.v6.vaddr}]/${c.vport}` : `${c.proto}/${c.caddr}/${c.cport}/${c.vaddr}/${c.vport}`;
}

/** The records of a version-1 frame from `at` to its end; null when one is malformed. */
function readRecords(b: Buffer, at: number): SyncConn[] | null {
  const out: SyncConn[] = [];
  for (let o = at; o < b.length; o += SYNC_RECORD_BYTES) {
    const c = readRecord4(b, o);
    if (c === null) return null;
    out.push(c);
  }
  return out;
}

export function encodeSyncBatch(conns: readonly SyncConn[]): string {
  if (!conns.some((c) => c.v6)) {
    const b = Buffer.alloc(conns.length * SYNC_RECORD_BYTES);
    conns.forEach((c, i) => writeRecord4(b, i * SYNC_RECORD_BYTES, c));
    return b.toString('base64');
  }
  const b = Buffer.alloc(conns.reduce((n, c) => n + typedRecordBytes(c), 4));
  b.writeUInt32BE(SYNC_V2_MAGIC, 0);
  let o = 4;
  for (const c of conns) o = writeTyped(b, o, c);
  return b.toString('base64');
}

/** Decodes a batch (either version); null when malformed (wrong length, unknown type, protocol or state, too many records). */
export function decodeSyncBatch(s: string, maxRecords = SYNC_MAX_RECORDS): SyncConn[] | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  if (b.length >= 4 && b.readUInt32BE(0) === SYNC_V2_MAGIC) {
    const out: SyncConn[] = [];
    for (let o = 4; o < b.length; ) {
      const r = readTyped(b, o, b.length);
      if (typeof r === 'string' || out.length >= maxRecords) return null;
      out.push(r.conn);
      o = r.next;
    }
    return out;
  }
  if (b.length % SYNC_RECORD_BYTES !== 0 || b.length / SYNC_RECORD_BYTES > maxRecords) return null;
  return readRecords(b, 0);
}

/**
 * Sync datagrams between active directors (`dsrlb run --sync-peer`, docs/scale-out.md): plain UDP
 * like IPVS's sync daemon, not the heartbeat's authenticated messages. Version 1: magic "DSY1",
 * record count u16, then that many 20-byte IPv4 records; at most SYNC_DATAGRAM_RECORDS of them keep
 * a datagram within one 1500-byte frame (6 + 70 × 20 = 1406 bytes of payload). Version 2: magic
 * "DSY2", record count u16, typed records (IPv4 21 bytes, IPv6 57), within the same 1406 bytes
 * (SYNC_DATAGRAM_MAX_BYTES: 24 IPv6 records). The encoder puts the IPv4 connections in version-1
 * datagrams, which an older director still reads, and the IPv6 ones in version-2 datagrams, which
 * it refuses as a bad magic and counts.
 */
export const SYNC_DATAGRAM_MAGIC = 0x44535931;
export const SYNC_DATAGRAM_HEADER = 6;
export const SYNC_DATAGRAM_RECORDS = 70;
export const SYNC_DATAGRAM_MAX_BYTES = SYNC_DATAGRAM_HEADER + SYNC_DATAGRAM_RECORDS * SYNC_RECORD_BYTES;
/** IPv6 records in one version-2 datagram. */
export const SYNC_DATAGRAM_RECORDS6 = Math.floor((SYNC_DATAGRAM_MAX_BYTES - SYNC_DATAGRAM_HEADER) / (1 + SYNC_RECORD6_BYTES));
/** "DSY" followed by any version byte: a sync datagram of a version this decoder does not know. */
const DSY_PREFIX = 0x445359;

/** The datagrams that carry `conns`: the IPv4 ones first (version 1, 70 a datagram), then the IPv6 ones (version 2, 24 a datagram). */
export function encodeSyncDatagrams(conns: readonly SyncConn[]): Buffer[] {
  const out: Buffer[] = [];
  const v4 = conns.filter((c) => !c.v6);
  const v6 = conns.filter((c) => c.v6);
  for (let i = 0; i < v4.length; i += SYNC_DATAGRAM_RECORDS) {
    const part = v4.slice(i, i + SYNC_DATAGRAM_RECORDS);
    const b = Buffer.alloc(SYNC_DATAGRAM_HEADER + part.length * SYNC_RECORD_BYTES);
    b.writeUInt32BE(SYNC_DATAGRAM_MAGIC, 0);
    b.writeUInt16BE(part.length, 4);
    part.forEach((c, j) => writeRecord4(b, SYNC_DATAGRAM_HEADER + j * SYNC_RECORD_BYTES, c));
    out.push(b);
  }
  for (let i = 0; i < v6.length; i += SYNC_DATAGRAM_RECORDS6) {
    const part = v6.slice(i, i + SYNC_DATAGRAM_RECORDS6);
    const b = Buffer.alloc(SYNC_DATAGRAM_HEADER + part.length * (1 + SYNC_RECORD6_BYTES));
    b.writeUInt32BE(SYNC_V2_MAGIC, 0);
    b.writeUInt16BE(part.length, 4);
    let o = SYNC_DATAGRAM_HEADER;
    for (const c of part) o = writeTyped(b, o, c);
    out.push(b);
  }
  return out;
}

/**
 * Why a datagram was refused, or its records. bad-version: "DSY" and a version this decoder does
 * not know (a newer peer); unknown-type: a version-2 record of a type it does not know.
 */
export type SyncDatagramResult =
  | { ok: true; conns: SyncConn[] }
  | { ok: false; why: 'bad-magic' | 'bad-version' | 'bad-length' | 'bad-record' | 'unknown-type' };

/** Decodes one datagram (either version); never throws. */
export function decodeSyncDatagram(b: Buffer): SyncDatagramResult {
  if (b.length < SYNC_DATAGRAM_HEADER) return { ok: false, why: 'bad-magic' };
  const magic = b.readUInt32BE(0);
  const n = b.readUInt16BE(4);
  if (magic === SYNC_DATAGRAM_MAGIC) {
    if (n > SYNC_DATAGRAM_RECORDS || b.length !== SYNC_DATAGRAM_HEADER + n * SYNC_RECORD_BYTES) return { ok: false, why: 'bad-length' };
    const conns = readRecords(b, SYNC_DATAGRAM_HEADER);
    return conns === null ? { ok: false, why: 'bad-record' } : { ok: true, conns };
  }
  if (magic !== SYNC_V2_MAGIC) return { ok: false, why: magic >>> 8 === DSY_PREFIX ? 'bad-version' : 'bad-magic' };
  if (b.length > SYNC_DATAGRAM_MAX_BYTES) return { ok: false, why: 'bad-length' };
  const conns: SyncConn[] = [];
  let o = SYNC_DATAGRAM_HEADER;
  for (let i = 0; i < n; i++) {
    const r = readTyped(b, o, b.length);
    if (r === 'truncated') return { ok: false, why: 'bad-length' };
    if (typeof r === 'string') return { ok: false, why: r };
    conns.push(r.conn);
    o = r.next;
  }
  return o === b.length ? { ok: true, conns } : { ok: false, why: 'bad-length' };
}

/**
 * What to send this round: the connections that are new or changed state since the last round
 * (`sent` is updated; flows gone from the table are forgotten), cut into batches: the IPv4 ones
 * (SYNC_MAX_RECORDS a batch), then the IPv6 ones (SYNC_MAX_RECORDS6 a batch).
 */
export function syncDelta(current: readonly SyncConn[], sent: Map<string, SyncState>): SyncConn[][] {
  const seen = new Set<string>();
  const todo: SyncConn[] = [];
  for (const c of current) {
    const k = syncKey(c);
    seen.add(k);
    if (sent.get(k) !== c.state) {
      sent.set(k, c.state);
      todo.push(c);
    }
  }
  for (const k of sent.keys()) if (!seen.has(k)) sent.delete(k);
  // One family a batch: the IPv4 batches stay version 1, which an older peer reads.
  const batches: SyncConn[][] = [];
  const v4 = todo.filter((c) => !c.v6);
  const v6 = todo.filter((c) => c.v6);
  for (let i = 0; i < v4.length; i += SYNC_MAX_RECORDS) batches.push(v4.slice(i, i + SYNC_MAX_RECORDS));
  for (let i = 0; i < v6.length; i += SYNC_MAX_RECORDS6) batches.push(v6.slice(i, i + SYNC_MAX_RECORDS6));
  return batches;
}
