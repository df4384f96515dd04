/**
 * Shapes shared by the health-check layer: what a check is asked to do (CheckSpec, built by the pure
 * spec.ts from the config model), what it answers (CheckResult), the checker functions that do the
 * I/O (checks/), and the events the runner hands to the director.
 */
import type { CheckType } from '../config/index.ts';

/** The checker that serves a spec. `http` serves http:// and https:// URLs. */
export type CheckerName = 'connect' | 'http' | 'simpletcp' | 'dns' | 'ping' | 'external' | 'none';

/** What ldirectord's _check_real() runs for a real this round. `on`/`off` run no checker at all. */
export type CheckKind = 'negotiate' | 'connect' | 'ping' | 'external' | 'on' | 'off';

/** TCP connect to address:port within timeoutMs (ldirectord check_connect). */
export interface ConnectSpec {
  checker: 'connect';
  address: string;
  port: number;
  timeoutMs: number;
}

/** HTTP/HTTPS request (ldirectord check_http). */
export interface HttpSpec {
  checker: 'http';
  url: string;
  method: 'GET' | 'HEAD';
  /** Host header: `virtualhost`, else the real's address. */
  hostHeader: string;
  /** Regular expression the body must contain; '' = any 2xx answer is enough. */
  receive: string;
  timeoutMs: number;
  /** Redirects followed for GET/HEAD (LWP::UserAgent's default is 7). */
  maxRedirects: number;
}

/** Send a string, expect a line matching `receive` (ldirectord check_simpletcp). */
export interface SimpleTcpSpec {
  checker: 'simpletcp';
  address: string;
  port: number;
  payload: string;
  receive: string;
  timeoutMs: number;
}

/** One DNS query to the real (ldirectord check_dns). */
export interface DnsSpec {
  checker: 'dns';
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
  /** The name queried: an A query, or a PTR query of the in-addr.arpa name when `request` is an IPv4 address. */
  name: string;
  qtype: 'A' | 'PTR';
  /** An A record's address or a PTR record's name that must be in the answer; '' = any answer. */
  receive: string;
  timeoutMs: number;
}

/** ICMP echo, `count` attempts of `timeoutMs` each (ldirectord check_ping, checkcount). */
export interface PingSpec {
  checker: 'ping';
  address: string;
  count: number;
  timeoutMs: number;
}

/** Run a command: exit 0 = up; killed after timeoutMs (ldirectord check_external / system_timeout). */
export interface ExternalSpec {
  checker: 'external';
  /** checkcommand as written. */
  command: string;
  /** VIP (or fwmark), virtual port, real address, real port (as written, 0 when omitted). */
  args: string[];
  /** external-perl: the script is run by `perl` in a child process (ldirectord evaluates it in-process). */
  perl: boolean;
  timeoutMs: number;
}

/** Always up (ldirectord check_none, for service=none under checktype negotiate). */
export interface NoneSpec {
  checker: 'none';
}

export type CheckSpec = ConnectSpec | HttpSpec | SimpleTcpSpec | DnsSpec | PingSpec | ExternalSpec | NoneSpec;

/** A checker's answer. Checkers never throw: every failure is `ok: false` with a reason. */
export interface CheckResult {
  ok: boolean;
  /** Status line, error or reason, for logs. */
  detail: string;
}

export type Checker<S extends CheckSpec = CheckSpec> = (spec: S, signal: AbortSignal) => Promise<CheckResult>;

export type CheckerRegistry = { [K in CheckerName]: Checker<Extract<CheckSpec, { checker: K }>> };

/** The upper bound of a check's own duration (ping: every attempt). The runner adds a guard on top. */
export function specBoundMs(spec: CheckSpec): number {
  switch (spec.checker) {
    case 'none': return 0;
    case 'ping': return spec.timeoutMs * Math.max(1, spec.count);
    default: return spec.timeoutMs;
  }
}

/** A virtual service as the director keys it (vip is a u32; 0 with fwmark for a mark service). */
export interface VirtualRef {
  proto: 'tcp' | 'udp' | 'fwm';
  /** IPv4: the VIP. IPv6: the VIP6's 32-bit fold (vip6 names it). */
  vip: number;
  port: number;
  fwmark?: number;
  /** An IPv6 virtual (virtual6=): its VIP6, canonical text. */
  vip6?: string;
}

/** A real as the director's table holds it: `port` is the port IPVS uses (realForwardPort). */
export interface RealRef {
  /** IPv4: the address. IPv6: its fold (addr6 names the real). */
  addr: number;
  /** An IPv6 real (real6=): its address, canonical text. */
  addr6?: string;
  port: number;
  /** The port written on the real= line (0 when omitted). */
  configPort: number;
}

/**
 * What to do with a real in the director's table.
 * - `add` / `weight` with up=true: make sure the real is present with `weight` (add it when absent).
 *   `add` is used when the real was removed (quiescent=no), `weight` when it was kept at weight 0.
 * - `weight` with up=false (quiescent=yes): set weight 0; when the real is absent from the table, add it
 *   at weight 0 only if `readd` (readdquiescent=yes), else leave it absent.
 * - `remove` (quiescent=no): delete the real from the table (its flows are dropped).
 */
export interface RealChangeEvent {
  virtual: VirtualRef;
  real: RealRef;
  action: 'weight' | 'remove' | 'add';
  weight: number;
  readd: boolean;
  up: boolean;
  reason: string;
}

/**
 * The fallback server and the fallbackcommand of a virtual. `action` concerns the fallback server
 * (added at weight 1 when every real is down, deleted when one comes back), `command` the
 * fallbackcommand (`start` when every real is down, `stop` when one comes back; the runner runs it as
 * `CMD start` / `CMD stop` and reports it here).
 */
export interface FallbackEvent {
  virtual: VirtualRef;
  fallback: { addr: number; port: number; addr6?: string } | null;
  action: 'add' | 'remove' | null;
  weight: number;
  command: 'start' | 'stop' | null;
  /** The command line the runner runs (`fallbackcommand` + ' ' + command), when there is one. */
  commandLine: string | null;
  reason: string;
}

/** Every completed check (for metrics: latency, results). */
export interface CheckEvent {
  virtual: VirtualRef;
  real: RealRef;
  kind: CheckKind;
  ok: boolean;
  detail: string;
  latencyMs: number;
  at: number;
}

export interface HealthSink {
  onChange(ev: RealChangeEvent): void;
  onFallback(ev: FallbackEvent): void;
  onCheck?(ev: CheckEvent): void;
}

export interface RealHealthStatus {
  virtual: VirtualRef;
  real: RealRef;
  checktype: CheckType;
  up: boolean;
  /** The weight the policy has put in the table (configured when up, 0 when down). */
  weight: number;
  failures: number;
  failurecount: number;
  maintenance: boolean;
  /** Clock ms of the last change of `up`. */
  since: number;
  lastCheck: number | null;
  lastOk: boolean | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  lastDetail: string | null;
  checks: number;
  /** Rounds skipped because the previous check of this real was still running. */
  skipped: number;
  checking: boolean;
}

export interface VirtualHealthStatus {
  virtual: VirtualRef;
  reals: number;
  realsUp: number;
  fallback: { addr: number; port: number; addr6?: string } | null;
  fallbackActive: boolean;
}

export interface HealthUpdateSummary {
  added: string[];
  removed: string[];
  kept: string[];
}
