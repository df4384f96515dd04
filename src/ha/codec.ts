/**
 * The heartbeat wire format, pure. A message is text, one `name=value` field a line between `>>>`
 * and `<<<` (heartbeat v1's framing), the last field being `auth=N DIGEST`: the key index of
 * authkeys and the digest of every byte before the `auth=` line, computed with that key's method
 * (crc: CRC-32, Node's zlib.crc32; md5, sha1, sha256: HMAC with the secret). Received messages may use any key of
 * authkeys, as heartbeat accepts.
 *
 * Fields: t (message type), src, dest (node names), gen (the sender's generation: one per start,
 * increasing), seq (per generation, increasing), st (the sender's state), then type-specific fields.
 * Values are printable ASCII without '=' in names and without newlines.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AuthKey } from '../config/index.ts';

export const MAX_MESSAGE_BYTES = 60_000;

export type WireState = 'init' | 'standby' | 'active' | 'stopping';
export const WIRE_STATES: readonly WireState[] = ['init', 'standby', 'active', 'stopping'];

export interface HaMessage {
  /** 'status' (heartbeats, the giveup being a status with st=stopping) or 'sync' (connection sync). */
  t: string;
  src: string;
  dest: string;
  gen: number;
  seq: number;
  st: WireState;
  /** Other fields, in order. */
  extra?: Record<string, string>;
}

export type DecodeFailure = 'too-big' | 'malformed' | 'unknown-key' | 'bad-auth';
export type DecodeResult = { ok: true; msg: HaMessage; keyIndex: number } | { ok: false; reason: DecodeFailure; detail: string };

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const FIELD_NAME = /^[a-z][a-z0-9_]*$/;
const VALUE = /^[\x20-\x7e]*$/;

export function digest(key: AuthKey, data: Uint8Array): string {
  switch (key.method) {
    case 'crc':
      return crc32(data).toString(16).padStart(8, '0');
    case 'md5':
    case 'sha1':
    case 'sha256':
      return createHmac(key.method, key.key).update(data).digest('hex');
  }
}

export function encodeMessage(m: HaMessage, key: AuthKey): Uint8Array {
  const fields: Array<[string, string]> = [
    ['t', m.t], ['src', m.src], ['dest', m.dest], ['gen', String(m.gen)], ['seq', m.seq.toString(16)], ['st', m.st],
    ...Object.entries(m.extra ?? {}),
  ];
  let body = '>>>\n';
  for (const [k, v] of fields) {
    if (!FIELD_NAME.test(k) || !VALUE.test(v)) throw new RangeError(`field ${k} cannot be sent: ${JSON.stringify(v).slice(0, 40)}`);
    body += `${k}=${v}\n`;
  }
  const signed = enc.encode(body);
  return enc.encode(`${body}auth=${key.index} ${digest(key, signed)}\n<<<\n`);
}

function fail(reason: DecodeFailure, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/** Parses and authenticates. Never throws; anything that is not a well-formed, authentic message is a failure. */
export function decodeMessage(buf: Uint8Array, keys: ReadonlyMap<number, AuthKey>): DecodeResult {
  if (buf.length > MAX_MESSAGE_BYTES) return fail('too-big', `${buf.length} bytes`);
  let text: string;
  try {
    text = dec.decode(buf);
  } catch {
    return fail('malformed', 'not UTF-8');
  }
  if (!text.startsWith('>>>\n') || !text.endsWith('\n<<<\n')) return fail('malformed', 'no >>> <<< framing');
  const authAt = text.lastIndexOf('\nauth=');
  if (authAt < 0) return fail('malformed', 'no auth field');
  const authLine = text.slice(authAt + 6, text.length - 5);
  const am = /^(\d{1,2}) ([0-9a-f]{8,128})$/.exec(authLine);
  if (!am) return fail('malformed', 'bad auth field');
  const key = keys.get(Number(am[1]));
  if (!key) return fail('unknown-key', `key ${am[1]}`);
  const signedText = text.slice(0, authAt + 1);
  const want = Buffer.from(digest(key, enc.encode(signedText)), 'hex');
  const got = Buffer.from(am[2]!, 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return fail('bad-auth', `key ${key.index} (${key.method})`);
  const fields = new Map<string, string>();
  const extra: Record<string, string> = {};
  for (const line of signedText.slice(4, -1).split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) return fail('malformed', 'field without =');
    const k = line.slice(0, eq);
    if (fields.has(k)) return fail('malformed', `field ${k} twice`);
    fields.set(k, line.slice(eq + 1));
    if (!['t', 'src', 'dest', 'gen', 'seq', 'st'].includes(k)) extra[k] = line.slice(eq + 1);
  }
  const t = fields.get('t');
  const src = fields.get('src');
  const dest = fields.get('dest');
  const genS = fields.get('gen') ?? '';
  const seqS = fields.get('seq') ?? '';
  const st = fields.get('st') as WireState | undefined;
  if (!t || !src || dest === undefined) return fail('malformed', 'missing t, src or dest');
  if (!/^\d{1,15}$/.test(genS) || !/^[0-9a-f]{1,12}$/.test(seqS)) return fail('malformed', 'bad gen or seq');
  if (!st || !WIRE_STATES.includes(st)) return fail('malformed', 'bad st');
  return { ok: true, keyIndex: key.index, msg: { t, src, dest, gen: Number(genS), seq: parseInt(seqS, 16), st, extra } };
}

/**
 * Replay protection, per sender: a message is fresh when its generation is newer than the last
 * accepted one, or the same generation with a higher sequence number. With several media (bcast and
 * mcast, ha.cf) each message arrives once per medium, and the copies need not keep their order: the
 * copy of message N may come after message N+1 through the other medium. So the last 32 sequence
 * numbers are remembered, as heartbeat keeps a window of them: a copy of one of them is a
 * 'duplicate', one of them never seen is 'late' (lost on one medium, late on the other), and only an
 * older one is a 'replay'. None but a fresh message is ever acted on. Pure state, no clock.
 */
export class ReplayGuard {
  /** Per sender: the last accepted generation and sequence, and which of the 32 before it were accepted (bit i: seq - 1 - i). */
  private readonly last = new Map<string, { gen: number; seq: number; seen: number }>();

  check(src: string, gen: number, seq: number): 'fresh' | 'duplicate' | 'late' | 'replay' | 'old-generation' {
    const l = this.last.get(src);
    if (l && gen === l.gen && seq <= l.seq) {
      if (seq === l.seq) return 'duplicate';
      const d = l.seq - seq;
      if (d > 32) return 'replay';
      return (l.seen >>> (d - 1)) & 1 ? 'duplicate' : 'late';
    }
    if (l && gen < l.gen) return 'old-generation';
    let seen = 0;
    if (l && gen === l.gen) {
      const d = seq - l.seq;
      // The previous last becomes bit d-1; older bits move up by d (and fall out past 32).
      seen = d >= 32 ? (d === 32 ? 1 << 31 : 0) : ((l.seen << d) | (1 << (d - 1))) >>> 0;
    }
    this.last.set(src, { gen, seq, seen });
    return 'fresh';
  }

  lastOf(src: string): { gen: number; seq: number } | null {
    const l = this.last.get(src);
    return l ? { gen: l.gen, seq: l.seq } : null;
  }
}
