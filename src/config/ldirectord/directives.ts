/**
 * Every directive ldirectord knows (plus dsrlb's extensions): where it may appear and how its value
 * is read. `virtual=` and `virtual6=` are handled by the parser, since they open a section.
 */
import { parseIPv4 } from '../../model/index.ts';
import {
  CHECK_SERVICES, EMAIL_ALERT_STATES, KERNEL_ONLY_SCHEDULERS, MAX_PERSISTENT, SCHED_FLAGS,
  SUPPORTED_SCHEDULERS, SYSLOG_FACILITIES,
} from './constants.ts';
import { parseFallback, parseFallback6, parseReal, parseReal6, parseThresholds } from './real.ts';
import type { CheckService, EmailAlertState, LogTarget, SchedFlag, Scheduler } from './types.ts';
import { show, text, uint, unquote, yesNo, type At } from './values.ts';

export type Scope = 'global' | 'virtual' | 'both';

export interface DirectiveSpec {
  scope: Scope;
  /** May be given more than once in a section (values accumulate). */
  multi?: boolean;
  /** Not in ldirectord: a dsrlb extension. */
  extension?: boolean;
  /** Returns undefined after reporting an error. */
  parse(v: string, at: At): unknown;
}

const MAX_INT = 0x7fffffff;

const positive = (v: string, at: At) => uint(v, at, 1, MAX_INT);
const bool = (v: string, at: At) => yesNo(v, at);
const str = (v: string, at: At) => text(v, at);

/** Kept verbatim, quotes included (ldirectord passes emailalertfrom as the From header as written). */
function rawText(v: string, at: At): string | undefined {
  if (v !== '') return v;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `${at.name}: empty value`);
  return undefined;
}

export interface CheckTypeValue {
  type: 'negotiate' | 'connect' | 'external' | 'external-perl' | 'ping' | 'off' | 'on' | 'combined';
  connects: number;
}

const CHECK_TYPES = ['negotiate', 'connect', 'external', 'external-perl', 'ping', 'off', 'on'];

function checktype(v: string, at: At): CheckTypeValue | undefined {
  if (/^\d+$/.test(v)) {
    const n = uint(v, at, 0, MAX_INT);
    return n === undefined ? undefined : { type: 'combined', connects: n };
  }
  if (CHECK_TYPES.includes(v)) return { type: v as CheckTypeValue['type'], connects: 0 };
  at.diag.error('E_CONFIG_BAD_VALUE', at.line,
    `checktype must be negotiate, connect, external, external-perl, ping, off, on or a number, got ${show(v)}`);
  return undefined;
}

function service(v: string, at: At): CheckService | undefined {
  if ((CHECK_SERVICES as readonly string[]).includes(v)) return v as CheckService;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `service must be one of ${CHECK_SERVICES.join(', ')}; got ${show(v)}`);
  return undefined;
}

function scheduler(v: string, at: At): Scheduler | undefined {
  if ((SUPPORTED_SCHEDULERS as readonly string[]).includes(v)) return v as Scheduler;
  if (KERNEL_ONLY_SCHEDULERS.includes(v)) {
    at.diag.error('E_CONFIG_UNSUPPORTED', at.line,
      `scheduler ${v} exists in Linux IPVS but dsrlb does not implement it (use one of ${SUPPORTED_SCHEDULERS.join(' ')})`);
  } else {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line,
      `unknown scheduler ${show(v)} (dsrlb has ${SUPPORTED_SCHEDULERS.join(' ')})`);
  }
  return undefined;
}

function schedflags(v: string, at: At): SchedFlag[] | undefined {
  const items = v.split(',').map((s) => s.trim());
  const out: SchedFlag[] = [];
  for (const it of items) {
    if (!(SCHED_FLAGS as readonly string[]).includes(it)) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `schedflags: unknown flag ${show(it)} (known: ${SCHED_FLAGS.join(', ')})`);
      return undefined;
    }
    if (!out.includes(it as SchedFlag)) out.push(it as SchedFlag);
  }
  return out;
}

function emailalertstatus(v: string, at: At): EmailAlertState[] | undefined {
  const items = v.split(',').map((s) => s.trim());
  const set = new Set<EmailAlertState>();
  const hasNone = items.includes('none');
  for (const it of items) {
    if (it === 'none') continue;
    if (hasNone) {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line, `emailalertstatus: ${show(it)} given together with "none"`);
      return undefined;
    }
    if (it === 'all') EMAIL_ALERT_STATES.forEach((s) => set.add(s));
    else if ((EMAIL_ALERT_STATES as readonly string[]).includes(it)) set.add(it as EmailAlertState);
    else {
      at.diag.error('E_CONFIG_BAD_VALUE', at.line,
        `emailalertstatus: unknown state ${show(it)} (all, none, starting, running, stopping, reloading)`);
      return undefined;
    }
  }
  return EMAIL_ALERT_STATES.filter((s) => set.has(s));
}

function logfile(v: string, at: At): LogTarget | undefined {
  const s = text(v, at);
  if (s === undefined) return undefined;
  if (s.startsWith('/')) return { raw: s, kind: 'file' };
  if (SYSLOG_FACILITIES.has(s)) return { raw: s, kind: 'syslog' };
  at.diag.error('E_CONFIG_BAD_VALUE', at.line,
    `logfile: ${show(s)} is neither an absolute path nor a syslog facility (local0..local7, daemon, ...)`);
  return undefined;
}

function smtp(v: string, at: At): string | undefined {
  const s = unquote(v, at);
  if (s === undefined) return undefined;
  if (/^[0-9A-Za-z._+-]+$/.test(s)) return s;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `smtp: invalid server address ${show(s)}`);
  return undefined;
}

function netmask(v: string, at: At): number | undefined {
  const n = parseIPv4(v);
  if (n === null) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `netmask must be a dotted quad (e.g. 255.255.255.0), got ${show(v)}`);
    return undefined;
  }
  return n;
}

/** netmask= in a virtual6 section: a prefix length 1..128, as ldirectord wants it for IPv6. */
export function netmask6(v: string, at: At): number | undefined {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 128) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `netmask of an IPv6 virtual service must be a prefix length 1..128, got ${show(v)}`);
    return undefined;
  }
  return Number(v);
}

function protocol(v: string, at: At): 'tcp' | 'udp' | 'fwm' | undefined {
  if (v === 'tcp' || v === 'udp' || v === 'fwm') return v;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `protocol must be tcp, udp or fwm, got ${show(v)}`);
  return undefined;
}

function httpmethod(v: string, at: At): 'GET' | 'HEAD' | undefined {
  const u = v.toUpperCase();
  if (u === 'GET' || u === 'HEAD') return u;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `httpmethod must be GET or HEAD, got ${show(v)}`);
  return undefined;
}

function request(v: string, at: At): string | undefined {
  const s = text(v, at);
  return s === undefined ? undefined : s.startsWith('/') ? s : `/${s}`;
}

function load(v: string, at: At): string | undefined {
  const s = text(v, at);
  if (s === undefined) return undefined;
  if (/^\w+$/.test(s)) return s;
  at.diag.error('E_CONFIG_BAD_VALUE', at.line, `load: expected a word, got ${show(s)}`);
  return undefined;
}

export const DIRECTIVES: Readonly<Record<string, DirectiveSpec>> = {
  // Global only.
  autoreload: { scope: 'global', parse: bool },
  callback: { scope: 'global', parse: str },
  logfile: { scope: 'global', parse: logfile },
  execute: { scope: 'global', multi: true, parse: str },
  fork: { scope: 'global', parse: bool },
  supervised: { scope: 'global', parse: bool },
  emailalertfrom: { scope: 'global', parse: rawText },
  maintenancedir: { scope: 'global', parse: str },
  // Global, overridable per virtual.
  checktimeout: { scope: 'both', parse: positive },
  negotiatetimeout: { scope: 'both', parse: positive },
  checkinterval: { scope: 'both', parse: positive },
  checkcount: { scope: 'both', parse: positive },
  failurecount: { scope: 'both', parse: positive },
  fallback: { scope: 'both', parse: parseFallback },
  fallback6: { scope: 'both', parse: parseFallback6 },
  fallbackcommand: { scope: 'both', parse: str },
  quiescent: { scope: 'both', parse: bool },
  readdquiescent: { scope: 'both', parse: bool },
  cleanstop: { scope: 'both', parse: bool },
  emailalert: { scope: 'both', parse: str },
  emailalertfreq: { scope: 'both', parse: (v, at) => uint(v, at, 0, MAX_INT) },
  emailalertstatus: { scope: 'both', parse: emailalertstatus },
  smtp: { scope: 'both', parse: smtp },
  // Virtual section only.
  real: { scope: 'virtual', multi: true, parse: parseReal },
  real6: { scope: 'virtual', multi: true, parse: parseReal6 },
  request: { scope: 'virtual', parse: request },
  receive: { scope: 'virtual', parse: str },
  checktype: { scope: 'virtual', parse: checktype },
  checkcommand: { scope: 'virtual', parse: str },
  checkport: { scope: 'virtual', parse: (v, at) => uint(v, at, 1, 65535) },
  login: { scope: 'virtual', parse: str },
  passwd: { scope: 'virtual', parse: str },
  database: { scope: 'virtual', parse: str },
  secret: { scope: 'virtual', parse: str },
  load: { scope: 'virtual', parse: load },
  scheduler: { scope: 'virtual', parse: scheduler },
  persistent: { scope: 'virtual', parse: (v, at) => uint(v, at, 0, MAX_PERSISTENT) },
  netmask: { scope: 'virtual', parse: netmask },
  protocol: { scope: 'virtual', parse: protocol },
  ops: { scope: 'virtual', parse: bool },
  service: { scope: 'virtual', parse: service },
  httpmethod: { scope: 'virtual', parse: httpmethod },
  virtualhost: { scope: 'virtual', parse: str },
  monitorfile: { scope: 'virtual', parse: str },
  // dsrlb extensions.
  schedflags: { scope: 'virtual', extension: true, parse: schedflags },
  realthresholds: { scope: 'virtual', multi: true, extension: true, parse: parseThresholds },
};

/** Names ldirectord rejects or that dsrlb cannot honour, with the code and the reason. */
export const REFUSED: Readonly<Record<string, { code: string; message: string }>> = {
  connecttimeout: { code: 'E_CONFIG_DEPRECATED', message: 'connecttimeout was removed from ldirectord; use negotiatetimeout' },
  timeout: { code: 'E_CONFIG_DEPRECATED', message: 'timeout was removed from ldirectord; use checktimeout and negotiatetimeout' },
};

export function isKnownName(name: string): boolean {
  return name === 'virtual' || name === 'virtual6' || Object.hasOwn(DIRECTIVES, name) || Object.hasOwn(REFUSED, name);
}

