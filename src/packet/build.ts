/**
 * Builders of correct frames (every length and checksum filled in) for tests, tools and the
 * testbed. They allocate freely and throw DsrlbError('E_PACKET_BUILD') on input that cannot be
 * encoded (a malformed address, a port above 65535, options over 40 bytes). To build a broken
 * packet on purpose, use the override fields (`checksum`, `totalLength`, `length`, `headerLength`…):
 * they are written as given.
 *
 *   const syn = tcpFrame({ src: '10.0.0.10', dst: '10.0.0.100', sport: 40000, dport: 80, flags: ['SYN'] });
 */

import { DsrlbError } from '../errors/index.ts';
import { parseIPv4, parseMac } from '../model/index.ts';
import { ETHERTYPE_VLAN, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
import { internetChecksum, l4Checksum, udpChecksumOut } from './checksum.ts';
import { isTcpFlagName, tcpFlagBits } from './tcp-flags.ts';
import type { TcpFlagName } from './tcp-flags.ts';

/** 'aa:bb:cc:dd:ee:ff' or 6 bytes. */
export type MacInput = string | Uint8Array;
/** Dotted quad or a u32 in host order. */
export type Ipv4Input = string | number;
/** Raw bytes, or a string sent as UTF-8. */
export type BytesInput = Uint8Array | string;
/** A flags byte, a list of names, or names joined by '|', ',' or spaces ('SYN|ACK'). */
export type TcpFlagsInput = number | readonly TcpFlagName[] | string;
export interface VlanInput {
  id: number;
  pcp?: number;
  dei?: boolean;
}

function fail(message: string): never {
  throw new DsrlbError('E_PACKET_BUILD', message);
}

function int(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) fail(`${name} ${v} is not an integer in 0..${max}`);
  return v;
}

export function macBytes(m: MacInput): Uint8Array {
  if (typeof m !== 'string') {
    if (m.length !== 6) fail(`a MAC address has 6 bytes, not ${m.length}`);
    return m;
  }
  return parseMac(m) ?? fail(`bad MAC address '${m}'`);
}

export function ipv4Number(a: Ipv4Input): number {
  if (typeof a === 'number') return int('IPv4 address', a, 0xffffffff);
  return parseIPv4(a) ?? fail(`bad IPv4 address '${a}'`);
}

export function bytesOf(b: BytesInput | undefined): Uint8Array {
  if (b === undefined) return new Uint8Array(0);
  return typeof b === 'string' ? new TextEncoder().encode(b) : b;
}

export function tcpFlagsByte(f: TcpFlagsInput | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return int('TCP flags', f, 0xff);
  const names = typeof f === 'string' ? f.split(/[|,\s]+/).filter((s) => s !== '') : f;
  for (const n of names) if (!isTcpFlagName(n.toUpperCase())) fail(`unknown TCP flag '${n}'`);
  return tcpFlagBits(names.map((n) => n.toUpperCase() as TcpFlagName));
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
}

/** Options padded with zero bytes (End of Option List) to a multiple of 4, at most 40 bytes. */
function padOptions(what: string, o: Uint8Array | undefined): Uint8Array {
  if (!o || o.length === 0) return new Uint8Array(0);
  const len = (o.length + 3) & ~3;
  if (len > 40) fail(`${what} options take ${len} bytes, more than 40`);
  const out = new Uint8Array(len);
  out.set(o);
  return out;
}

/** An Ethernet II frame, with one 802.1Q tag when `vlan` is given (an id, or id/pcp/dei). */
export function ethernet(
  dst: MacInput,
  src: MacInput,
  etherType: number,
  payload: BytesInput,
  vlan?: number | VlanInput | null,
): Uint8Array {
  const body = bytesOf(payload);
  const tag = vlan === undefined || vlan === null ? null : typeof vlan === 'number' ? { id: vlan } : vlan;
  const hl = tag ? 18 : 14;
  const f = new Uint8Array(hl + body.length);
  f.set(macBytes(dst), 0);
  f.set(macBytes(src), 6);
  if (tag) {
    put16(f, 12, ETHERTYPE_VLAN);
    const tci = (int('VLAN pcp', tag.pcp ?? 0, 7) << 13) | (tag.dei ? 0x1000 : 0) | int('VLAN id', tag.id, 4095);
    put16(f, 14, tci);
  }
  put16(f, hl - 2, int('EtherType', etherType, 0xffff));
  f.set(body, hl);
  return f;
}

/** Pads a frame with zero bytes to `min` bytes (60: the Ethernet minimum without FCS). */
export function padFrame(frame: Uint8Array, min = 60): Uint8Array {
  if (frame.length >= min) return frame;
  const out = new Uint8Array(min);
  out.set(frame);
  return out;
}

export type ProtoInput = number | 'tcp' | 'udp' | 'icmp';

export interface Ipv4Build {
  src: Ipv4Input;
  dst: Ipv4Input;
  proto: ProtoInput;
  payload?: BytesInput;
  /** Default 64. */
  ttl?: number;
  /** Default 0. */
  id?: number;
  tos?: number;
  flags?: { df?: boolean; mf?: boolean; reserved?: boolean };
  /** In 8-byte units. */
  fragOffset?: number;
  /** Padded with zeros to a multiple of 4 (at most 40 bytes). */
  options?: Uint8Array;
  // Overrides, written as given (for malformed packets):
  version?: number;
  /** In 32-bit words. */
  ihl?: number;
  totalLength?: number;
  checksum?: number;
}

function protoNumber(p: ProtoInput): number {
  if (p === 'tcp') return IPPROTO_TCP;
  if (p === 'udp') return IPPROTO_UDP;
  if (p === 'icmp') return IPPROTO_ICMP;
  return int('IP protocol', p, 255);
}

/** An IPv4 packet: header (with a correct checksum unless overridden) followed by the payload. */
export function ipv4(o: Ipv4Build): Uint8Array {
  const opts = padOptions('IPv4', o.options);
  const body = bytesOf(o.payload);
  const hl = 20 + opts.length;
  if (hl + body.length > 0xffff) fail(`IPv4 packet of ${hl + body.length} bytes exceeds 65535`);
  const p = new Uint8Array(hl + body.length);
  p[0] = (int('IP version', o.version ?? 4, 15) << 4) | int('IHL', o.ihl ?? hl / 4, 15);
  p[1] = int('TOS', o.tos ?? 0, 255);
  put16(p, 2, int('total length', o.totalLength ?? p.length, 0xffff));
  put16(p, 4, int('IP id', o.id ?? 0, 0xffff));
  const f = o.flags ?? {};
  const frag = (f.reserved ? 0x8000 : 0) | (f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0);
  put16(p, 6, frag | int('fragment offset', o.fragOffset ?? 0, 0x1fff));
  p[8] = int('TTL', o.ttl ?? 64, 255);
  p[9] = protoNumber(o.proto);
  put32(p, 12, ipv4Number(o.src));
  put32(p, 16, ipv4Number(o.dst));
  p.set(opts, 20);
  put16(p, 10, o.checksum === undefined ? internetChecksum(p, 0, hl) : int('IP checksum', o.checksum, 0xffff));
  p.set(body, hl);
  return p;
}

/** Source and destination for the pseudo-header checksum. */
export interface PseudoHeaderInput {
  src: Ipv4Input;
  dst: Ipv4Input;
}

export interface TcpBuild extends PseudoHeaderInput {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: TcpFlagsInput;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  /** Padded with zeros (EOL) to a multiple of 4 (at most 40 bytes). */
  options?: Uint8Array;
  payload?: BytesInput;
  // Overrides:
  /** Header length in bytes (a multiple of 4 in 0..60). */
  headerLength?: number;
  checksum?: number;
}

/** A TCP segment with its pseudo-header checksum (over IPv4 src/dst). */
export function tcp(o: TcpBuild): Uint8Array {
  const opts = padOptions('TCP', o.options);
  const body = bytesOf(o.payload);
  const hl = 20 + opts.length;
  const s = new Uint8Array(hl + body.length);
  put16(s, 0, int('source port', o.sport, 0xffff));
  put16(s, 2, int('destination port', o.dport, 0xffff));
  put32(s, 4, int('sequence number', o.seq ?? 0, 0xffffffff));
  put32(s, 8, int('acknowledgement number', o.ack ?? 0, 0xffffffff));
  const doff = o.headerLength ?? hl;
  if (doff % 4 !== 0) fail(`TCP header length ${doff} is not a multiple of 4`);
  s[12] = int('TCP data offset', doff / 4, 15) << 4;
  s[13] = tcpFlagsByte(o.flags);
  put16(s, 14, int('TCP window', o.window ?? 65535, 0xffff));
  put16(s, 18, int('urgent pointer', o.urgent ?? 0, 0xffff));
  s.set(opts, 20);
  s.set(body, hl);
  const c = o.checksum ?? l4Checksum(s, 0, s.length, ipv4Number(o.src), ipv4Number(o.dst), IPPROTO_TCP);
  put16(s, 16, int('TCP checksum', c, 0xffff));
  return s;
}

export interface UdpBuild extends PseudoHeaderInput {
  sport: number;
  dport: number;
  payload?: BytesInput;
  // Overrides:
  length?: number;
  /** A value to write, or false to send none (0). */
  checksum?: number | false;
}

/** A UDP datagram with its pseudo-header checksum (a computed 0 is sent as 0xffff). */
export function udp(o: UdpBuild): Uint8Array {
  const body = bytesOf(o.payload);
  if (8 + body.length > 0xffff) fail(`UDP datagram of ${8 + body.length} bytes exceeds 65535`);
  const d = new Uint8Array(8 + body.length);
  put16(d, 0, int('source port', o.sport, 0xffff));
  put16(d, 2, int('destination port', o.dport, 0xffff));
  put16(d, 4, int('UDP length', o.length ?? d.length, 0xffff));
  d.set(body, 8);
  let c: number;
  if (o.checksum === false) c = 0;
  else if (o.checksum !== undefined) c = int('UDP checksum', o.checksum, 0xffff);
  else c = udpChecksumOut(l4Checksum(d, 0, d.length, ipv4Number(o.src), ipv4Number(o.dst), IPPROTO_UDP));
  put16(d, 6, c);
  return d;
}

export interface IcmpEchoBuild {
  /** Default 'request' (type 8); 'reply' is type 0. */
  type?: 'request' | 'reply';
  id?: number;
  seq?: number;
  payload?: BytesInput;
  code?: number;
  checksum?: number;
}

/** An ICMP echo request or reply message (header + payload, checksum over both). */
export function icmpEcho(o: IcmpEchoBuild = {}): Uint8Array {
  const body = bytesOf(o.payload);
  const m = new Uint8Array(8 + body.length);
  m[0] = o.type === 'reply' ? 0 : 8;
  m[1] = int('ICMP code', o.code ?? 0, 255);
  put16(m, 4, int('ICMP id', o.id ?? 0, 0xffff));
  put16(m, 6, int('ICMP sequence', o.seq ?? 0, 0xffff));
  m.set(body, 8);
  put16(m, 2, o.checksum === undefined ? internetChecksum(m, 0, m.length) : int('ICMP checksum', o.checksum, 0xffff));
  return m;
}
