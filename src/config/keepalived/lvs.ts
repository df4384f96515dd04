/**
 * keepalived's `virtual_server` / `virtual_server_group` / `real_server` and their checkers, read into
 * drafts with keepalived's inheritance (checker <- real_server <- virtual_server, check_data.c), then
 * mapped onto the ldirectord model (lvs-map.ts). The keyword tables are part of the registry.
 */
import { KERNEL_ONLY_SCHEDULERS, SUPPORTED_SCHEDULERS } from '../ldirectord/constants.ts';
import type { Scheduler } from '../ldirectord/types.ts';
import type { Stmt } from './tree.ts';
import { readOnly, refused, walk, type Ctx, type KeywordTable } from './walk.ts';

export type CheckerKind = 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'DNS_CHECK' | 'PING_CHECK';

export interface UrlDraft {
  line: number;
  path: string | null;
  digest: string | null;
  statusCode: string | null;
}

export interface CheckerDraft {
  kind: CheckerKind;
  file: string;
  line: number;
  connectTimeout: number | null;
  retry: number | null;
  delayBeforeRetry: number | null;
  connectIp: number | null;
  connectPort: number | null;
  urls: UrlDraft[];
  virtualhost: string | null;
  miscPath: string | null;
  miscTimeout: number | null;
  miscDynamic: boolean;
  dnsName: string | null;
  dnsType: string | null;
}

export interface RealDraft {
  file: string;
  line: number;
  address: number;
  /** An IPv6 real: its canonical text (address is then 0). */
  address6?: string;
  port: number;
  weight: number | null;
  inhibit: boolean | null;
  retry: number | null;
  connectTimeout: number | null;
  delayLoop: number | null;
  delayBeforeRetry: number | null;
  checkers: CheckerDraft[];
}

export interface VsDraft {
  file: string;
  line: number;
  /** One (address, port) per service; a group gives several. address6 for an IPv6 one (address 0). */
  targets: VsTarget[];
  groupName: string | null;
  scheduler: Scheduler | null;
  schedFlags: { shPort: boolean; shFallback: boolean; mhPort: boolean; mhFallback: boolean };
  ops: boolean;
  kind: 'DR' | 'NAT' | 'TUN' | null;
  kindLine: number;
  persistence: number | null;
  granularity: number | null;
  /** persistence_granularity as an IPv6 prefix length (keepalived takes 1..128 for an IPv6 service). */
  granularity6: number | null;
  /** Line of the first persistence keyword (refused on IPv6 services). */
  persistenceLine: number | null;
  /** ip_family inet/inet6, with its line. */
  family: { v6: boolean; line: number } | null;
  protocol: 'tcp' | 'udp';
  delayLoop: number | null;
  connectTimeout: number | null;
  retry: number | null;
  delayBeforeRetry: number | null;
  inhibit: boolean;
  weight: number;
  virtualhost: string | null;
  sorry: { address: number; address6?: string; port: number | null; line: number } | null;
  reals: RealDraft[];
  lines: Record<string, number>;
}

export interface VsTarget {
  address: number;
  address6?: string;
  port: number;
}

const MAX_TIMER = 365 * 24 * 3600;

/** The keyword tables for the blocks of checkers (common keywords plus each kind's own). */
function checkerCommon(): KeywordTable<CheckerDraft> {
  return {
    connect_timeout: { handling: 'acted', note: 'the check timeout (checktimeout/negotiatetimeout)', apply: (st, c, ctx) => { c.connectTimeout = ctx.seconds(st, 0.000001, MAX_TIMER) ?? c.connectTimeout; } },
    retry: { handling: 'acted', note: 'retry N: down after N+1 failed checks in a row (failurecount N+1)', apply: (st, c, ctx) => { c.retry = ctx.uint(st, 0, 0x7fffffff) ?? c.retry; } },
    nb_get_retry: { handling: 'acted', note: 'old name of retry', apply: (st, c, ctx) => { c.retry = ctx.uint(st, 0, 0x7fffffff) ?? c.retry; } },
    delay_before_retry: { handling: 'read', note: 'retries run at the delay_loop interval (ldirectord\'s model has one interval)', apply: (st, c, ctx) => { c.delayBeforeRetry = ctx.seconds(st, 0, MAX_TIMER) ?? c.delayBeforeRetry; } },
    connect_ip: { handling: 'refused', note: "checking an address other than the real's is not supported by dsrlb's checks" },
    connect_port: { handling: 'acted', note: 'the port checked (checkport)', apply: (st, c, ctx) => { c.connectPort = ctx.port(st, st.args[0], 'connect_port') ?? c.connectPort; } },
    bindto: readOnly('checks use the routing table\'s source address'),
    bind_port: readOnly('checks use an ephemeral source port'),
    bind_if: readOnly('checks are not bound to an interface'),
    fwmark: readOnly('check packets are not marked'),
    warmup: readOnly('the first check runs at once'),
    alpha: readOnly('reals start up, as ldirectord\'s do'),
    log_all_failures: readOnly('every change of a real is logged anyway'),
    dynamic: readOnly(''),
  };
}

export const URL_TABLE: KeywordTable<UrlDraft> = {
    path: { handling: 'acted', note: 'the path requested', apply: (st, u, ctx) => { u.path = ctx.arg(st) ?? u.path; } },
    digest: readOnly("the body's MD5 is not compared: any 2xx answer passes"),
    status_code: { handling: 'read', note: 'dsrlb\'s HTTP check accepts any 2xx status', apply: (st, u) => { u.statusCode = st.args.join(' '); } },
    regex: readOnly('not compared'),
    regex_no_match: readOnly('not compared'),
    regex_options: readOnly('not compared'),
    regex_stack: readOnly('not compared'),
    regex_min_offset: readOnly('not compared'),
    regex_max_offset: readOnly('not compared'),
    virtualhost: { handling: 'acted', note: 'the Host header', apply: () => undefined },
};

function httpTable(): KeywordTable<CheckerDraft> {
  return {
    ...checkerCommon(),
    url: {
      handling: 'acted', note: 'the first url block is checked; more are read and not acted on',
      apply: (st, c, ctx) => {
        const b = ctx.needBlock(st);
        if (!b) return;
        const u: UrlDraft = { line: st.line, path: null, digest: null, statusCode: null };
        walk(b, URL_TABLE, u, ctx, 'url');
        for (const s of b) if (s.name === 'virtualhost') c.virtualhost = s.args[0] ?? c.virtualhost;
        if (c.urls.length > 0) ctx.warn(st, 'E_CONFIG_NOT_ACTED_ON', 'only the first url block of a checker is checked by dsrlb');
        c.urls.push(u);
      },
    },
    virtualhost: { handling: 'acted', note: 'the Host header', apply: (st, c, ctx) => { c.virtualhost = ctx.arg(st) ?? c.virtualhost; } },
    http_protocol: readOnly('dsrlb sends HTTP/1.1'),
    enable_sni: readOnly(''),
    fast_recovery: readOnly(''),
    tls_compliant: readOnly(''),
  };
}

function miscTable(): KeywordTable<CheckerDraft> {
  return {
    ...checkerCommon(),
    misc_path: { handling: 'acted', note: 'the command run (dsrlb appends VIP VPORT RIP RPORT, as for ldirectord\'s external checks)', apply: (st, c, ctx) => { c.miscPath = ctx.rest(st) ?? c.miscPath; } },
    misc_timeout: { handling: 'acted', note: 'the command\'s time limit', apply: (st, c, ctx) => { c.miscTimeout = ctx.seconds(st, 0.000001, MAX_TIMER) ?? c.miscTimeout; } },
    misc_dynamic: { handling: 'read', note: 'the exit status only says up (0) or down; it does not set the weight', apply: (_st, c) => { c.miscDynamic = true; } },
    user: readOnly('the command runs as dsrlb\'s user'),
  };
}

function dnsTable(): KeywordTable<CheckerDraft> {
  return {
    ...checkerCommon(),
    name: { handling: 'acted', note: 'the name queried', apply: (st, c, ctx) => { c.dnsName = ctx.arg(st) ?? c.dnsName; } },
    type: {
      handling: 'acted', note: 'A only (dsrlb\'s DNS check queries A records, or PTR for an address)',
      apply: (st, c, ctx) => {
        const t = ctx.arg(st);
        if (t !== undefined && t.toUpperCase() !== 'A') ctx.error(st, 'E_CONFIG_UNSUPPORTED', `DNS_CHECK type ${t}: dsrlb's DNS check queries A records only`);
        c.dnsType = t ?? c.dnsType;
      },
    },
  };
}

export const CHECKER_TABLES: Record<CheckerKind, KeywordTable<CheckerDraft>> = {
  TCP_CHECK: checkerCommon(),
  HTTP_GET: httpTable(),
  SSL_GET: httpTable(),
  MISC_CHECK: miscTable(),
  DNS_CHECK: dnsTable(),
  PING_CHECK: checkerCommon(),
};

function checker(kind: CheckerKind) {
  return {
    handling: 'acted' as const,
    note: kind === 'TCP_CHECK' ? 'checktype=connect' : kind === 'MISC_CHECK' ? 'checktype=external' : kind === 'PING_CHECK' ? 'checktype=ping'
      : kind === 'DNS_CHECK' ? 'checktype=negotiate, service=dns' : `checktype=negotiate, service=${kind === 'SSL_GET' ? 'https' : 'http'}`,
    apply: (st: Stmt, r: RealDraft, ctx: Ctx) => {
      const b = ctx.needBlock(st);
      if (!b) return;
      const c: CheckerDraft = {
        kind, file: st.file, line: st.line, connectTimeout: null, retry: null, delayBeforeRetry: null, connectIp: null, connectPort: null,
        urls: [], virtualhost: null, miscPath: null, miscTimeout: null, miscDynamic: false, dnsName: null, dnsType: null,
      };
      walk(b, CHECKER_TABLES[kind], c, ctx, kind);
      if (kind === 'MISC_CHECK' && c.miscPath === null) ctx.error(st, 'E_CONFIG_BAD_VALUE', 'MISC_CHECK without misc_path');
      if ((kind === 'HTTP_GET' || kind === 'SSL_GET') && c.urls.length === 0) ctx.error(st, 'E_CONFIG_BAD_VALUE', `${kind} without a url block`);
      r.checkers.push(c);
    },
  };
}

export const REAL_TABLE: KeywordTable<RealDraft> = {
  weight: { handling: 'acted', note: 'the real\'s weight', apply: (st, r, ctx) => { r.weight = ctx.uint(st, 0, 65535) ?? r.weight; } },
  inhibit_on_failure: { handling: 'acted', note: 'quiescent=yes for this real\'s virtual (weight 0 instead of removal)', apply: (_st, r) => { r.inhibit = true; } },
  retry: { handling: 'acted', note: 'inherited by its checkers', apply: (st, r, ctx) => { r.retry = ctx.uint(st, 0, 0x7fffffff) ?? r.retry; } },
  connect_timeout: { handling: 'acted', note: 'inherited by its checkers', apply: (st, r, ctx) => { r.connectTimeout = ctx.seconds(st, 0.000001, MAX_TIMER) ?? r.connectTimeout; } },
  delay_loop: { handling: 'acted', note: 'the check interval (checkinterval)', apply: (st, r, ctx) => { r.delayLoop = ctx.seconds(st, 0.000001, MAX_TIMER) ?? r.delayLoop; } },
  delay_before_retry: { handling: 'read', note: 'retries run at the delay_loop interval', apply: (st, r, ctx) => { r.delayBeforeRetry = ctx.seconds(st, 0, MAX_TIMER) ?? r.delayBeforeRetry; } },
  lvs_method: {
    handling: 'acted', note: 'DR only (NAT and TUN are refused: dsrlb does direct routing)',
    apply: (st, _r, ctx) => { if (st.args[0] !== 'DR') ctx.error(st, 'E_CONFIG_UNSUPPORTED', `lvs_method ${st.args[0] ?? ''}: dsrlb is a direct-routing (DR) director only; NAT and TUN are not supported`); },
  },
  uthreshold: readOnly('no connection limits are set from keepalived.conf'),
  lthreshold: readOnly('no connection limits are set from keepalived.conf'),
  notify_up: readOnly('no script is run when a real comes up'),
  notify_down: readOnly('no script is run when a real goes down'),
  alpha: readOnly("reals start up, as ldirectord's do"),
  warmup: readOnly(''),
  smtp_alert: readOnly('dsrlb sends no mail'),
  virtualhost: readOnly(''),
  TCP_CHECK: checker('TCP_CHECK'),
  HTTP_GET: checker('HTTP_GET'),
  SSL_GET: checker('SSL_GET'),
  MISC_CHECK: checker('MISC_CHECK'),
  DNS_CHECK: checker('DNS_CHECK'),
  PING_CHECK: checker('PING_CHECK'),
  SMTP_CHECK: refused('SMTP_CHECK is not supported by dsrlb\'s health checks (use TCP_CHECK or MISC_CHECK)'),
  UDP_CHECK: refused('UDP_CHECK is not supported by dsrlb\'s health checks (use PING_CHECK or MISC_CHECK)'),
  BFD_CHECK: refused('BFD_CHECK is not supported by dsrlb'),
  FILE_CHECK: refused('FILE_CHECK is not supported by dsrlb (use MISC_CHECK)'),
};

function schedulerOf(st: Stmt, ctx: Ctx): Scheduler | undefined {
  const v = ctx.arg(st);
  if (v === undefined) return undefined;
  if ((SUPPORTED_SCHEDULERS as readonly string[]).includes(v)) return v as Scheduler;
  if (KERNEL_ONLY_SCHEDULERS.includes(v)) ctx.error(st, 'E_CONFIG_UNSUPPORTED', `${st.name} ${v}: a Linux IPVS scheduler dsrlb does not implement (dsrlb has ${SUPPORTED_SCHEDULERS.join(' ')})`);
  else ctx.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: unknown scheduler ${JSON.stringify(v)} (IPVS has rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos)`);
  return undefined;
}

function kindOf(st: Stmt, vs: VsDraft, ctx: Ctx): void {
  const v = ctx.arg(st);
  if (v === undefined) return;
  if (v !== 'DR' && v !== 'NAT' && v !== 'TUN') {
    ctx.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: unknown forwarding method ${JSON.stringify(v)} (keepalived has DR, NAT, TUN)`);
    return;
  }
  vs.kind = v;
  vs.kindLine = st.line;
  if (v !== 'DR') ctx.error(st, 'E_CONFIG_UNSUPPORTED', `${st.name} ${v}: dsrlb is a direct-routing (DR) director only; ${v === 'NAT' ? 'NAT (masquerading)' : 'TUN (IP-in-IP)'} is not supported — write lb_kind DR`);
}

const flag = (k: keyof VsDraft['schedFlags']) => ({ handling: 'acted' as const, note: `scheduler flag ${k}`, apply: (_st: Stmt, vs: VsDraft) => { vs.schedFlags[k] = true; } });

export const VS_TABLE: KeywordTable<VsDraft> = {
  lb_algo: { handling: 'acted', note: 'the scheduler (every IPVS name is known; dsrlb runs rr wrr lc wlc sed nq sh dh mh)', apply: (st, vs, ctx) => { vs.scheduler = schedulerOf(st, ctx) ?? vs.scheduler; } },
  lvs_sched: { handling: 'acted', note: 'other name of lb_algo', apply: (st, vs, ctx) => { vs.scheduler = schedulerOf(st, ctx) ?? vs.scheduler; } },
  lb_kind: { handling: 'acted', note: 'DR only; NAT and TUN are refused (dsrlb is DR only); keepalived\'s default is NAT, so it must be written', apply: (st, vs, ctx) => kindOf(st, vs, ctx) },
  lvs_method: { handling: 'acted', note: 'other name of lb_kind', apply: (st, vs, ctx) => kindOf(st, vs, ctx) },
  'sh-port': flag('shPort'),
  'sh-fallback': flag('shFallback'),
  'mh-port': flag('mhPort'),
  'mh-fallback': flag('mhFallback'),
  ops: { handling: 'acted', note: 'one-packet scheduling (UDP)', apply: (_st, vs) => { vs.ops = true; } },
  hashed: readOnly(''),
  'flag-1': readOnly(''),
  'flag-2': readOnly(''),
  'flag-3': readOnly(''),
  persistence_timeout: {
    handling: 'acted', note: 'persistence in seconds (360 when written without a value)',
    apply: (st, vs, ctx) => {
      vs.persistenceLine ??= st.line;
      vs.persistence = st.args.length === 0 ? 360 : ctx.uint(st, 1, 0x7fffffff) ?? vs.persistence;
    },
  },
  persistence_granularity: {
    handling: 'acted', note: 'the persistence netmask (also turns persistence on, 360 s, like keepalived)',
    apply: (st, vs, ctx) => {
      vs.persistenceLine ??= st.line;
      const v = ctx.arg(st);
      // keepalived reads a prefix length for an IPv6 service, a netmask for an IPv4 one.
      if (v !== undefined && /^\d+$/.test(v)) {
        vs.granularity6 = ctx.uint(st, 1, 128) ?? vs.granularity6;
        return;
      }
      const m = ctx.ipv4(st, v, 'persistence_granularity');
      if (m !== undefined) vs.granularity = m;
    },
  },
  persistence_engine: refused('persistence engines (sip) are not supported by dsrlb'),
  protocol: {
    handling: 'acted', note: 'TCP or UDP (SCTP refused)',
    apply: (st, vs, ctx) => {
      const v = ctx.arg(st);
      if (v === 'TCP' || v === 'UDP') vs.protocol = v === 'TCP' ? 'tcp' : 'udp';
      else if (v === 'SCTP') ctx.error(st, 'E_CONFIG_UNSUPPORTED', 'protocol SCTP is not supported by dsrlb (TCP and UDP)');
      else if (v !== undefined) ctx.error(st, 'E_CONFIG_BAD_VALUE', `protocol: expected TCP, UDP or SCTP, got ${JSON.stringify(v)}`);
    },
  },
  delay_loop: { handling: 'acted', note: 'the check interval (checkinterval; keepalived default 60 s)', apply: (st, vs, ctx) => { vs.delayLoop = ctx.seconds(st, 0.000001, MAX_TIMER) ?? vs.delayLoop; } },
  connect_timeout: { handling: 'acted', note: 'inherited by the checkers', apply: (st, vs, ctx) => { vs.connectTimeout = ctx.seconds(st, 0.000001, MAX_TIMER) ?? vs.connectTimeout; } },
  retry: { handling: 'acted', note: 'inherited by the checkers', apply: (st, vs, ctx) => { vs.retry = ctx.uint(st, 0, 0x7fffffff) ?? vs.retry; } },
  delay_before_retry: { handling: 'read', note: 'retries run at the delay_loop interval', apply: (st, vs, ctx) => { vs.delayBeforeRetry = ctx.seconds(st, 0, MAX_TIMER) ?? vs.delayBeforeRetry; } },
  inhibit_on_failure: { handling: 'acted', note: 'quiescent=yes: a failed real gets weight 0 instead of being removed', apply: (_st, vs) => { vs.inhibit = true; } },
  weight: { handling: 'acted', note: 'the default weight of its reals', apply: (st, vs, ctx) => { vs.weight = ctx.uint(st, 0, 65535) ?? vs.weight; } },
  virtualhost: { handling: 'acted', note: 'the Host header of its HTTP checks', apply: (st, vs, ctx) => { vs.virtualhost = ctx.arg(st) ?? vs.virtualhost; } },
  sorry_server: {
    handling: 'acted', note: 'the fallback server (DR: it gets the virtual\'s port)',
    apply: (st, vs, ctx) => {
      const a = ctx.addr(st, ctx.arg(st), 'sorry_server');
      const p = st.args[1] === undefined ? null : ctx.port(st, st.args[1], 'sorry_server');
      if (a !== undefined && p !== undefined) vs.sorry = { ...a, port: p, line: st.line };
    },
  },
  sorry_server_inhibit: readOnly('the sorry server is removed when a real comes back'),
  sorry_server_lvs_method: {
    handling: 'acted', note: 'DR only',
    apply: (st, _vs, ctx) => { if (st.args[0] !== 'DR') ctx.error(st, 'E_CONFIG_UNSUPPORTED', `sorry_server_lvs_method ${st.args[0] ?? ''}: dsrlb is a direct-routing (DR) director only`); },
  },
  quorum: readOnly('no quorum: the service stays while one real is up'),
  quorum_up: readOnly('no quorum scripts'),
  quorum_down: readOnly('no quorum scripts'),
  hysteresis: readOnly('no quorum'),
  alpha: readOnly("reals start up, as ldirectord's do"),
  omega: readOnly('quorum_down is not run at exit'),
  ha_suspend: readOnly('the checks run whether or not this node holds the VIP'),
  smtp_alert: readOnly('dsrlb sends no mail'),
  ip_family: {
    handling: 'acted', note: 'inet or inet6: must agree with the addresses (checked)',
    apply: (st, vs, ctx) => {
      const v = ctx.arg(st);
      if (v === 'inet' || v === 'inet6') vs.family = { v6: v === 'inet6', line: st.line };
      else if (v !== undefined) ctx.error(st, 'E_CONFIG_BAD_VALUE', `ip_family: expected inet or inet6, got ${JSON.stringify(v)}`);
    },
  },
  warmup: readOnly(''),
  snmp_name: readOnly('no SNMP'),
  real_server: {
    handling: 'acted', note: 'a real server `IP PORT` (IPv4, or IPv6 without brackets) with its checkers',
    apply: (st, vs, ctx) => {
      const a = ctx.addr(st, ctx.arg(st), 'real_server');
      const p = st.args[1] === undefined ? 0 : ctx.port(st, st.args[1], 'real_server');
      const r: RealDraft = {
        file: st.file, line: st.line, address: a?.address ?? 0, port: p ?? 0, weight: null, inhibit: null, retry: null,
        connectTimeout: null, delayLoop: null, delayBeforeRetry: null, checkers: [],
      };
      if (a?.address6 !== undefined) r.address6 = a.address6;
      if (st.block) walk(st.block, REAL_TABLE, r, ctx, 'real_server');
      if (a !== undefined && p !== undefined) vs.reals.push(r);
    },
  },
};

/** Blank draft for a `virtual_server` statement. */
export function newVsDraft(st: Stmt): VsDraft {
  return {
    file: st.file, line: st.line, targets: [], groupName: null, scheduler: null,
    schedFlags: { shPort: false, shFallback: false, mhPort: false, mhFallback: false }, ops: false, kind: null, kindLine: st.line,
    persistence: null, granularity: null, granularity6: null, persistenceLine: null, family: null, protocol: 'tcp', delayLoop: null, connectTimeout: null, retry: null,
    delayBeforeRetry: null, inhibit: false, weight: 1, virtualhost: null, sorry: null, reals: [], lines: {},
  };
}
