/**
 * From parsed sections to the model: defaults, inheritance of global settings by each virtual
 * (in ldirectord's order, see ld_setup()), cross-directive checks, duplicates, and real thresholds.
 */
import { endpointToString } from '../../model/index.ts';
import { LDIRECTORD_DEFAULTS as D, EMAIL_ALERT_STATES, serviceForPort } from './constants.ts';
import type { CheckTypeValue } from './directives.ts';
import type { Diagnostics } from './lexer.ts';
import type { ThresholdSpec } from './real.ts';
import { all, last, type Section, type VirtualSection } from './sections.ts';
import type {
  CheckService, EmailAlertState, Fallback, LdirectordGlobals, LogTarget, Protocol, RealServer,
  SchedFlag, SchedFlags, Scheduler, VirtualService,
} from './types.ts';

function lineMap(sec: Section): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, list] of sec.values) out[name] = list[list.length - 1]!.line;
  return out;
}

export function resolveGlobals(sec: Section): LdirectordGlobals {
  const v = <T>(name: string): T | undefined => last<T>(sec, name)?.value;
  return {
    checktimeout: v<number>('checktimeout') ?? null,
    negotiatetimeout: v<number>('negotiatetimeout') ?? null,
    checkinterval: v<number>('checkinterval') ?? D.checkinterval,
    checkcount: v<number>('checkcount') ?? D.checkcount,
    failurecount: v<number>('failurecount') ?? D.failurecount,
    fallback: v<Fallback>('fallback') ?? null,
    fallback6: v<Fallback>('fallback6') ?? null,
    fallbackcommand: v<string>('fallbackcommand') ?? null,
    autoreload: v<boolean>('autoreload') ?? D.autoreload,
    callback: v<string>('callback') ?? null,
    logfile: v<LogTarget>('logfile') ?? { raw: D.logfile, kind: 'file' },
    execute: all<string>(sec, 'execute').map((s) => s.value),
    fork: v<boolean>('fork') ?? D.fork,
    supervised: v<boolean>('supervised') ?? D.supervised,
    quiescent: v<boolean>('quiescent') ?? D.quiescent,
    readdquiescent: v<boolean>('readdquiescent') ?? D.readdquiescent,
    emailalert: v<string>('emailalert') ?? null,
    emailalertfreq: v<number>('emailalertfreq') ?? D.emailalertfreq,
    emailalertstatus: v<EmailAlertState[]>('emailalertstatus') ?? [...EMAIL_ALERT_STATES],
    emailalertfrom: v<string>('emailalertfrom') ?? null,
    cleanstop: v<boolean>('cleanstop') ?? D.cleanstop,
    smtp: v<string>('smtp') ?? null,
    maintenancedir: v<string>('maintenancedir') ?? null,
    lines: lineMap(sec),
  };
}

/** The port IPVS gives a real: the virtual's port in gate/ipip mode (ipvsadm forces it), else its own. */
export function realForwardPort(vs: Pick<VirtualService, 'protocol' | 'port'>, r: Pick<RealServer, 'method' | 'port'>): number {
  if (vs.protocol === 'fwm') return r.port;
  if (r.method !== 'masq' || r.port === 0) return vs.port;
  return r.port;
}

function first<T>(...xs: (T | undefined | null)[]): T | undefined {
  for (const x of xs) if (x !== undefined && x !== null) return x;
  return undefined;
}

function applyThresholds(vs: VirtualService, specs: { line: number; value: ThresholdSpec }[], diag: Diagnostics): void {
  for (const { line, value: t } of specs) {
    let hit = 0;
    for (const r of vs.reals) {
      if (t.address6 !== undefined ? r.address6 !== t.address6 : r.address6 !== undefined || r.address < t.first || r.address > t.last) continue;
      if (t.port !== null && r.port !== t.port && realForwardPort(vs, r) !== t.port) continue;
      r.upperThreshold = t.upper;
      r.lowerThreshold = t.lower;
      hit++;
    }
    if (hit === 0) {
      diag.error('E_CONFIG_BAD_VALUE', line, 'realthresholds: no real server of this virtual matches');
    }
  }
}

function checkReals(vs: VirtualService, diag: Diagnostics): void {
  const seen = new Map<string, number>();
  const warned = new Set<number>();
  for (const r of vs.reals) {
    const fport = realForwardPort(vs, r);
    const key = `${r.address6 ?? r.address}:${fport}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      const where = prev === r.line ? 'twice on this line' : `already at line ${prev}`;
      const ep = r.address6 !== undefined ? `[${r.address6}]:${fport}` : endpointToString(r.address, fport);
      diag.error('E_CONFIG_DUPLICATE', r.line, `real ${ep} is ${where} in this virtual`);
    } else {
      seen.set(key, r.line);
    }
    if (warned.has(r.line)) continue;
    if (r.method !== 'gate') {
      warned.add(r.line);
      diag.warn('W_CONFIG_UNSUPPORTED', r.line,
        `real uses ${r.method}: dsrlb forwards in gate (direct routing) mode only; parsed, not forwarded that way`);
    } else if (vs.protocol !== 'fwm' && r.port !== 0 && r.port !== vs.port) {
      warned.add(r.line);
      diag.warn('W_CONFIG_IGNORED', r.line,
        `real port ${r.port} has no effect in gate mode: packets keep the virtual port ${vs.port}`);
    }
  }
}

export function resolveVirtual(sec: VirtualSection, g: LdirectordGlobals, diag: Diagnostics): VirtualService | undefined {
  const h = sec.header;
  if (!h) return undefined;
  const v = <T>(name: string): T | undefined => last<T>(sec, name)?.value;
  const at = (name: string): number => last(sec, name)?.line ?? sec.line;
  const isFwm = h.kind === 'fwm';
  const vport = h.kind === 'fwm' ? 0 : h.port;

  let protocol: Protocol = isFwm ? 'fwm' : vport === 53 ? 'udp' : 'tcp';
  const proto = v<Protocol>('protocol');
  if (proto !== undefined) {
    if (isFwm && proto !== 'fwm') {
      diag.error('E_CONFIG_BAD_VALUE', at('protocol'), 'protocol must be fwm for a firewall-mark virtual service');
    } else if (!isFwm && proto === 'fwm') {
      diag.error('E_CONFIG_BAD_VALUE', at('protocol'), 'protocol fwm needs a firewall-mark virtual (virtual=NUMBER)');
    } else {
      protocol = proto;
    }
  }

  const scheduler = v<Scheduler>('scheduler') ?? D.scheduler;
  const flagList = v<SchedFlag[]>('schedflags') ?? [];
  const schedFlags: SchedFlags = {
    shFallback: flagList.includes('sh-fallback'),
    shPort: flagList.includes('sh-port'),
    mhFallback: flagList.includes('mh-fallback'),
    mhPort: flagList.includes('mh-port'),
  };
  for (const f of flagList) {
    if (!f.startsWith(`${scheduler}-`)) {
      diag.error('E_CONFIG_BAD_VALUE', at('schedflags'), `schedflags: ${f} applies to the ${f.slice(0, 2)} scheduler, not ${scheduler}`);
    }
  }
  const persistent = v<number>('persistent') ?? 0;
  if (sec.ipv6 && persistent > 0) {
    diag.error('E_CONFIG_UNSUPPORTED', at('persistent'),
      'persistent= on an IPv6 virtual service: the dsrlb data path has no persistence for IPv6 yet (docs/ipv6.md)');
  }
  const nm = last<number>(sec, 'netmask');
  if (nm && persistent === 0) {
    diag.warn('W_CONFIG_IGNORED', nm.line, 'netmask has no effect without persistent=');
  }
  if (!isFwm && vport === 0 && persistent === 0) {
    diag.error('E_CONFIG_BAD_VALUE', sec.line, 'virtual port 0 (every port) works only with persistent=');
  }
  const ops = v<boolean>('ops') ?? false;
  if (ops && protocol !== 'udp') {
    diag.warn('W_CONFIG_IGNORED', at('ops'), 'ops (one-packet scheduling) applies to UDP services only');
  }
  if (isFwm) {
    diag.warn('W_CONFIG_UNSUPPORTED', sec.line,
      'firewall-mark virtual service: parsed, but dsrlb matches packets on address:port, not on marks');
  }

  const ct = v<CheckTypeValue>('checktype');
  const svc = v<CheckService>('service');
  const service = svc ?? (isFwm ? 'none' : serviceForPort(vport));

  const ci = last<number>(sec, 'checkinterval');
  if (ci && !g.fork) {
    diag.warn('W_CONFIG_IGNORED', ci.line, 'checkinterval inside a virtual section is ignored unless fork=yes (as in ldirectord)');
  }
  const ownCt = v<number>('checktimeout');
  const ownNt = v<number>('negotiatetimeout');
  const fb = sec.ipv6 ? v<Fallback>('fallback6') ?? g.fallback6 : v<Fallback>('fallback') ?? g.fallback;

  const vs: VirtualService = {
    line: sec.line,
    protocol,
    address: h.kind === 'addr' ? h.address : null,
    port: vport,
    scheduler,
    schedFlags,
    persistent,
    netmask: sec.ipv6 ? D.netmask : nm?.value ?? D.netmask,
    ops,
    reals: all<RealServer[]>(sec, sec.ipv6 ? 'real6' : 'real').flatMap((s) => s.value.map((r) => ({ ...r }))),
    checktype: ct?.type ?? D.checktype,
    checkConnects: ct?.connects ?? 0,
    checkport: v<number>('checkport') ?? null,
    checkcommand: v<string>('checkcommand') ?? D.checkcommand,
    service,
    serviceFromPort: svc === undefined,
    request: v<string>('request') ?? D.request,
    receive: v<string>('receive') ?? D.receive,
    virtualhost: v<string>('virtualhost') ?? null,
    httpmethod: v<'GET' | 'HEAD'>('httpmethod') ?? D.httpmethod,
    login: v<string>('login') ?? (service === 'ftp' ? D.ftpLogin : ''),
    passwd: v<string>('passwd') ?? '',
    database: v<string>('database') ?? '',
    secret: v<string>('secret') ?? '',
    load: v<string>('load') ?? null,
    monitorfile: v<string>('monitorfile') ?? null,
    // ldirectord: checktimeout and negotiatetimeout stand in for each other before the defaults.
    checktimeout: first(ownCt, ownNt, g.checktimeout, g.negotiatetimeout) ?? D.checktimeout,
    negotiatetimeout: first(ownNt, ownCt, g.negotiatetimeout, g.checktimeout) ?? D.negotiatetimeout,
    checkinterval: ci && g.fork ? ci.value : g.checkinterval,
    checkcount: v<number>('checkcount') ?? g.checkcount,
    failurecount: v<number>('failurecount') ?? g.failurecount,
    quiescent: v<boolean>('quiescent') ?? g.quiescent,
    readdquiescent: v<boolean>('readdquiescent') ?? g.readdquiescent,
    cleanstop: v<boolean>('cleanstop') ?? g.cleanstop,
    fallback: fb ? { ...fb, port: fb.port ?? vport } : null,
    fallbackcommand: v<string>('fallbackcommand') ?? g.fallbackcommand,
    emailalert: v<string>('emailalert') ?? g.emailalert,
    emailalertfreq: v<number>('emailalertfreq') ?? g.emailalertfreq,
    emailalertstatus: v<EmailAlertState[]>('emailalertstatus') ?? [...g.emailalertstatus],
    smtp: v<string>('smtp') ?? g.smtp,
    lines: lineMap(sec),
  };
  if (isFwm) vs.fwmark = h.mark;
  if (h.kind === 'addr6') {
    vs.address6 = h.address6;
    if (nm) vs.netmask6 = nm.value;
  }
  applyThresholds(vs, all<ThresholdSpec>(sec, 'realthresholds'), diag);
  checkReals(vs, diag);
  if (vs.reals.length === 0) {
    diag.warn('W_CONFIG_EMPTY', sec.line, 'virtual service has no real servers');
  }
  return vs;
}

/** Key under which IPVS would file a virtual service. */
export function virtualKey(vs: VirtualService): string {
  if (vs.protocol === 'fwm') return `fwm:${vs.fwmark}`;
  return vs.address6 !== undefined ? `${vs.protocol}:[${vs.address6}]:${vs.port}` : `${vs.protocol}:${vs.address}:${vs.port}`;
}
