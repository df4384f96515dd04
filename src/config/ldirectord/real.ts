/**
 * `real=`, `fallback=` and the dsrlb extension `realthresholds=`.
 *
 *   real = ADDR[->ADDR][:PORT] [gate|masq|ipip] [WEIGHT] ["REQUEST", "RECEIVE"]
 *   fallback = ADDR[:PORT] [gate|masq|ipip]
 *   realthresholds = ADDR[->ADDR][:PORT] UPPER [LOWER]          (dsrlb extension)
 *   real6 = [ADDR][:PORT] [gate|masq|ipip] [WEIGHT] ["REQUEST", "RECEIVE"]     (IPv6, no ranges)
 *   fallback6 = [ADDR][:PORT] [gate|masq|ipip]
 *   realthresholds = [ADDR][:PORT] UPPER [LOWER]                 (an IPv6 real)
 *
 * ldirectord requires the forwarding method on a real line; dsrlb defaults it to gate.
 */
import { ipToString } from '../../model/index.ts';
import { LDIRECTORD_DEFAULTS, MAX_RANGE, MAX_THRESHOLD, MAX_WEIGHT } from './constants.ts';
import type { Fallback, ForwardMethod, RealServer } from './types.ts';
import { ipv4, hostPort, hostPort6, show, uint, unquote, type At } from './values.ts';

const METHODS: readonly string[] = ['gate', 'masq', 'ipip'];

interface Token {
  quoted: boolean;
  text: string;
}

/** Splits on blanks and commas; "..." is one token (no escapes, as in ldirectord). */
function tokenize(s: string, at: At): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
    } else if (c === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) {
        at.diag.error('E_CONFIG_SYNTAX', at.line, `${at.name}: unterminated double quote`);
        return undefined;
      }
      out.push({ quoted: true, text: s.slice(i + 1, end) });
      i = end + 1;
    } else {
      let j = i;
      while (j < s.length && !' \t,"'.includes(s[j]!)) j++;
      out.push({ quoted: false, text: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

interface AddrRange {
  first: number;
  last: number;
  port: number | null;
}

/** ADDR[->ADDR][:PORT] */
function addrRange(spec: string, at: At, what: string): AddrRange | undefined {
  const arrow = spec.indexOf('->');
  if (arrow < 0) {
    const hp = hostPort(spec, at, what);
    return hp && { first: hp.address, last: hp.address, port: hp.port };
  }
  const left = spec.slice(0, arrow);
  const right = spec.slice(arrow + 2);
  if (left.includes(':') && !left.startsWith('[')) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, `${what}: in a range the port goes after the last address (A->B:PORT)`);
    return undefined;
  }
  const first = ipv4(left, at, what);
  const hp = hostPort(right, at, what);
  if (first === undefined || hp === undefined) return undefined;
  if (first > hp.address) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line,
      `${what}: range ${ipToString(first)}->${ipToString(hp.address)} goes backwards`);
    return undefined;
  }
  if (hp.address - first + 1 > MAX_RANGE) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${what}: range holds more than ${MAX_RANGE} addresses`);
    return undefined;
  }
  return { first, last: hp.address, port: hp.port };
}

interface RealTail {
  method: ForwardMethod;
  weight: number;
  request?: string;
  receive?: string;
}

export function parseReal(v: string, at: At): RealServer[] | undefined {
  const m = /^(\S+)\s*(.*)$/s.exec(v);
  if (!m) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, 'real: missing address');
    return undefined;
  }
  const range = addrRange(m[1]!, at, 'real');
  const tail = realTail(m[2]!, at);
  if (!range || !tail) return undefined;
  const out: RealServer[] = [];
  for (let a = range.first; a <= range.last; a++) out.push(realOf(at, a, range.port, tail));
  return out;
}

/** real6 = [ADDR][:PORT] [gate|masq|ipip] [WEIGHT] ["REQUEST", "RECEIVE"] (no ranges, as in ldirectord). */
export function parseReal6(v: string, at: At): RealServer[] | undefined {
  const m = /^(\S+)\s*(.*)$/s.exec(v);
  if (!m) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, 'real6: missing address');
    return undefined;
  }
  if (m[1]!.includes('->')) {
    at.diag.error('E_CONFIG_UNSUPPORTED', at.line, 'real6: address ranges are not supported for IPv6 (ldirectord refuses them too); write one real6= line per server');
    return undefined;
  }
  const hp = hostPort6(m[1]!, at, 'real6');
  const tail = realTail(m[2]!, at);
  if (!hp || !tail) return undefined;
  const r = realOf(at, 0, hp.port, tail);
  r.address6 = hp.address6;
  return [r];
}

function realOf(at: At, address: number, port: number | null, t: RealTail): RealServer {
  const r: RealServer = {
    line: at.line, address, port: port ?? 0, method: t.method, weight: t.weight,
    upperThreshold: 0, lowerThreshold: 0,
  };
  if (t.request !== undefined) {
    r.request = t.request;
    r.receive = t.receive;
  }
  return r;
}

/** What follows the address on a real line: [method] [weight] ["request", "receive"]. */
function realTail(text: string, at: At): RealTail | undefined {
  const toks = tokenize(text, at);
  if (!toks) return undefined;

  let k = 0;
  let method: ForwardMethod = LDIRECTORD_DEFAULTS.method;
  let weight: number = LDIRECTORD_DEFAULTS.weight;
  let ok = true;
  const t0 = toks[0];
  if (t0 && !t0.quoted && !/^\d+$/.test(t0.text)) {
    if (!METHODS.includes(t0.text)) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name}: forward method must be gate, masq or ipip, got ${show(t0.text)}`);
      ok = false;
    } else {
      method = t0.text as ForwardMethod;
    }
    k++;
  }
  const tw = toks[k];
  if (tw && !tw.quoted) {
    const w = uint(tw.text, { ...at, name: `${at.name} weight` }, 0, MAX_WEIGHT);
    if (w === undefined) ok = false;
    else weight = w;
    k++;
  }
  let request: string | undefined;
  let receive: string | undefined;
  const rest = toks.slice(k);
  if (rest.length > 0) {
    if (rest.length === 2 && rest[0]!.quoted && rest[1]!.quoted) {
      if (rest[0]!.text === '' || rest[1]!.text === '') {
        at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name}: empty request or receive string`);
        ok = false;
      }
      request = rest[0]!.text.startsWith('/') ? rest[0]!.text : `/${rest[0]!.text}`;
      receive = rest[1]!.text;
    } else if (rest.length === 1 && rest[0]!.quoted) {
      at.diag.error('E_CONFIG_SYNTAX', at.line, `${at.name}: a request string needs a receive string after it ("request", "receive")`);
      ok = false;
    } else {
      const bad = rest.find((t) => !t.quoted) ?? rest[2]!;
      at.diag.error('E_CONFIG_SYNTAX', at.line, `${at.name}: unexpected ${show(bad.text)} (expected [method] [weight] ["request", "receive"])`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return request === undefined ? { method, weight } : { method, weight, request, receive };
}

export function parseFallback(v: string, at: At): Fallback | undefined {
  return fallbackOf(v, at, 'fallback');
}

/** fallback6 = [ADDR][:PORT] [gate|masq|ipip] */
export function parseFallback6(v: string, at: At): Fallback | undefined {
  return fallbackOf(v, at, 'fallback6');
}

function fallbackOf(v: string, at: At, what: 'fallback' | 'fallback6'): Fallback | undefined {
  const s = unquote(v, at);
  if (s === undefined) return undefined;
  const parts = s.split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 2) {
    const addr = what === 'fallback' ? 'ADDRESS[:PORT]' : '[ADDRESS][:PORT]';
    at.diag.error('E_CONFIG_SYNTAX', at.line, `${what}: expected ${addr} [gate|masq|ipip]`);
    return undefined;
  }
  const hp4 = what === 'fallback' ? hostPort(parts[0]!, at, what) : undefined;
  const hp6 = what === 'fallback6' ? hostPort6(parts[0]!, at, what) : undefined;
  let method: ForwardMethod = 'gate';
  if (parts[1] !== undefined) {
    if (!METHODS.includes(parts[1])) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${what}: forward method must be gate, masq or ipip, got ${show(parts[1])}`);
      return undefined;
    }
    method = parts[1] as ForwardMethod;
  }
  if (hp4) return { line: at.line, address: hp4.address, port: hp4.port, method };
  if (hp6) return { line: at.line, address: 0, address6: hp6.address6, port: hp6.port, method };
  return undefined;
}

export interface ThresholdSpec {
  line: number;
  /** An IPv6 real (`[ADDR][:PORT]`, no range); first and last are then 0. */
  address6?: string;
  first: number;
  last: number;
  port: number | null;
  upper: number;
  lower: number;
}

export function parseThresholds(v: string, at: At): ThresholdSpec | undefined {
  const parts = v.split(/\s+/).filter((p) => p !== '');
  if (parts.length < 2 || parts.length > 3) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, 'realthresholds: expected ADDRESS[->ADDRESS][:PORT] UPPER [LOWER]');
    return undefined;
  }
  let range: AddrRange | undefined;
  let address6: string | undefined;
  if (parts[0]!.startsWith('[')) {
    const hp = hostPort6(parts[0]!, at, 'realthresholds');
    if (hp) {
      address6 = hp.address6;
      range = { first: 0, last: 0, port: hp.port };
    }
  } else {
    range = addrRange(parts[0]!, at, 'realthresholds');
  }
  const upper = uint(parts[1]!, { ...at, name: 'realthresholds upper' }, 0, MAX_THRESHOLD);
  const lower = parts[2] === undefined ? 0 : uint(parts[2], { ...at, name: 'realthresholds lower' }, 0, MAX_THRESHOLD);
  if (!range || upper === undefined || lower === undefined) return undefined;
  if (upper !== 0 && lower > upper) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `realthresholds: lower ${lower} is above upper ${upper}`);
    return undefined;
  }
  const t: ThresholdSpec = { line: at.line, first: range.first, last: range.last, port: range.port, upper, lower };
  if (address6 !== undefined) t.address6 = address6;
  return t;
}

