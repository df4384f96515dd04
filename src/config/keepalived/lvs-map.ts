/**
 * keepalived virtual servers onto the ldirectord model, with keepalived's defaults (check_data.c:
 * scheduler wlc, delay_loop 60 s, connect_timeout 5 s, retry 1, weight 1) and inheritance (checker <-
 * real_server <- virtual_server). ldirectord checks every real of a virtual the same way, so the
 * reals of one virtual_server must use one kind of checker; the checker's settings are taken from the
 * first real that has one, and a real whose settings differ is reported.
 */
import { ipToString } from '../../model/index.ts';
import { LDIRECTORD_DEFAULTS as D } from '../ldirectord/constants.ts';
import type { CheckService, CheckType, RealServer, VirtualService } from '../ldirectord/types.ts';
import type { CheckerDraft, RealDraft, VsDraft } from './lvs.ts';
import type { KaDiagnostics } from './walk.ts';

const KA = { delayLoop: 60, connectTimeout: 5, retry: 1, scheduler: 'wlc' as const };

function checkOf(kind: CheckerDraft['kind'] | null): { checktype: CheckType; service: CheckService } {
  switch (kind) {
    case null: return { checktype: 'on', service: 'none' };
    case 'TCP_CHECK': return { checktype: 'connect', service: 'none' };
    case 'HTTP_GET': return { checktype: 'negotiate', service: 'http' };
    case 'SSL_GET': return { checktype: 'negotiate', service: 'https' };
    case 'DNS_CHECK': return { checktype: 'negotiate', service: 'dns' };
    case 'MISC_CHECK': return { checktype: 'external', service: 'none' };
    case 'PING_CHECK': return { checktype: 'ping', service: 'none' };
  }
}

/**
 * One family per virtual_server, as keepalived has it (vs->af): IPv4 or IPv6, set by its address
 * (or its group's), and by `ip_family`. keepalived skips a real or sorry server of the other family
 * with a log line, and ignores a conflicting ip_family; dsrlb refuses each at its line, so that a
 * server is never silently left out. An IPv6 service follows the rules of ldirectord's virtual6=
 * (src/config/ldirectord/resolve.ts): no persistence. Returns the family, null when unknown.
 */
function checkFamily(vs: VsDraft, diag: KaDiagnostics): boolean | null {
  const fams = new Set(vs.targets.map((t) => t.address6 !== undefined));
  if (fams.size > 1) {
    diag.error('E_CONFIG_UNSUPPORTED', vs.file, vs.line,
      `virtual_server group ${vs.groupName ?? ''}: the group mixes IPv4 and IPv6 addresses; one virtual_server serves one family — split the group in two`);
    return null;
  }
  const v6 = fams.size === 1 ? [...fams][0]! : vs.family?.v6 ?? null;
  if (v6 === null) return null;
  const fam = (x: boolean) => (x ? 'IPv6' : 'IPv4');
  if (vs.family && vs.family.v6 !== v6) {
    diag.error('E_CONFIG_BAD_VALUE', vs.file, vs.family.line,
      `ip_family ${vs.family.v6 ? 'inet6' : 'inet'} conflicts with the virtual server's ${fam(v6)} address (keepalived ignores this line); remove it`);
  }
  for (const r of vs.reals) {
    if ((r.address6 !== undefined) !== v6) {
      diag.error('E_CONFIG_BAD_ADDRESS', r.file, r.line,
        `real_server ${r.address6 ?? ipToString(r.address)}: an ${fam(!v6)} real in an ${fam(v6)} virtual_server (keepalived skips it: "address family of virtual server and real server don't match"); direct routing keeps the family, write an ${fam(v6)} real`);
    }
  }
  if (vs.sorry && (vs.sorry.address6 !== undefined) !== v6) {
    diag.error('E_CONFIG_BAD_ADDRESS', vs.file, vs.sorry.line,
      `sorry_server: an ${fam(!v6)} address in an ${fam(v6)} virtual_server (keepalived skips it); write an ${fam(v6)} sorry server`);
  }
  if (v6 && vs.persistenceLine !== null) {
    diag.error('E_CONFIG_UNSUPPORTED', vs.file, vs.persistenceLine,
      'persistence on an IPv6 virtual_server: the dsrlb data path has no persistence for IPv6 yet (docs/ipv6.md); remove persistence_timeout/persistence_granularity');
  }
  if (!v6 && vs.granularity6 !== null) {
    diag.error('E_CONFIG_BAD_VALUE', vs.file, vs.persistenceLine ?? vs.line,
      `persistence_granularity ${vs.granularity6}: a prefix length is for an IPv6 service; an IPv4 one takes a netmask (255.255.255.0)`);
  }
  return v6;
}

/** The ldirectord virtual services of one keepalived virtual_server (one per group member). */
export function mapVirtual(vs: VsDraft, diag: KaDiagnostics): VirtualService[] {
  checkFamily(vs, diag);
  if (vs.kind === null) {
    diag.error('E_CONFIG_UNSUPPORTED', vs.file, vs.line,
      'no lb_kind: keepalived then uses NAT, and dsrlb is a direct-routing (DR) director only — write lb_kind DR');
  }
  // The checker kind of the virtual: the same for every real.
  let first: { r: RealDraft; c: CheckerDraft } | null = null;
  for (const r of vs.reals) {
    if (r.checkers.length > 1) {
      diag.error('E_CONFIG_UNSUPPORTED', r.checkers[1]!.file, r.checkers[1]!.line,
        'more than one checker on a real_server: dsrlb runs one check per real (keep one)');
    }
    const c = r.checkers[0] ?? null;
    if (!first && c) first = { r, c };
    const fk = first?.c.kind ?? null;
    const ck = c?.kind ?? null;
    if (first && ck !== fk) {
      diag.error('E_CONFIG_UNSUPPORTED', c?.file ?? r.file, c?.line ?? r.line,
        `real_server uses ${ck ?? 'no checker'} but an earlier real of this virtual_server uses ${fk}: dsrlb checks every real of a virtual service the same way`);
    }
  }
  const c = first?.c ?? null;
  const r0 = first?.r ?? null;
  const { checktype, service } = checkOf(c?.kind ?? null);
  const connectTimeout = c?.connectTimeout ?? r0?.connectTimeout ?? vs.connectTimeout ?? KA.connectTimeout;
  const retry = c?.retry ?? r0?.retry ?? vs.retry ?? KA.retry;
  const delayLoop = r0?.delayLoop ?? vs.delayLoop ?? KA.delayLoop;
  for (const r of vs.reals) {
    const rc = r.checkers[0];
    if (!rc || !c || rc === c) continue;
    const same = (rc.connectTimeout ?? r.connectTimeout ?? vs.connectTimeout ?? KA.connectTimeout) === connectTimeout
      && (rc.retry ?? r.retry ?? vs.retry ?? KA.retry) === retry
      && (r.delayLoop ?? vs.delayLoop ?? KA.delayLoop) === delayLoop
      && rc.connectPort === c.connectPort && rc.miscPath === c.miscPath && rc.dnsName === c.dnsName;
    if (!same) {
      diag.warn('E_CONFIG_NOT_ACTED_ON', rc.file, rc.line,
        `this checker's timing/port/command differs from the first real's (line ${c.line}); dsrlb uses the first one's for every real of the virtual service`);
    }
  }
  const inhibit = vs.inhibit || vs.reals.some((r) => r.inhibit === true);
  const persistent = vs.persistence ?? (vs.granularity !== null ? 360 : 0);
  const reals: RealServer[] = vs.reals.map((r) => {
    const u = r.checkers[0]?.urls[0];
    const real: RealServer = {
      line: r.line, address: r.address, port: r.port, method: 'gate', weight: r.weight ?? vs.weight,
      upperThreshold: 0, lowerThreshold: 0,
    };
    if (r.address6 !== undefined) real.address6 = r.address6;
    if (u?.path) {
      real.request = u.path.startsWith('/') ? u.path : `/${u.path}`;
      real.receive = '';
    }
    return real;
  });
  const lines: Record<string, number> = { ...vs.lines };
  if (c) lines.checktype = c.line;
  return vs.targets.map((t): VirtualService => ({
    line: vs.line,
    file: vs.file,
    protocol: vs.protocol,
    // An IPv6 service as ldirectord's virtual6= gives it: no IPv4 address, the VIP6 in address6.
    address: t.address6 !== undefined ? null : t.address,
    ...(t.address6 !== undefined ? { address6: t.address6 } : {}),
    port: t.port,
    scheduler: vs.scheduler ?? KA.scheduler,
    schedFlags: { ...vs.schedFlags },
    persistent,
    netmask: vs.granularity ?? D.netmask,
    ops: vs.ops,
    reals: reals.map((r) => ({ ...r })),
    checktype,
    checkConnects: 0,
    checkport: c?.connectPort ?? null,
    checkcommand: c?.miscPath ?? D.checkcommand,
    service,
    serviceFromPort: false,
    request: c?.kind === 'DNS_CHECK' ? (c.dnsName ?? '.') : (c?.urls[0]?.path ?? D.request),
    receive: '',
    virtualhost: c?.virtualhost ?? vs.virtualhost,
    httpmethod: 'GET',
    login: '',
    passwd: '',
    database: '',
    secret: '',
    load: null,
    monitorfile: null,
    checktimeout: c?.kind === 'MISC_CHECK' ? (c.miscTimeout ?? delayLoop) : connectTimeout,
    negotiatetimeout: connectTimeout,
    checkinterval: delayLoop,
    checkcount: 1,
    failurecount: retry + 1,
    quiescent: inhibit,
    readdquiescent: false,
    cleanstop: true,
    fallback: vs.sorry
      ? { line: vs.sorry.line, address: vs.sorry.address, ...(vs.sorry.address6 !== undefined ? { address6: vs.sorry.address6 } : {}), port: vs.sorry.port, method: 'gate' }
      : null,
    fallbackcommand: null,
    emailalert: null,
    emailalertfreq: 0,
    emailalertstatus: [],
    smtp: null,
    lines,
  }));
}
