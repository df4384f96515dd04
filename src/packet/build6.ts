/**
 * Builders of IPv6 frames for tests, tools and capture generators (they allocate and throw
 * DsrlbError('E_PACKET_BUILD') on input that cannot be encoded, like build.ts): the fixed header,
 * extension headers, and TCP/UDP/ICMPv6 with the IPv6 pseudo-header checksum (RFC 8200 section 8.1).
 *
 *   const syn = ethernet(dirMac, cliMac, ETHERTYPE_IPV6,
 *     ipv6({ src, dst, next: IPPROTO_TCP, payload: tcp6({ src, dst, sport: 30000, dport: 80, flags: 'SYN' }) }));
 */
import { DsrlbError } from '../errors/index.ts';
import { parseIPv6 } from '../model/index.ts';
import { bytesOf, tcpFlagsByte } from './build.ts';
import type { BytesInput, TcpFlagsInput } from './build.ts';
import { foldSum, onesSum } from './checksum.ts';
import { IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
import { IPPROTO_ICMPV6 } from './ndp.ts';

/** Text form or 16 bytes. */
export type Ipv6Input = string | Uint8Array;

function fail(message: string): never {
  throw new DsrlbError('E_PACKET_BUILD', message);
}

export function ipv6Bytes(a: Ipv6Input): Uint8Array {
  if (typeof a !== 'string') {
    if (a.length !== 16) fail(`an IPv6 address has 16 bytes, not ${a.length}`);
    return a;
  }
  return parseIPv6(a) ?? fail(`bad IPv6 address '${a}'`);
}

function int(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) fail(`${name} ${v} is not an integer in 0..${max}`);
  return v;
}

export interface Ipv6Build {
  src: Ipv6Input;
  dst: Ipv6Input;
  /** Next Header of the fixed header: the first extension header's type, or the upper layer's. */
  next: number;
  /** Everything after the fixed header (extension headers and the upper-layer message). */
  payload: Uint8Array;
  /** Default 64. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Override of the Payload Length field. */
  payloadLength?: number;
}

/** The 40-byte fixed header followed by `payload`. */
export function ipv6(o: Ipv6Build): Uint8Array {
  const p = new Uint8Array(40 + o.payload.length);
  const tc = int('traffic class', o.trafficClass ?? 0, 255);
  const fl = int('flow label', o.flowLabel ?? 0, 0xfffff);
  p[0] = 0x60 | (tc >> 4);
  p[1] = ((tc & 15) << 4) | (fl >> 16);
  p[2] = (fl >> 8) & 0xff;
  p[3] = fl & 0xff;
  const plen = int('payload length', o.payloadLength ?? o.payload.length, 0xffff);
  p[4] = plen >> 8;
  p[5] = plen & 0xff;
  p[6] = int('next header', o.next, 255);
  p[7] = int('hop limit', o.hopLimit ?? 64, 255);
  p.set(ipv6Bytes(o.src), 8);
  p.set(ipv6Bytes(o.dst), 24);
  p.set(o.payload, 40);
  return p;
}

/**
 * An options extension header (hop-by-hop or destination options): `next`, the length byte, then
 * `options` padded with Pad1/PadN to a multiple of 8 bytes. Default: one PadN filling 6 bytes.
 */
export function optionsHeader(next: number, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  let body = 2 + options.length;
  const pad = (8 - (body % 8)) % 8;
  body += pad;
  if (body > 2048) fail(`options header of ${body} bytes exceeds 2048`);
  const h = new Uint8Array(body);
  h[0] = int('next header', next, 255);
  h[1] = body / 8 - 1;
  h.set(options, 2);
  if (pad === 1) h[2 + options.length] = 0; // Pad1
  else if (pad > 1) { h[2 + options.length] = 1; h[3 + options.length] = pad - 2; } // PadN
  return h;
}

/** A Routing header (RFC 8200 section 4.4) with the given type, segments left and type-specific data. */
export function routingHeader(next: number, type: number, segmentsLeft: number, data: Uint8Array = new Uint8Array(4)): Uint8Array {
  const body = 4 + data.length;
  if (body % 8 !== 0) fail(`routing header of ${body} bytes is not a multiple of 8`);
  const h = new Uint8Array(body);
  h[0] = int('next header', next, 255);
  h[1] = body / 8 - 1;
  h[2] = int('routing type', type, 255);
  h[3] = int('segments left', segmentsLeft, 255);
  h.set(data, 4);
  return h;
}

/** A Fragment header: offset in 8-byte units, the M flag, the identification. */
export function fragmentHeader(next: number, offset: number, more: boolean, id: number): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = int('next header', next, 255);
  const w = (int('fragment offset', offset, 0x1fff) << 3) | (more ? 1 : 0);
  h[2] = w >> 8;
  h[3] = w & 0xff;
  new DataView(h.buffer).setUint32(4, int('identification', id, 0xffffffff));
  return h;
}

/** Folded sum of the IPv6 pseudo-header: source, destination, upper-layer length, next header. */
export function pseudoHeaderSum6(src: Uint8Array, dst: Uint8Array, next: number, len: number): number {
  const s = onesSum(dst, 0, 16, onesSum(src, 0, 16));
  return foldSum(s + (len >>> 16) + (len & 0xffff) + (next & 0xff));
}

function l4Checksum6(m: Uint8Array, src: Ipv6Input, dst: Ipv6Input, next: number): number {
  return ~onesSum(m, 0, m.length, pseudoHeaderSum6(ipv6Bytes(src), ipv6Bytes(dst), next, m.length)) & 0xffff;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >> 8;
  b[o + 1] = v & 0xff;
}

export interface Tcp6Build {
  src: Ipv6Input;
  dst: Ipv6Input;
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: TcpFlagsInput;
  window?: number;
  payload?: BytesInput;
}

/** A TCP segment (no options) with its checksum over the IPv6 pseudo-header. */
export function tcp6(o: Tcp6Build): Uint8Array {
  const body = bytesOf(o.payload);
  const s = new Uint8Array(20 + body.length);
  const dv = new DataView(s.buffer);
  put16(s, 0, int('source port', o.sport, 0xffff));
  put16(s, 2, int('destination port', o.dport, 0xffff));
  dv.setUint32(4, int('sequence number', o.seq ?? 0, 0xffffffff));
  dv.setUint32(8, int('acknowledgement number', o.ack ?? 0, 0xffffffff));
  s[12] = 5 << 4;
  s[13] = tcpFlagsByte(o.flags);
  put16(s, 14, int('TCP window', o.window ?? 64240, 0xffff));
  s.set(body, 20);
  put16(s, 16, l4Checksum6(s, o.src, o.dst, IPPROTO_TCP));
  return s;
}

export interface Udp6Build {
  src: Ipv6Input;
  dst: Ipv6Input;
  sport: number;
  dport: number;
  payload?: BytesInput;
}

/** A UDP datagram with its (mandatory in IPv6) checksum; a computed 0 is sent as 0xffff. */
export function udp6(o: Udp6Build): Uint8Array {
  const body = bytesOf(o.payload);
  const d = new Uint8Array(8 + body.length);
  put16(d, 0, int('source port', o.sport, 0xffff));
  put16(d, 2, int('destination port', o.dport, 0xffff));
  put16(d, 4, int('UDP length', d.length, 0xffff));
  d.set(body, 8);
  const c = l4Checksum6(d, o.src, o.dst, IPPROTO_UDP);
  put16(d, 6, c === 0 ? 0xffff : c);
  return d;
}

/** An ICMPv6 message: type, code, then `body` (from byte 4 on), checksum over the pseudo-header. */
export function icmp6(src: Ipv6Input, dst: Ipv6Input, type: number, code: number, body: Uint8Array): Uint8Array {
  const m = new Uint8Array(4 + body.length);
  m[0] = int('ICMPv6 type', type, 255);
  m[1] = int('ICMPv6 code', code, 255);
  m.set(body, 4);
  put16(m, 2, l4Checksum6(m, src, dst, IPPROTO_ICMPV6));
  return m;
}
