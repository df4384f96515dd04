/**
 * The hand-written DNS codec dsrlb used before dns-packet (src/health/dns-codec.ts up to #17), kept
 * unchanged as the reference the dns-packet mapping is compared with (dns-message-compare.test.ts).
 */
import { DsrlbError } from '../../src/errors/index.ts';

export const DNS_TYPE = Object.freeze({ A: 1, NS: 2, CNAME: 5, PTR: 12, AAAA: 28 });
export const DNS_CLASS_IN = 1;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A: dotted quad; NS/CNAME/PTR: a name (no trailing dot); other types: the raw rdata. */
  data: string | Uint8Array;
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

const NAME_TYPES = new Set<number>([DNS_TYPE.NS, DNS_TYPE.CNAME, DNS_TYPE.PTR]);

function bad(message: string): DsrlbError {
  return new DsrlbError('E_DNS_MALFORMED', message);
}

/** `4.3.2.1.in-addr.arpa` for 1.2.3.4; null when the text is not a dotted quad. */
export function reverseName(ipv4: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ipv4);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return `${parts.reverse().join('.')}.in-addr.arpa`;
}

function labelsOf(name: string): Uint8Array[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const enc = new TextEncoder();
  const labels = trimmed.split('.').map((l) => enc.encode(l));
  let total = 1;
  for (const l of labels) {
    if (l.length === 0) throw new DsrlbError('E_DNS_NAME', `empty label in DNS name "${name}"`);
    if (l.length > 63) throw new DsrlbError('E_DNS_NAME', `label longer than 63 bytes in DNS name "${name}"`);
    total += l.length + 1;
  }
  if (total > 255) throw new DsrlbError('E_DNS_NAME', `DNS name longer than 255 bytes: "${name}"`);
  return labels;
}

/** Growable byte writer (encoding is not a hot path). */
class Writer {
  private buf = new Uint8Array(512);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): void { this.room(1); this.buf[this.len++] = v & 0xff; }
  u16(v: number): void { this.u8(v >>> 8); this.u8(v); }
  u32(v: number): void { this.u16(v >>> 16); this.u16(v & 0xffff); }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; }
  name(name: string): void {
    for (const l of labelsOf(name)) { this.u8(l.length); this.bytes(l); }
    this.u8(0);
  }
  setU16(at: number, v: number): void { this.buf[at] = (v >>> 8) & 0xff; this.buf[at + 1] = v & 0xff; }
  done(): Uint8Array { return this.buf.slice(0, this.len); }
}

function encodeRdata(w: Writer, r: DnsRecord): void {
  const lenAt = w.len;
  w.u16(0);
  const start = w.len;
  if (typeof r.data === 'string') {
    if (r.type === DNS_TYPE.A) {
      const parts = r.data.split('.').map(Number);
      if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
        throw new DsrlbError('E_DNS_RDATA', `not an IPv4 address for an A record: "${r.data}"`);
      }
      for (const p of parts) w.u8(p);
    } else if (NAME_TYPES.has(r.type)) {
      w.name(r.data);
    } else {
      throw new DsrlbError('E_DNS_RDATA', `text rdata given for record type ${r.type}`);
    }
  } else {
    w.bytes(r.data);
  }
  w.setU16(lenAt, w.len - start);
}

/** Encodes a whole message (no name compression on output). */
export function encodeMessage(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  w.u16((m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.aa ? 0x400 : 0) | (m.tc ? 0x200 : 0)
    | (m.rd ? 0x100 : 0) | (m.ra ? 0x80 : 0) | (m.rcode & 0xf));
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length);
  for (const q of m.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const r of [...m.answers, ...m.authority, ...m.additional]) {
    w.name(r.name); w.u16(r.type); w.u16(r.class); w.u32(r.ttl >>> 0);
    encodeRdata(w, r);
  }
  return w.done();
}

/** A standard recursive query for one name. `id` is 0..65535. */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  return encodeMessage({
    id: id & 0xffff, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
    questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authority: [], additional: [],
  });
}

class Reader {
  off = 0;
  constructor(readonly buf: Uint8Array) {}
  need(n: number, what: string): void {
    if (this.off + n > this.buf.length) throw bad(`message ends inside ${what} (offset ${this.off}, ${this.buf.length} bytes)`);
  }
  u8(what: string): number { this.need(1, what); return this.buf[this.off++]!; }
  u16(what: string): number { this.need(2, what); const v = (this.buf[this.off]! << 8) | this.buf[this.off + 1]!; this.off += 2; return v; }
  u32(what: string): number { return ((this.u16(what) * 0x10000) + this.u16(what)) >>> 0; }
}

/** Reads a (possibly compressed) name at `start`; returns the name and the offset after it in place. */
function readName(buf: Uint8Array, start: number): { name: string; next: number } {
  const labels: string[] = [];
  const dec = new TextDecoder();
  let off = start;
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (off >= buf.length) throw bad(`name runs past the end of the message (offset ${off})`);
    const len = buf[off]!;
    if (len === 0) { off += 1; break; }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (off + 1 >= buf.length) throw bad('compression pointer cut short');
      const ptr = ((len & 0x3f) << 8) | buf[off + 1]!;
      if (next < 0) next = off + 2;
      if (++jumps > 64 || ptr >= buf.length) throw bad('compression pointer loop or out of range');
      off = ptr;
      continue;
    }
    if (kind !== 0) throw bad(`unknown label type 0x${kind.toString(16)}`);
    if (off + 1 + len > buf.length) throw bad('label runs past the end of the message');
    total += len + 1;
    if (total > 255) throw bad('name longer than 255 bytes');
    labels.push(dec.decode(buf.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return { name: labels.join('.'), next: next < 0 ? off : next };
}

function readRecord(r: Reader): DnsRecord {
  const n = readName(r.buf, r.off);
  r.off = n.next;
  const type = r.u16('record type');
  const klass = r.u16('record class');
  const ttl = r.u32('record ttl');
  const rdlen = r.u16('rdata length');
  r.need(rdlen, 'rdata');
  const rdStart = r.off;
  let data: string | Uint8Array;
  if (type === DNS_TYPE.A && rdlen === 4) {
    data = `${r.buf[rdStart]}.${r.buf[rdStart + 1]}.${r.buf[rdStart + 2]}.${r.buf[rdStart + 3]}`;
  } else if (NAME_TYPES.has(type)) {
    const target = readName(r.buf, rdStart);
    if (target.next > rdStart + rdlen) throw bad('name in rdata runs past its rdata');
    data = target.name;
  } else {
    data = r.buf.slice(rdStart, rdStart + rdlen);
  }
  r.off = rdStart + rdlen;
  return { name: n.name, type, class: klass, ttl, data };
}

/** Decodes a message; throws DsrlbError E_DNS_MALFORMED when it is not a well-formed DNS message. */
export function decodeMessage(buf: Uint8Array): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16('header');
  const flags = r.u16('header');
  const qd = r.u16('header');
  const an = r.u16('header');
  const ns = r.u16('header');
  const ar = r.u16('header');
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const n = readName(buf, r.off);
    r.off = n.next;
    questions.push({ name: n.name, type: r.u16('question'), class: r.u16('question') });
  }
  const answers: DnsRecord[] = [];
  const authority: DnsRecord[] = [];
  const additional: DnsRecord[] = [];
  for (let i = 0; i < an; i++) answers.push(readRecord(r));
  for (let i = 0; i < ns; i++) authority.push(readRecord(r));
  for (let i = 0; i < ar; i++) additional.push(readRecord(r));
  return {
    id, qr: (flags & 0x8000) !== 0, opcode: (flags >>> 11) & 0xf, aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0, rd: (flags & 0x100) !== 0, ra: (flags & 0x80) !== 0, rcode: flags & 0xf,
    questions, answers, authority, additional,
  };
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/**
 * The verdict of a DNS check on an answer. As ldirectord (check_dns, Net::DNS search): an answer
 * with no answer records is a failure; `receive` must equal an A record's address or a PTR record's
 * name. Unlike ldirectord (which then always fails), an empty `receive` accepts any answer.
 */
export function judgeDnsAnswer(m: DnsMessage, receive: string): { ok: boolean; detail: string } {
  if (m.answers.length === 0) {
    return { ok: false, detail: `no answer records (${RCODES[m.rcode] ?? `rcode ${m.rcode}`})` };
  }
  if (receive === '') return { ok: true, detail: `${m.answers.length} answer record(s)` };
  const want = receive.endsWith('.') ? receive.slice(0, -1) : receive;
  for (const a of m.answers) {
    if (typeof a.data !== 'string') continue;
    if (a.type === DNS_TYPE.A && a.data === want) return { ok: true, detail: `A ${a.data}` };
    if (a.type === DNS_TYPE.PTR && a.data === want) return { ok: true, detail: `PTR ${a.data}` };
  }
  const got = m.answers.filter((a) => typeof a.data === 'string').map((a) => a.data).join(', ');
  return { ok: false, detail: `response mismatch: want ${want}, got ${got || 'no A/PTR data'}` };
}
