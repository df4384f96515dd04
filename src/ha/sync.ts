/**
 * Connection synchronisation records (IPVS sync-daemon style), pure: the active director sends the
 * connections it forwards to its standby, which enters them in its own table, so that after a
 * takeover the mid-flow packets of those connections find the real they were scheduled to, whatever
 * the scheduler. Records travel in authenticated `t=sync` messages (codec.ts), in field `c`: base64
 * of 20-byte records (proto u8, state u8, client addr u32, client port u16, VIP u32, port u16,
 * real addr u32, real port u16), big-endian.
 */

export type SyncState = 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'UDP';
const STATES: readonly SyncState[] = ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'UDP'];

export interface SyncConn {
  proto: 'tcp' | 'udp';
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  state: SyncState;
}

export const SYNC_RECORD_BYTES = 20;
/** Records per message: 1500 × 20 bytes = 40 kB of base64, under MAX_MESSAGE_BYTES. */
export const SYNC_MAX_RECORDS = 1500;

export function isSyncState(s: string): s is SyncState {
  return (STATES as readonly string[]).includes(s);
}

/** A stable key of a connection (the flow), for diffing what was already sent. */
export function syncKey(c: SyncConn): string {
  return `${c.proto}/${c.caddr}/${c.cport}/${c.vaddr}/${c.vport}`;
}

function writeRecords(b: Buffer, at: number, conns: readonly SyncConn[]): void {
  conns.forEach((c, i) => {
    const o = at + i * SYNC_RECORD_BYTES;
    b.writeUInt8(c.proto === 'tcp' ? 6 : 17, o);
    b.writeUInt8(STATES.indexOf(c.state), o + 1);
    b.writeUInt32BE(c.caddr >>> 0, o + 2);
    b.writeUInt16BE(c.cport, o + 6);
    b.writeUInt32BE(c.vaddr >>> 0, o + 8);
    b.writeUInt16BE(c.vport, o + 12);
    b.writeUInt32BE(c.daddr >>> 0, o + 14);
    b.writeUInt16BE(c.dport, o + 18);
  });
}

/** The records of b from `at` to its end; null when one is malformed (unknown protocol or state). */
function readRecords(b: Buffer, at: number): SyncConn[] | null {
  const out: SyncConn[] = [];
  for (let o = at; o < b.length; o += SYNC_RECORD_BYTES) {
    const p = b.readUInt8(o);
    const st = STATES[b.readUInt8(o + 1)];
    if ((p !== 6 && p !== 17) || st === undefined || (p === 17) !== (st === 'UDP')) return null;
    out.push({
      proto: p === 6 ? 'tcp' : 'udp', state: st,
      caddr: b.readUInt32BE(o + 2), cport: b.readUInt16BE(o + 6),
      vaddr: b.readUInt32BE(o + 8), vport: b.readUInt16BE(o + 12),
      daddr: b.readUInt32BE(o + 14), dport: b.readUInt16BE(o + 18),
    });
  }
  return out;
}

export function encodeSyncBatch(conns: readonly SyncConn[]): string {
  const b = Buffer.alloc(conns.length * SYNC_RECORD_BYTES);
  writeRecords(b, 0, conns);
  return b.toString('base64');
}

/** Decodes a batch; null when malformed (wrong length, unknown protocol or state). */
export function decodeSyncBatch(s: string, maxRecords = SYNC_MAX_RECORDS): SyncConn[] | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  if (b.length % SYNC_RECORD_BYTES !== 0 || b.length / SYNC_RECORD_BYTES > maxRecords) return null;
  return readRecords(b, 0);
}

/**
 * Sync datagrams between active directors (`dsrlb run --sync-peer`, docs/scale-out.md): plain UDP
 * like IPVS's sync daemon, not the heartbeat's authenticated messages. Layout: magic "DSY1", record
 * count u16, then that many 20-byte records (as above). At most SYNC_DATAGRAM_RECORDS records keep
 * a datagram within one 1500-byte frame (6 + 70 × 20 = 1406 bytes of payload).
 */
export const SYNC_DATAGRAM_MAGIC = 0x44535931;
export const SYNC_DATAGRAM_HEADER = 6;
export const SYNC_DATAGRAM_RECORDS = 70;

/** The datagrams that carry `conns`, SYNC_DATAGRAM_RECORDS records each at most. */
export function encodeSyncDatagrams(conns: readonly SyncConn[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < conns.length; i += SYNC_DATAGRAM_RECORDS) {
    const part = conns.slice(i, i + SYNC_DATAGRAM_RECORDS);
    const b = Buffer.alloc(SYNC_DATAGRAM_HEADER + part.length * SYNC_RECORD_BYTES);
    b.writeUInt32BE(SYNC_DATAGRAM_MAGIC, 0);
    b.writeUInt16BE(part.length, 4);
    writeRecords(b, SYNC_DATAGRAM_HEADER, part);
    out.push(b);
  }
  return out;
}

/** Why a datagram was refused, or its records. */
export type SyncDatagramResult = { ok: true; conns: SyncConn[] } | { ok: false; why: 'bad-magic' | 'bad-length' | 'bad-record' };

/** Decodes one datagram; never throws. */
export function decodeSyncDatagram(b: Buffer): SyncDatagramResult {
  if (b.length < SYNC_DATAGRAM_HEADER || b.readUInt32BE(0) !== SYNC_DATAGRAM_MAGIC) return { ok: false, why: 'bad-magic' };
  const n = b.readUInt16BE(4);
  if (n > SYNC_DATAGRAM_RECORDS || b.length !== SYNC_DATAGRAM_HEADER + n * SYNC_RECORD_BYTES) return { ok: false, why: 'bad-length' };
  const conns = readRecords(b, SYNC_DATAGRAM_HEADER);
  return conns === null ? { ok: false, why: 'bad-record' } : { ok: true, conns };
}

/**
 * What to send this round: the connections that are new or changed state since the last round
 * (`sent` is updated; flows gone from the table are forgotten), cut into batches.
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
  const batches: SyncConn[][] = [];
  for (let i = 0; i < todo.length; i += SYNC_MAX_RECORDS) batches.push(todo.slice(i, i + SYNC_MAX_RECORDS));
  return batches;
}
