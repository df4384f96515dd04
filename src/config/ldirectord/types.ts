/**
 * The model of an ldirectord.cf file, with every value resolved to what ldirectord itself would use
 * (defaults applied, per-virtual settings inheriting from the global ones). IPv4 addresses are u32
 * in host order (see src/model/addr.ts). An IPv6 service (`virtual6=`) has `address: null` and its
 * VIP in `address6`; its reals and fallback carry `address6` too (canonical text, as ipvsadm prints
 * it) with `address` 0. Fields marked "dsrlb extension" do not exist in ldirectord.
 */

export type Protocol = 'tcp' | 'udp' | 'fwm';
export type ForwardMethod = 'gate' | 'masq' | 'ipip';
/** `combined` is what ldirectord calls `checktype=N` (N connect checks, then one negotiate check). */
export type CheckType = 'negotiate' | 'connect' | 'external' | 'external-perl' | 'ping' | 'off' | 'on' | 'combined';
export type CheckService =
  | 'dns' | 'ftp' | 'http' | 'https' | 'http_proxy' | 'imap' | 'imaps' | 'ldap' | 'mysql' | 'nntp'
  | 'none' | 'oracle' | 'pgsql' | 'pop' | 'pops' | 'radius' | 'simpletcp' | 'sip' | 'smtp' | 'submission';
/** The schedulers dsrlb implements (a subset of the kernel's). */
export type Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'sed' | 'nq' | 'sh' | 'dh' | 'mh';
/** ipvsadm -b flag names (dsrlb extension `schedflags=`). sh-* go with sh, mh-* with mh. */
export type SchedFlag = 'sh-port' | 'sh-fallback' | 'mh-port' | 'mh-fallback';

/** The same flags as booleans (the shape the schedulers take). */
export interface SchedFlags {
  shFallback: boolean;
  shPort: boolean;
  mhFallback: boolean;
  mhPort: boolean;
}
export type EmailAlertState = 'starting' | 'running' | 'stopping' | 'reloading';
export type HttpMethod = 'GET' | 'HEAD';

/** Where ldirectord logs: a path (leading '/') or else a syslog facility name. `raw` is as written. */
export interface LogTarget {
  raw: string;
  kind: 'file' | 'syslog';
}

/** The server that takes the traffic when every real server of a virtual is down. */
export interface Fallback {
  line: number;
  /** IPv4; 0 for an IPv6 fallback (`fallback6=`). */
  address: number;
  /** `fallback6=`: the IPv6 address (canonical text). */
  address6?: string;
  /** null: not written, the virtual service's port is used (resolved in VirtualService.fallback). */
  port: number | null;
  method: ForwardMethod;
}

/** A non-fatal finding (deprecated form, setting that has no effect, ...). */
export interface ConfigWarning {
  code: string;
  file: string;
  line: number;
  message: string;
}

export interface LdirectordGlobals {
  /** As written; null when unset (the per-virtual resolution then falls back, see VirtualService). */
  checktimeout: number | null;
  negotiatetimeout: number | null;
  checkinterval: number;
  /** Deprecated in ldirectord in favour of failurecount; still honoured for ping checks. */
  checkcount: number;
  failurecount: number;
  fallback: Fallback | null;
  /** `fallback6=`: the fallback of the IPv6 virtual services. */
  fallback6: Fallback | null;
  fallbackcommand: string | null;
  autoreload: boolean;
  callback: string | null;
  logfile: LogTarget;
  /** Other ldirectord configurations to start (one entry per `execute=` line). */
  execute: string[];
  fork: boolean;
  supervised: boolean;
  quiescent: boolean;
  readdquiescent: boolean;
  /** Comma-separated addresses as written; null = no email alerts. */
  emailalert: string | null;
  emailalertfreq: number;
  emailalertstatus: EmailAlertState[];
  emailalertfrom: string | null;
  cleanstop: boolean;
  smtp: string | null;
  maintenancedir: string | null;
  /** Directive name -> line where it was set (the last line when repeated). */
  lines: Record<string, number>;
}

export interface RealServer {
  line: number;
  /** IPv4; 0 for a real of an IPv6 service (`real6=`). */
  address: number;
  /** `real6=`: the IPv6 address (canonical text). */
  address6?: string;
  /** As written; 0 when omitted. In gate/ipip mode IPVS uses the virtual's port: see realForwardPort(). */
  port: number;
  method: ForwardMethod;
  /** 0..65535, default 1. */
  weight: number;
  /** Per-real check overrides from `real=... "request", "receive"` (request gets a leading '/'). */
  request?: string;
  receive?: string;
  /** dsrlb extension (`realthresholds=`): ipvsadm -x / -y; 0 = no limit. */
  upperThreshold: number;
  lowerThreshold: number;
}

export interface VirtualService {
  line: number;
  /** The file the section is in, when not the configuration's own file (a keepalived.conf include). */
  file?: string;
  protocol: Protocol;
  /** null for a firewall-mark service, and for an IPv6 one (see address6). */
  address: number | null;
  /** `virtual6=`: the IPv6 VIP (canonical text); absent for IPv4 and firewall-mark services. */
  address6?: string;
  /** 0 for a firewall-mark service. */
  port: number;
  fwmark?: number;
  scheduler: Scheduler;
  /** dsrlb extension (`schedflags=`); all false unless written. */
  schedFlags: SchedFlags;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent: number;
  /** Persistence granularity, u32; 255.255.255.255 unless written (IPv4 services). */
  netmask: number;
  /** IPv6 services: `netmask=` as a prefix length (1..128), when written. */
  netmask6?: number;
  /** One-packet scheduling (UDP only). */
  ops: boolean;
  reals: RealServer[];

  checktype: CheckType;
  /** For checktype `combined` (checktype=N): the N connect checks between negotiate checks; else 0. */
  checkConnects: number;
  /** null: the real's own port, else the service's well-known port (see checkPortFor()). */
  checkport: number | null;
  checkcommand: string;
  service: CheckService;
  /** true when `service` was derived from the port rather than written. */
  serviceFromPort: boolean;
  request: string;
  receive: string;
  virtualhost: string | null;
  httpmethod: HttpMethod;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  /** Undocumented ldirectord directive `load=`; kept for completeness. */
  load: string | null;
  monitorfile: string | null;

  /** Effective values (this section, else the global one, else ldirectord's default). */
  checktimeout: number;
  negotiatetimeout: number;
  checkinterval: number;
  checkcount: number;
  failurecount: number;
  quiescent: boolean;
  /** Per-virtual `readdquiescent=` is a dsrlb extension; ldirectord only has the global one. */
  readdquiescent: boolean;
  cleanstop: boolean;
  /** Effective fallback with its port resolved. */
  fallback: Fallback | null;
  fallbackcommand: string | null;
  emailalert: string | null;
  emailalertfreq: number;
  emailalertstatus: EmailAlertState[];
  smtp: string | null;
  /** Directive name -> line, for the directives written inside this section. */
  lines: Record<string, number>;
}

export interface LdirectordConfig {
  file: string;
  globals: LdirectordGlobals;
  virtuals: VirtualService[];
  warnings: ConfigWarning[];
}
