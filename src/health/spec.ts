/**
 * From the config model to the check a real gets, the way ldirectord builds it: ld_setup() (the URL),
 * ld_checkport() (the port), _check_real() (which check function a checktype/service runs) and the
 * check_* functions (timeouts, request and receive handling). Pure.
 */
import { checkPortFor, checkStringsFor, realForwardPort, type RealServer, type VirtualService } from '../config/index.ts';
import { foldIPv6, ipToString, parseIPv6 } from '../model/index.ts';
import { reverseName } from './dns-message.ts';
import { compileReceive } from './receive.ts';
import type { VirtualPolicySettings } from './policy.ts';
import type { CheckSpec, RealRef, VirtualRef } from './types.ts';

/** Services dsrlb can negotiate with; the other ldirectord services are refused by validateChecks(). */
export const NEGOTIATE_SERVICES: readonly string[] = ['http', 'https', 'simpletcp', 'dns', 'none'];

export type SpecProblemCode = 'E_CHECK_UNSUPPORTED' | 'E_CHECK_NO_PORT' | 'E_CHECK_BAD_RECEIVE';

export interface SpecProblem {
  code: SpecProblemCode;
  line: number;
  message: string;
}

export type SpecResult = { ok: true; spec: CheckSpec } | { ok: false; problem: SpecProblem };

/** The checks a checktype runs: negotiate, connect, or both for checktype=N (ldirectord `combined`). */
export type SpecKind = 'negotiate' | 'connect' | 'ping' | 'external';

/** The fold an IPv6 address has in the director's u32 fields (docs/ipv6.md). */
function fold6(text: string): number {
  return foldIPv6(parseIPv6(text)!);
}

export function virtualRef(vs: VirtualService): VirtualRef {
  if (vs.protocol === 'fwm') return { proto: 'fwm', vip: 0, port: 0, fwmark: vs.fwmark ?? 0 };
  if (vs.address6 !== undefined) return { proto: vs.protocol, vip: fold6(vs.address6), port: vs.port, vip6: vs.address6 };
  return { proto: vs.protocol, vip: vs.address ?? 0, port: vs.port };
}

export function realRef(vs: VirtualService, r: RealServer): RealRef {
  const port = realForwardPort(vs, r);
  if (r.address6 !== undefined) return { addr: fold6(r.address6), addr6: r.address6, port, configPort: r.port };
  return { addr: r.address, port, configPort: r.port };
}

/** A real's (or fallback's) address as text: dotted quad, or the IPv6 canonical form. */
export function addressText(r: { address: number; address6?: string }): string {
  return r.address6 ?? ipToString(r.address);
}

/** As in a URL or a Host header: an IPv6 address in brackets. */
function hostText(r: { address: number; address6?: string }): string {
  return r.address6 !== undefined ? `[${r.address6}]` : ipToString(r.address);
}

/** Stable key of a virtual: `tcp:1.2.3.4:80`, `tcp:[2001:db8::10]:80`, `fwm:7` (ldirectord's get_virtual_id_str). */
export function virtualKey(vs: VirtualService): string {
  if (vs.protocol === 'fwm') return `fwm:${vs.fwmark ?? 0}`;
  if (vs.address6 !== undefined) return `${vs.protocol}:[${vs.address6}]:${vs.port}`;
  return `${vs.protocol}:${ipToString(vs.address ?? 0)}:${vs.port}`;
}

/** Stable key of a real inside its virtual: address and the port as written. */
export function realKey(r: RealServer): string {
  return `${hostText(r)}:${r.port}`;
}

function serviceLine(vs: VirtualService): number {
  return vs.lines.service ?? vs.lines.checktype ?? vs.line;
}

function unsupported(vs: VirtualService): SpecProblem {
  const how = vs.serviceFromPort ? ` (derived from the virtual port ${vs.port}; write service= to choose another)` : '';
  return {
    code: 'E_CHECK_UNSUPPORTED',
    line: serviceLine(vs),
    message: `checktype=${vs.checktype === 'combined' ? vs.checkConnects : vs.checktype} with service=${vs.service}${how} is not supported yet by dsrlb's health checks; supported services: ${NEGOTIATE_SERVICES.join(', ')} (or use checktype=connect, ping or external)`,
  };
}

function noPort(vs: VirtualService, r: RealServer, what: string): SpecProblem {
  return {
    code: 'E_CHECK_NO_PORT',
    line: r.line,
    message: `no port to ${what} real ${r.address6 !== undefined ? `[${r.address6}]` : ipToString(r.address)}: the real has no port, there is no checkport=, and service=${vs.service} has no well-known port`,
  };
}

function receiveProblem(vs: VirtualService, r: RealServer, receive: string): SpecProblem | null {
  const c = compileReceive(receive);
  if (c.ok) return null;
  const line = r.receive !== undefined && r.request !== undefined ? r.line : (vs.lines.receive ?? vs.line);
  return { code: 'E_CHECK_BAD_RECEIVE', line, message: `receive="${receive}" is not a regular expression dsrlb can use: ${c.error}` };
}

/**
 * The URL ldirectord's ld_setup() builds: `SCHEME://RIP:CHECKPORT/REQUEST`. A per-real request (from
 * `real=... "request", "receive"`) that contains `SCHEME://` is used as the whole URL; a virtual's
 * `request` is always a path on the real, even when it looks like a URL (as in ldirectord).
 */
export function httpUrlFor(vs: VirtualService, r: RealServer, port: number): string {
  const scheme = vs.service === 'https' ? 'https' : 'http';
  const { request } = checkStringsFor(vs, r);
  const uri = request.startsWith('/') ? request.slice(1) : request;
  const perReal = r.request !== undefined && r.receive !== undefined;
  if (perReal && request.includes(`${scheme}://`)) return uri;
  return `${scheme}://${hostText(r)}:${port}/${uri}`;
}

/** The spec of one check of real `r` of `vs`. */
export function specFor(vs: VirtualService, r: RealServer, kind: SpecKind): SpecResult {
  const address = addressText(r);
  const port = checkPortFor(vs, r);
  const checkMs = vs.checktimeout * 1000;
  const negotiateMs = vs.negotiatetimeout * 1000;

  if (kind === 'ping' || (kind === 'connect' && vs.protocol === 'udp')) {
    // ldirectord: a connect check of a UDP service is a ping.
    return { ok: true, spec: { checker: 'ping', address, count: Math.max(1, vs.checkcount), timeoutMs: checkMs } };
  }
  if (kind === 'connect') {
    if (port === null) return { ok: false, problem: noPort(vs, r, 'connect to') };
    return { ok: true, spec: { checker: 'connect', address, port, timeoutMs: checkMs } };
  }
  if (kind === 'external') {
    const vip = vs.protocol === 'fwm' ? String(vs.fwmark ?? 0) : vs.address6 ?? ipToString(vs.address ?? 0);
    return {
      ok: true,
      spec: {
        checker: 'external', command: vs.checkcommand, args: [vip, String(vs.port), address, String(r.port)],
        perl: vs.checktype === 'external-perl', timeoutMs: checkMs,
      },
    };
  }

  // negotiate
  const { request, receive } = checkStringsFor(vs, r);
  switch (vs.service) {
    case 'none':
      return { ok: true, spec: { checker: 'none' } };
    case 'http':
    case 'https': {
      if (port === null) return { ok: false, problem: noPort(vs, r, 'check') };
      const p = receiveProblem(vs, r, receive);
      if (p) return { ok: false, problem: p };
      return {
        ok: true,
        spec: {
          checker: 'http', url: httpUrlFor(vs, r, port), method: vs.httpmethod, hostHeader: vs.virtualhost ?? hostText(r),
          receive, timeoutMs: negotiateMs, maxRedirects: 7,
        },
      };
    }
    case 'simpletcp': {
      if (vs.protocol === 'udp') return { ok: false, problem: { ...unsupported(vs), message: 'service=simpletcp on a UDP virtual service is not supported by dsrlb (simpletcp speaks TCP)' } };
      if (port === null) return { ok: false, problem: noPort(vs, r, 'check') };
      const p = receiveProblem(vs, r, receive);
      if (p) return { ok: false, problem: p };
      // ldirectord: substr($request, 1) drops the '/' the parser put in front; a literal \n is a newline.
      const payload = request.slice(1).replace(/\\n/g, '\n');
      return { ok: true, spec: { checker: 'simpletcp', address, port, payload, receive, timeoutMs: negotiateMs } };
    }
    case 'dns': {
      const name = request.startsWith('/') ? request.slice(1) : request;
      const ptr = reverseName(name);
      return {
        ok: true,
        spec: {
          checker: 'dns', address, port: port ?? 53, transport: vs.protocol === 'tcp' ? 'tcp' : 'udp',
          name: ptr ?? name, qtype: ptr ? 'PTR' : 'A', receive, timeoutMs: negotiateMs,
        },
      };
    }
    default:
      return { ok: false, problem: unsupported(vs) };
  }
}

/** The kinds of check a virtual's checktype can run (checktype=N runs both negotiate and connect). */
export function kindsOf(vs: VirtualService): SpecKind[] {
  switch (vs.checktype) {
    case 'negotiate': return ['negotiate'];
    case 'combined': return ['negotiate', 'connect'];
    case 'connect': return ['connect'];
    case 'ping': return ['ping'];
    case 'external':
    case 'external-perl': return ['external'];
    default: return [];
  }
}

/** The policy settings of a virtual and its reals (keyed by realKey). */
export function policySettingsFor(vs: VirtualService): VirtualPolicySettings {
  const reals: VirtualPolicySettings['reals'] = Object.fromEntries(vs.reals.map((r) => [realKey(r), {
    weight: r.weight, failurecount: vs.failurecount, quiescent: vs.quiescent, readdquiescent: vs.readdquiescent,
    checktype: vs.checktype, checkConnects: vs.checkConnects,
  }]));
  const fb = vs.fallback;
  const fbPort = fb ? realForwardPort(vs, { method: fb.method, port: fb.port ?? vs.port }) : 0;
  const fallback = fb === null || fb === undefined ? null
    : fb.address6 !== undefined ? { addr: fold6(fb.address6), addr6: fb.address6, port: fbPort } : { addr: fb.address, port: fbPort };
  return { reals, fallback, fallbackcommand: vs.fallbackcommand };
}
