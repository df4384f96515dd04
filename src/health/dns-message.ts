/**
 * DNS messages for the `dns` check, over the `dns-packet` codec (RFC 1035 wire format, name
 * compression): a query to send, an answer read back in the shape the check judges (numeric types
 * and classes, A as a dotted quad, NS/CNAME/PTR as a name, other rdata as raw bytes), and answers
 * for test servers. What stays here is the check's own part: which names it refuses to send, the
 * single error code for an answer that does not parse, and the verdict (judgeDnsAnswer). Pure.
 */
import dnsPacket from 'dns-packet';
import dnsTypes from 'dns-packet/types.js';
import { DsrlbError } from '../errors/index.ts';

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

/** The types whose rdata is text here; dns-packet names them as the RFCs do. */
const TEXT_TYPES = new Map<number, 'A' | 'NS' | 'CNAME' | 'PTR'>([[1, 'A'], [2, 'NS'], [5, 'CNAME'], [12, 'PTR']]);
const CLASS_NUMBERS: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };
const FLUSH = 0x8000;

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

/** Refuses what DNS cannot carry (dns-packet would write it anyway); returns the name without its trailing dot. */
function checkedName(name: string): string {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return '';
  let total = 1;
  for (const label of trimmed.split('.')) {
    const n = Buffer.byteLength(label);
    if (n === 0) throw new DsrlbError('E_DNS_NAME', `empty label in DNS name "${name}"`);
    if (n > 63) throw new DsrlbError('E_DNS_NAME', `label longer than 63 bytes in DNS name "${name}"`);
    total += n + 1;
  }
  if (total > 255) throw new DsrlbError('E_DNS_NAME', `DNS name longer than 255 bytes: "${name}"`);
  return trimmed;
}

const typeName = (t: number): string => TEXT_TYPES.get(t) ?? `UNKNOWN_${t}`;
const className = (c: number): string => (c === DNS_CLASS_IN ? 'IN' : `UNKNOWN_${c}`);

function toAnswer(r: DnsRecord): dnsPacket.Answer {
  const name = checkedName(r.name);
  if (typeof r.data !== 'string') {
    // Raw rdata: dns-packet writes UNKNOWN_n types byte for byte.
    return { name, type: `UNKNOWN_${r.type}`, class: className(r.class), ttl: r.ttl >>> 0, data: Buffer.from(r.data) } as unknown as dnsPacket.Answer;
  }
  const type = TEXT_TYPES.get(r.type);
  if (type === 'A') {
    const parts = r.data.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
      throw new DsrlbError('E_DNS_RDATA', `not an IPv4 address for an A record: "${r.data}"`);
    }
    return { name, type, class: 'IN', ttl: r.ttl >>> 0, data: parts.join('.') };
  }
  if (!type) throw new DsrlbError('E_DNS_RDATA', `text rdata given for record type ${r.type}`);
  return { name, type, class: 'IN', ttl: r.ttl >>> 0, data: checkedName(r.data) };
}

/** Encodes a whole message (dns-packet writes names uncompressed). */
export function encodeMessage(m: DnsMessage): Uint8Array {
  const flags = ((m.opcode & 0xf) << 11) | (m.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (m.tc ? dnsPacket.TRUNCATED_RESPONSE : 0)
    | (m.rd ? dnsPacket.RECURSION_DESIRED : 0) | (m.ra ? dnsPacket.RECURSION_AVAILABLE : 0) | (m.rcode & 0xf);
  const buf = dnsPacket.encode({
    type: m.qr ? 'response' : 'query', id: m.id & 0xffff, flags,
    questions: m.questions.map((q) => ({ name: checkedName(q.name), type: typeName(q.type), class: className(q.class) }) as dnsPacket.Question),
    answers: m.answers.map(toAnswer), authorities: m.authority.map(toAnswer), additionals: m.additional.map(toAnswer),
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** A standard recursive query for one name. `id` is 0..65535. */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  return encodeMessage({
    id: id & 0xffff, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0,
    questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authority: [], additional: [],
  });
}

const typeNumber = (name: string): number => dnsTypes.toType(name);
const classNumber = (name: string | undefined): number =>
  name === undefined ? DNS_CLASS_IN : CLASS_NUMBERS[name] ?? Number(name.replace(/^UNKNOWN_/, ''));
const rootless = (name: string): string => (name === '.' ? '' : name);

/** dns-packet's record back in this module's shape: the rdata of other types re-encoded to its bytes. */
function fromAnswer(a: dnsPacket.Answer): DnsRecord {
  const type = typeNumber(a.type);
  if (a.type === 'OPT') {
    const raw = dnsPacket.record('OPT').encode(a.options);
    return {
      name: rootless(a.name), type, class: a.udpPayloadSize,
      ttl: ((a.extendedRcode << 24) | (a.ednsVersion << 16) | a.flags) >>> 0, data: new Uint8Array(raw.subarray(2)),
    };
  }
  const klass = classNumber(a.class) | (a.flush ? FLUSH : 0);
  let data: string | Uint8Array;
  if (TEXT_TYPES.has(type) && typeof a.data === 'string') data = rootless(a.data);
  else data = new Uint8Array(dnsPacket.record(a.type).encode(a.data).subarray(2));
  return { name: rootless(a.name), type, class: klass, ttl: a.ttl ?? 0, data };
}

/** Decodes a message; throws DsrlbError E_DNS_MALFORMED when it is not a well-formed DNS message. */
export function decodeMessage(bytes: Uint8Array): DnsMessage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(buf);
  } catch (e) {
    throw bad(`not a DNS message: ${(e as Error).message}`);
  }
  // dns-packet reads some rdata without checking the end (it slices, or reads an address past it):
  // a message it read beyond is cut short.
  if (dnsPacket.decode.bytes > buf.length) throw bad(`message cut short (${buf.length} bytes, ${dnsPacket.decode.bytes} needed)`);
  const flags = buf.readUInt16BE(2);
  let records;
  try {
    records = { answers: (p.answers ?? []).map(fromAnswer), authority: (p.authorities ?? []).map(fromAnswer), additional: (p.additionals ?? []).map(fromAnswer) };
  } catch (e) {
    throw bad(`unreadable record: ${(e as Error).message}`);
  }
  return {
    id: p.id ?? 0, qr: p.flag_qr, opcode: (flags >>> 11) & 0xf, aa: p.flag_aa, tc: p.flag_tc, rd: p.flag_rd, ra: p.flag_ra, rcode: flags & 0xf,
    questions: (p.questions ?? []).map((q) => ({ name: rootless(q.name), type: typeNumber(q.type), class: classNumber(q.class) })),
    ...records,
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
