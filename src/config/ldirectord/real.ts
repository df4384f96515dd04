/**
 * `real=`, `fallback=` and the dsrlb extension `realthresholds=`.
 *
 *   real = ADDR[->ADDR][:PORT] [gate|masq|ipip] [WEIGHT] ["REQUEST", "RECEIVE"]
 *   fallback = ADDR[:PORT] [gate|masq|ipip]
 *   realthresholds = ADDR[->ADDR][:PORT] UPPER [LOWER]          (dsrlb extension)
 *
 * ldirectord requires the forwarding method on a real line; dsrlb defaults it to gate.
 */
import { ipToString } from '../../model/index.ts';
import { LDIRECTORD_DEFAULTS, MAX_RANGE, MAX_THRESHOLD, MAX_WEIGHT } from './constants.ts';
import type { Fallback, ForwardMethod, RealServer } from './types.ts';
import { ipv4, hostPort, show, uint, unquote, type At } from './values.ts';

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

export function parseReal(v: string, at: At): RealServer[] | undefined {
  const m = /^(\S+)\s*(.*)$/s.exec(v);
  if (!m) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, 'real: missing address');
    return undefined;
  }
  const range = addrRange(m[1]!, at, 'real');
  const toks = tokenize(m[2]!, at);
  if (!range || !toks) return undefined;

  let k = 0;
  let method: ForwardMethod = LDIRECTORD_DEFAULTS.method;
  let weight: number = LDIRECTORD_DEFAULTS.weight;
  let ok = true;
  const t0 = toks[0];
  if (t0 && !t0.quoted && !/^\d+$/.test(t0.text)) {
    if (!METHODS.includes(t0.text)) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `real: forward method must be gate, masq or ipip, got ${show(t0.text)}`);
      ok = false;
    } else {
      method = t0.text as ForwardMethod;
    }
    k++;
  }
  const tw = toks[k];
  if (tw && !tw.quoted) {
    const w = uint(tw.text, { ...at, name: 'real weight' }, 0, MAX_WEIGHT);
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
        at.diag.error('E_CONFIG_BAD_VALUE', at.line, 'real: empty request or receive string');
        ok = false;
      }
      request = rest[0]!.text.startsWith('/') ? rest[0]!.text : `/${rest[0]!.text}`;
      receive = rest[1]!.text;
    } else if (rest.length === 1 && rest[0]!.quoted) {
      at.diag.error('E_CONFIG_SYNTAX', at.line, 'real: a request string needs a receive string after it ("request", "receive")');
      ok = false;
    } else {
      const bad = rest.find((t) => !t.quoted) ?? rest[2]!;
      at.diag.error('E_CONFIG_SYNTAX', at.line, `real: unexpected ${show(bad.text)} (expected [method] [weight] ["request", "receive"])`);
      ok = false;
    }
  }
  if (!ok) return undefined;

  const out: RealServer[] = [];
  for (let a = range.first; a <= range.last; a++) {
    const r: RealServer = {
      line: at.line, address: a, port: range.port ?? 0, method, weight,
      upperThreshold: 0, lowerThreshold: 0,
    };
    if (request !== undefined) {
      r.request = request;
      r.receive = receive;
    }
    out.push(r);
  }
  return out;
}

export function parseFallback(v: string, at: At): Fallback | undefined {
  const s = unquote(v, at);
  if (s === undefined) return undefined;
  const parts = s.split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 2) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, 'fallback: expected ADDRESS[:PORT] [gate|masq|ipip]');
    return undefined;
  }
  const hp = hostPort(parts[0]!, at, 'fallback');
  let method: ForwardMethod = 'gate';
  if (parts[1] !== undefined) {
    if (!METHODS.includes(parts[1])) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `fallback: forward method must be gate, masq or ipip, got ${show(parts[1])}`);
      return undefined;
    }
    method = parts[1] as ForwardMethod;
  }
  if (!hp) return undefined;
  return { line: at.line, address: hp.address, port: hp.port, method };
}

export interface ThresholdSpec {
  line: number;
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
  const range = addrRange(parts[0]!, at, 'realthresholds');
  const upper = uint(parts[1]!, { ...at, name: 'realthresholds upper' }, 0, MAX_THRESHOLD);
  const lower = parts[2] === undefined ? 0 : uint(parts[2], { ...at, name: 'realthresholds lower' }, 0, MAX_THRESHOLD);
  if (!range || upper === undefined || lower === undefined) return undefined;
  if (upper !== 0 && lower > upper) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `realthresholds: lower ${lower} is above upper ${upper}`);
    return undefined;
  }
  return { line: at.line, first: range.first, last: range.last, port: range.port, upper, lower };
}

