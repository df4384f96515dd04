/**
 * How ipvsadm 1.31 reads the addresses of its -t/-u/-r/-M arguments: parse_service (IPv4 with an
 * optional :port, an IPv6 address bare or as [addr]:port), inet_aton, string_to_number and atoi.
 * Pure: host and service names go through the Lookup given (names.ts), and IPv6 names are never
 * looked up (ipvsadm's host_to_addr knows IPv4 only).
 */
import type { L4Proto } from '../dataplane/index.ts';
import { foldIPv6, ipv6ToString, parseIPv6 } from '../model/index.ts';
import type { Lookup } from './names.ts';

/** strtol(s, 10) accepted whole and within [min, max], else -1 (ipvsadm's string_to_number). */
export function stringToNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?\d+$/.test(s)) return -1;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : -1;
}

/** C's atoi: leading blanks, a sign, the digits that follow; 0 when there are none. */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) | 0 : 0;
}

/** inet_aton: 1 to 4 parts, each decimal, octal (0…) or hex (0x…), the last filling the rest. */
export function inetAton(s: string): number | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9]\d*$/.test(p)) v = Number(p);
    else return null;
    vals.push(v);
  }
  const last = vals.pop()!;
  for (const v of vals) if (v > 255) return null;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][vals.length]!;
  if (last > lastMax) return null;
  let n = 0;
  for (let i = 0; i < vals.length; i++) n += vals[i]! * 2 ** (24 - 8 * i);
  return (n + last) >>> 0;
}

/**
 * What parse_service found: an IPv4 address, or an IPv6 one (then `addr` is its 32-bit fold, what
 * the data path keys and hashes it by, and `addr6` the canonical text, as ipvsadm prints it).
 * `port` is null when the argument named none.
 */
export interface ParsedAddr {
  addr: number;
  addr6?: string;
  port: number | null;
}

/**
 * parse_service: null where ipvsadm returns SERVICE_NONE. Its steps, which give some surprising
 * answers that are kept here on purpose:
 * - all digits: none;
 * - `[X]:P`: X is taken alone; the text after `]` must start with `:`, else none (`[X]` alone is
 *   refused);
 * - whatever X is, if inet_pton(AF_INET6) takes it, it is an IPv6 address. A bare IPv6 address has
 *   no port (`2001:db8::10:80` is the address 2001:db8::10:80). A bracketed one has the port after `]:`;
 * - otherwise the text is cut at its last `:` and read as IPv4 (inet_aton, then /etc/hosts). In
 *   `[10.0.0.1]:80` the text inside the brackets has no colon, so the port is lost and the
 *   service gets port 0 (then -A refuses it: "Zero port specified for non-persistent service").
 */
export function parseService(buf: string, proto: L4Proto | null, lookup: Lookup): ParsedAddr | null {
  if (/^\d*$/.test(buf)) return null;
  let text = buf;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']', 1);
    if (close < 0) return null;
    if (text[close + 1] !== ':') return null;
    portText = text.slice(close + 2);
    text = text.slice(1, close);
  }
  let out: ParsedAddr;
  const a6 = parseIPv6(text);
  if (a6 !== null) {
    out = { addr: foldIPv6(a6), addr6: ipv6ToString(a6), port: null };
  } else {
    const colon = text.lastIndexOf(':');
    portText = colon < 0 ? null : text.slice(colon + 1);
    const host = colon < 0 ? text : text.slice(0, colon);
    const addr = inetAton(host) ?? lookup.hostAddr(host);
    if (addr === null) return null;
    out = { addr, port: null };
  }
  if (portText === null) return out;
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1) port = proto ? (lookup.servicePort(portText, proto) ?? -1) : -1;
  if (port === -1) return null;
  out.port = port;
  return out;
}
