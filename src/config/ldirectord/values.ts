/**
 * Value parsers shared by the directive handlers. Each reports its own error (with the line) through
 * the Diagnostics sink and returns undefined on failure, so a caller can go on and find more errors.
 */
import { parseIPv4 } from '../../model/index.ts';
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
    at.diag.error('E_CONFIG_UNSUPPORTED', at.line, `${what}: IPv6 address ${show(s)}: dsrlb is IPv4 only`);
  } else if (HOSTNAME_RE.test(s)) {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line,
      `${what}: ${show(s)} is a host name; dsrlb does not resolve names, write the IPv4 address`);
  } else {
    at.diag.error('E_CONFIG_BAD_ADDRESS', at.line, `${what}: invalid IPv4 address ${show(s)}`);
  }
  return undefined;
}

/** `host[:port]` where host is IPv4; port null when absent. */
export function hostPort(s: string, at: At, what: string): { address: number; port: number | null } | undefined {
  if (s.startsWith('[')) {
    at.diag.error('E_CONFIG_UNSUPPORTED', at.line, `${what}: IPv6 address ${show(s)}: dsrlb is IPv4 only`);
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
