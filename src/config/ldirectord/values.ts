/**
 * Value parsers shared by the directive handlers. Each reports its own error (with the line) through
 * the Diagnostics sink and returns undefined on failure, so a caller can go on and find more errors.
 */
import { ipv6ToString, parseIPv4, parseIPv6 } from '../../model/index.ts';
import { PORT_NAMES } from './constants.ts';
import type { Diagnostics } from './lexer.ts';

export interface At {
  diag: Diagnostics;
  line: number;
  /** Directive name, for messages. */
  name: string;
}

export function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

/**
 * `"text"` -> `text` (from the first quote to the last, as ldirectord's greedy `"(.*)"` does);
 * an unquoted value is returned as is.
 */
export function unquote(v: string, at: At): string | undefined {
  if (!v.startsWith('"')) return v;
  const last = v.lastIndexOf('"');
  if (last === 0) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, `${at.name}: unterminated double quote`);
    return undefined;
  }
  const rest = v.slice(last + 1).trim();
  if (rest !== '') {
    at.diag.error('E_CONFIG_SYNTAX', at.line, `${at.name}: unexpected text ${show(rest)} after the closing quote`);
    return undefined;
  }
  return v.slice(1, last);
}

/** A string value, quoted or not, that must not be empty. */
export function text(v: string, at: At): string | undefined {
  const s = unquote(v, at);
  if (s === undefined) return undefined;
  if (s === '') {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name}: empty value`);
    return undefined;
  }
  return s;
}

export function yesNo(v: string, at: At): boolean | undefined {
  if (v === 'yes') return true;
  if (v === 'no') return false;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name} must be "yes" or "no", got ${show(v)}`);
  return undefined;
}

export function uint(v: string, at: At, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(v)) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name} must be a whole number, got ${show(v)}`);
    return undefined;
  }
  const n = v.length > 15 ? Infinity : Number(v);
  if (n < min || n > max) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name} must be in ${min}..${max}, got ${v}`);
    return undefined;
  }
  return n;
}

/** A port number 0..65535 or a service name from the built-in table; null when neither. */
export function portValue(s: string): number | null {
  if (/^\d+$/.test(s)) {
    const n = s.length > 5 ? Infinity : Number(s);
    return n <= 65535 ? n : null;
  }
  return PORT_NAMES.get(s) ?? null;
}

export function port(s: string, at: At, what: string): number | undefined {
  const p = portValue(s);
  if (p !== null) return p;
  if (/^\d+$/.test(s)) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${what}: port ${s} is out of range 0..65535`);
  } else {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line,
      `${what}: unknown service name ${show(s)} (write the port number)`);
  }
  return undefined;
}

const HOSTNAME_RE = /^(?=.*[A-Za-z_])[A-Za-z0-9_.+-]+$/;

/** A dotted-quad IPv4 address; hostnames and IPv6 get their own messages. */
export function ipv4(s: string, at: At, what: string): number | undefined {
  const n = parseIPv4(s);
  if (n !== null) {
    if (/(^|\.)0\d/.test(s)) {
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line,
        `${what}: ${show(s)} has an octet with a leading zero (octal or decimal?); write it without`);
      return undefined;
    }
    if (n === 0) {
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: 0.0.0.0 is not a usable address`);
      return undefined;
    }
    return n;
  }
  if (s.startsWith('[') || /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$/.test(s)) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: ${show(s)} is an IPv6 address; ${v6Hint(what)}`);
  } else if (HOSTNAME_RE.test(s)) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line,
      `${what}: ${show(s)} is a host name; dsrlb does not resolve names, write the IPv4 address`);
  } else {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: invalid IPv4 address ${show(s)}`);
  }
  return undefined;
}

/** Where an IPv6 address goes instead of an IPv4 directive (ldirectord's virtual6/real6/fallback6). */
function v6Hint(what: string): string {
  if (what === 'virtual' || what === 'real' || what === 'fallback') {
    return `write it in brackets in ${what}6= (${what}6=[2001:db8::1]:80), as ldirectord does`;
  }
  return 'write it in brackets ([2001:db8::1])';
}

/** `host[:port]` where host is IPv4; port null when absent. */
export function hostPort(s: string, at: At, what: string): { address: number; port: number | null } | undefined {
  if (s.startsWith('[')) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: ${show(s)} is an IPv6 address; ${v6Hint(what)}`);
    return undefined;
  }
  const colon = s.lastIndexOf(':');
  const host = colon < 0 ? s : s.slice(0, colon);
  const portText = colon < 0 ? null : s.slice(colon + 1);
  const address = ipv4(host, at, what);
  let p: number | null | undefined = null;
  if (portText !== null) p = port(portText, at, what);
  if (address === undefined || p === undefined) return undefined;
  return { address, port: p };
}

/**
 * An IPv6 address as ldirectord's virtual6/real6/fallback6 take it: in brackets (`[2001:db8::1]`).
 * Returns the canonical text (RFC 5952, what ipvsadm prints). No host names, zones or prefixes.
 */
export function ipv6(s: string, at: At, what: string): string | undefined {
  const m = /^\[(.*)\]$/.exec(s);
  if (!m) {
    if (parseIPv4(s) !== null || /^\d+(\.\d+)*$/.test(s)) {
      const v4 = what.endsWith('6') ? what.slice(0, -1) : what;
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: ${show(s)} is an IPv4 address; ${what} takes IPv6 in brackets, IPv4 goes in ${v4}=`);
    } else if (parseIPv6(s) !== null) {
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: write the IPv6 address in brackets: [${s}]`);
    } else if (HOSTNAME_RE.test(s)) {
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line,
        `${what}: ${show(s)} is a host name; dsrlb does not resolve names, write the IPv6 address in brackets`);
    } else {
      at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: invalid IPv6 address ${show(s)} (write [2001:db8::1])`);
    }
    return undefined;
  }
  const b = parseIPv6(m[1]!);
  if (b === null) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: invalid IPv6 address ${show(s)}`);
    return undefined;
  }
  if (b.every((x) => x === 0)) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: [::] is not a usable address`);
    return undefined;
  }
  if (b[0] === 0xff) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: ${show(s)} is a multicast address`);
    return undefined;
  }
  return ipv6ToString(b);
}

/** `[v6][:port]`; port null when absent. */
export function hostPort6(s: string, at: At, what: string): { address6: string; port: number | null } | undefined {
  const close = s.lastIndexOf(']');
  let host = s;
  let portText: string | null = null;
  if (s.startsWith('[') && close > 0 && close < s.length - 1) {
    if (s[close + 1] !== ':') {
      at.diag.error('E_CONFIG_SYNTAX', at.line, `${what}: unexpected ${show(s.slice(close + 1))} after the address (write [ADDRESS]:PORT)`);
      return undefined;
    }
    host = s.slice(0, close + 1);
    portText = s.slice(close + 2);
  } else if (!s.startsWith('[') && parseIPv6(s) === null) {
    // 10.0.0.1:80 and the like: report the address part.
    const colon = s.lastIndexOf(':');
    if (colon > 0 && parseIPv4(s.slice(0, colon)) !== null) host = s.slice(0, colon);
  }
  const address6 = ipv6(host, at, what);
  let p: number | null | undefined = null;
  if (portText !== null) p = port(portText, at, what);
  if (address6 === undefined || p === undefined) return undefined;
  return { address6, port: p };
}
