/**
 * ldirectord's defaults and vocabularies, as its source (ldirectord.in, set_defaults() and
 * read_config()) has them, plus the lists dsrlb validates against.
 */
import type { CheckService, EmailAlertState, Scheduler, SchedFlag } from './types.ts';

/**
 * Defaults from ldirectord's code. Note on `quiescent`: the man page says "yes", but set_defaults()
 * sets "no", and the code is what runs; dsrlb follows the code.
 */
export const LDIRECTORD_DEFAULTS = Object.freeze({
  checktimeout: 5,
  negotiatetimeout: 30,
  checkinterval: 10,
  checkcount: 1,
  failurecount: 1,
  autoreload: false,
  logfile: '/var/log/ldirectord.log',
  fork: false,
  supervised: false,
  quiescent: false,
  readdquiescent: false,
  emailalertfreq: 0,
  cleanstop: true,
  scheduler: 'wrr' as Scheduler,
  checktype: 'negotiate' as const,
  checkcommand: '/bin/true',
  request: '/',
  receive: '',
  httpmethod: 'GET' as const,
  weight: 1,
  method: 'gate' as const,
  netmask: 0xffffffff,
  ftpLogin: 'anonymous',
});

export const EMAIL_ALERT_STATES: readonly EmailAlertState[] = ['starting', 'running', 'stopping', 'reloading'];

/** Schedulers dsrlb implements. */
export const SUPPORTED_SCHEDULERS: readonly Scheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'dh', 'mh'];
/** Schedulers the Linux kernel has and dsrlb does not (valid for ldirectord, refused by dsrlb). */
export const KERNEL_ONLY_SCHEDULERS: readonly string[] = ['lblc', 'lblcr', 'fo', 'ovf', 'twos'];

export const SCHED_FLAGS: readonly SchedFlag[] = ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

export const CHECK_SERVICES: readonly CheckService[] = [
  'dns', 'ftp', 'http', 'https', 'http_proxy', 'imap', 'imaps', 'ldap', 'mysql', 'nntp', 'none',
  'oracle', 'pgsql', 'pop', 'pops', 'radius', 'simpletcp', 'sip', 'smtp', 'submission',
];

/** ldirectord's ld_port_to_service(): the check service implied by a virtual port. */
const PORT_TO_SERVICE: ReadonlyMap<number, CheckService> = new Map<number, CheckService>([
  [21, 'ftp'], [25, 'smtp'], [53, 'dns'], [80, 'http'], [110, 'pop'], [119, 'nntp'], [143, 'imap'],
  [389, 'ldap'], [443, 'https'], [587, 'submission'], [993, 'imaps'], [995, 'pops'], [1521, 'oracle'],
  [1812, 'radius'], [3128, 'http_proxy'], [3306, 'mysql'], [5060, 'sip'], [5432, 'pgsql'],
]);

export function serviceForPort(port: number): CheckService {
  return PORT_TO_SERVICE.get(port) ?? 'none';
}

/** ldirectord's ld_service_to_port(): the port a check uses when neither checkport nor the real has one. */
export function portForService(service: CheckService): number | null {
  for (const [port, s] of PORT_TO_SERVICE) if (s === service) return port;
  return null;
}

/**
 * Service names accepted where a port is expected. ldirectord asks getservbyname(); dsrlb's parser does
 * no I/O, so it knows this subset of /etc/services (names as netbase spells them). Others: write the number.
 */
export const PORT_NAMES: ReadonlyMap<string, number> = new Map([
  ['ftp', 21], ['ssh', 22], ['telnet', 23], ['smtp', 25], ['domain', 53], ['http', 80], ['www', 80],
  ['pop3', 110], ['nntp', 119], ['ntp', 123], ['imap', 143], ['imap2', 143], ['snmp', 161],
  ['ldap', 389], ['https', 443], ['submission', 587], ['ldaps', 636], ['imaps', 993], ['pop3s', 995],
  ['radius', 1812], ['mysql', 3306], ['sip', 5060], ['postgresql', 5432], ['http-alt', 8080],
  ['webcache', 8080],
]);

/** Facility names syslog(3) knows, for `logfile=` values without a leading '/'. */
export const SYSLOG_FACILITIES: ReadonlySet<string> = new Set([
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]);

/** ipvsadm's limits. */
export const MAX_WEIGHT = 65535;
export const MAX_PERSISTENT = 31 * 86400;
export const MAX_THRESHOLD = 0x7fffffff;
/** Cap on the addresses one `real=A->B` range may expand to (a guard, not an ldirectord rule). */
export const MAX_RANGE = 65536;
