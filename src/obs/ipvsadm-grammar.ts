/**
 * ipvsadm 1.31's command line, parsed as ipvsadm (popt) parses it: the first option is the command,
 * short options bundle (-Ln), values attach (-w5, --weight=5) or follow, -p takes an optional
 * timeout, and the same table of legal command/option pairs gives the same messages and exit codes.
 * Pure: names are looked up through the Lookup given (see names.ts). IPv6 services and reals are
 * written as ipvsadm takes them ([2001:db8::10]:80, ipvsadm-addr.ts). What dsrlb cannot do (firewall
 * marks, NAT and tunnels, persistence on IPv6, the sync daemon, --set) is refused with a clear message.
 */
import type { L4Proto, ServiceSpec } from '../dataplane/index.ts';
import type { SchedFlags } from '../sched/index.ts';
import { NO_LOOKUP, type Lookup } from './names.ts';
import type { ServiceId } from './table.ts';
import { IpvsadmUsageError, LEGAL, OPT, OPT_NAMES, tokenize, TRY_HELP, type OptName, type Token } from './ipvsadm-options.ts';
import { atoi, inetAton, parseService, stringToNumber, type ParsedAddr } from './ipvsadm-addr.ts';

export { IpvsadmUsageError, TRY_HELP } from './ipvsadm-options.ts';
export { atoi, inetAton, parseService, stringToNumber, type ParsedAddr } from './ipvsadm-addr.ts';

export interface ListFlags {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  exact: boolean;
  nosort: boolean;
}

export interface RealArgs {
  /** IPv4; for an IPv6 real, the fold of addr6. */
  addr: number;
  /** An IPv6 real: its address, canonical text. */
  addr6?: string;
  port: number;
  weight: number;
  uThreshold: number;
  lThreshold: number;
}

export type IpvsadmCommand =
  | { cmd: 'list'; flags: ListFlags; connections: boolean; service: ServiceId | null; timeout: boolean; daemon: boolean }
  | { cmd: 'save'; numeric: boolean }
  | { cmd: 'restore' }
  | { cmd: 'flush' }
  | { cmd: 'zero'; service: ServiceId | null }
  /** vip6: an IPv6 service (spec.vip is then its fold, and persistence is never set). */
  | { cmd: 'add-service' | 'edit-service'; spec: ServiceSpec; vip6?: string }
  | { cmd: 'delete-service'; service: ServiceId }
  | { cmd: 'add-server' | 'edit-server'; service: ServiceId; real: RealArgs }
  | { cmd: 'delete-server'; service: ServiceId; addr: number; addr6?: string; port: number }
  | { cmd: 'help' }
  | { cmd: 'version' };

const fail2 = (msg: string) => new IpvsadmUsageError(msg, 2);
const unsupported = (what: string) => new IpvsadmUsageError(`dsrlb ipvsadm: ${what}`, 2);

function parseSchedFlags(sched: string, arg: string): SchedFlags {
  const f: SchedFlags = {};
  for (const flag of arg.split(',').filter((x) => x !== '')) {
    const need = (s: string) => {
      if (sched !== s) throw fail2(`incompatible scheduler flag \`${flag}'`);
    };
    switch (flag) {
      case 'flag-1': f.shFallback = true; break;
      case 'flag-2': f.shPort = true; break;
      case 'flag-3': throw unsupported('scheduler flag flag-3 is not supported');
      case 'sh-fallback': f.shFallback = true; need('sh'); break;
      case 'sh-port': f.shPort = true; need('sh'); break;
      case 'mh-fallback': f.mhFallback = true; need('mh'); break;
      case 'mh-port': f.mhPort = true; need('mh'); break;
      default: throw fail2(`invalid scheduler flag \`${flag}'`);
    }
  }
  return f;
}

const MAX_TIMEOUT = 86400 * 31;
/** What `-p` without a value gives with ipvsadm 1.31 (recorded: 360, not the 300 of its manual). */
const DEFAULT_PERSISTENT = 360;

/** Parses ipvsadm arguments (without the program name). Throws IpvsadmUsageError. */
export function parseIpvsadmArgs(argv: readonly string[], lookup: Lookup = NO_LOOKUP): IpvsadmCommand {
  if (argv.length === 0) {
    return { cmd: 'list', flags: { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, exact: false, nosort: false }, connections: false, service: null, timeout: false, daemon: false };
  }
  let tokens: Token[];
  let args: string[];
  try {
    ({ tokens, args } = tokenize(argv));
  } catch (e) {
    if ((e as { first?: boolean }).first) throw new IpvsadmUsageError(TRY_HELP, 255);
    throw e;
  }
  const first = tokens[0];
  if (!first?.def.command) throw new IpvsadmUsageError(TRY_HELP, 255);
  const command = first.def.command;
  if (command === 'help') return { cmd: 'help' };
  if (command === 'version') return { cmd: 'version' };
  if (command === 'start-daemon' || command === 'stop-daemon') throw unsupported('there is no connection sync daemon (--start-daemon, --stop-daemon)');

  let options = 0n;
  const set = (name: OptName) => {
    const bit = 1n << BigInt(OPT[name]);
    if (options & bit) throw fail2(`multiple '${name}' options specified`);
    options |= bit;
  };
  let proto: L4Proto | null = null;
  let svc: { addr: number; addr6?: string; port: number } | null = null;
  let sched = '';
  let persistent: number | null = null;
  let netmask = 0xffffffff;
  let dest: ParsedAddr | null = null;
  let fwd: 'g' | 'm' | 'i' = 'g';
  let weight = 1;
  let uThreshold = 0;
  let lThreshold = 0;
  let schedFlagsArg: string | null = null;
  const flags: ListFlags = { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, exact: false, nosort: false };
  let fwmark = false;

  for (const t of tokens.slice(1)) {
    const v = t.value;
    switch (t.def.long) {
      case 'tcp-service':
      case 'udp-service': {
        set('service-address');
        proto = t.def.long === 'tcp-service' ? 'tcp' : 'udp';
        const p = parseService(v!, proto, lookup);
        if (!p) throw fail2('illegal virtual server address[:port] specified');
        svc = { addr: p.addr, port: p.port ?? 0 };
        if (p.addr6 !== undefined) svc.addr6 = p.addr6;
        break;
      }
      case 'sctp-service': throw unsupported('SCTP services are not supported');
      case 'fwmark-service':
        set('service-address');
        fwmark = true;
        break;
      case 'scheduler': set('scheduler'); sched = v!.slice(0, 15); break;
      case 'persistent': {
        set('persistent');
        if (v === null) persistent = DEFAULT_PERSISTENT;
        else {
          persistent = stringToNumber(v, 1, MAX_TIMEOUT);
          if (persistent === -1) throw fail2(`invalid timeout value \`${v}' specified`);
        }
        break;
      }
      case 'netmask': {
        set('netmask');
        // The service's family as far as the arguments went: after an IPv6 -t/-u, -M is a prefix length.
        if (svc?.addr6 !== undefined) {
          const bits = atoi(v!);
          if (bits < 1 || bits > 128) throw fail2('illegal ipv6 netmask specified');
          break;
        }
        const m = inetAton(v!) ?? lookup.hostAddr(v!);
        if (m === null) throw fail2('illegal virtual server persistent mask specified');
        netmask = m;
        break;
      }
      case 'real-server': {
        set('real-server');
        const p = parseService(v!, proto, lookup);
        if (!p) throw fail2('illegal real server address[:port] specified');
        dest = p;
        break;
      }
      case 'gatewaying': set('forwarding-method'); fwd = 'g'; break;
      case 'masquerading': set('forwarding-method'); fwd = 'm'; break;
      case 'ipip': set('forwarding-method'); fwd = 'i'; break;
      case 'weight':
        set('weight');
        if ((weight = stringToNumber(v!, 0, 0x7fffffff)) === -1) throw fail2('illegal weight specified');
        break;
      case 'u-threshold':
        set('u-threshold');
        if ((uThreshold = stringToNumber(v!, 0, 0x7fffffff)) === -1) throw fail2('illegal u_threshold specified');
        break;
      case 'l-threshold':
        set('l-threshold');
        if ((lThreshold = stringToNumber(v!, 0, 0x7fffffff)) === -1) throw fail2('illegal l_threshold specified');
        break;
      case 'connection': set('connection'); break;
      case 'numeric': set('numeric'); flags.numeric = true; break;
      case 'timeout': set('timeout'); break;
      case 'daemon': set('daemon'); break;
      case 'stats': set('stats'); flags.stats = true; break;
      case 'rate': set('rate'); flags.rate = true; break;
      case 'thresholds': set('thresholds'); flags.thresholds = true; break;
      case 'persistent-conn': set('persistent-conn'); flags.persistentConn = true; break;
      case 'nosort': set('nosort'); flags.nosort = true; break;
      case 'sort': break;
      case 'exact': set('exact'); flags.exact = true; break;
      case 'ipv6': throw fail2('-6 used before -f\n');
      case 'ops': set('ops'); break;
      case 'pe': set('pe'); break;
      case 'sched-flags': set('sched-flags'); schedFlagsArg = v; break;
      case 'tun-info': set('tun-info'); break;
      case 'mcast-interface': set('mcast-interface'); break;
      case 'syncid': set('syncid'); break;
      case 'mcast-group': set('mcast-group'); break;
      case 'mcast-port': set('mcast-port'); break;
      case 'mcast-ttl': set('mcast-ttl'); break;
      case 'sync-maxlen': set('sync-maxlen'); break;
      case 'tun-type': set('tun-type'); break;
      case 'tun-port': set('tun-port'); break;
      case 'tun-nocsum': set('tun-nocsum'); break;
      case 'tun-csum': set('tun-csum'); break;
      case 'tun-remcsum': set('tun-remcsum'); break;
      default:
        // A second command, or an option ipvsadm takes only first.
        throw fail2(`invalid option \`${t.text}'`);
    }
  }

  if (command === 'set') {
    if (args.length < 3) throw fail2('--set option requires 3 timeout values');
    throw unsupported('--set (connection timeouts) is not supported: give dsrlb run its timeouts');
  }
  if (args.length > 0) throw fail2(`unexpected argument ${args[0]}`);
  let schedFlags: SchedFlags | undefined;
  if (schedFlagsArg !== null) schedFlags = parseSchedFlags(sched || 'wlc', schedFlagsArg);

  // generic_opt_check
  const row = LEGAL[command];
  let last = -1;
  for (let j = 0; j < OPT_NAMES.length; j++) {
    const has = (options & (1n << BigInt(j))) !== 0n;
    const rule = row[j];
    if (!has) {
      if (rule === '+') throw fail2(`You need to supply the '${OPT_NAMES[j]}' option for the '${command}' command`);
    } else {
      if (rule === 'x') throw fail2(`Illegal '${OPT_NAMES[j]}' option with the '${command}' command`);
      if (rule === '1') {
        if (last < 0) last = j;
        else throw fail2(`The option '${OPT_NAMES[j]}' conflicts with the '${OPT_NAMES[last]}' option in the '${command}' command`);
      }
    }
  }

  if (fwmark) throw unsupported('firewall-mark services (-f) are not supported');
  const has = (n: OptName) => (options & (1n << BigInt(OPT[n]))) !== 0n;
  if (command === 'add-service' || command === 'edit-service') {
    if (svc!.port === 0 && persistent === null) throw fail2('Zero port specified for non-persistent service');
    if (has('ops') && proto !== 'udp') throw fail2('One-Packet Scheduling is only for UDP virtual services');
    if (has('ops')) throw unsupported('one-packet scheduling (-o) is not supported');
    if (has('pe')) throw unsupported('persistence engines (--pe) are not supported');
  }
  if ((command === 'add-server' || command === 'edit-server') && (dest!.addr6 !== undefined) !== (svc!.addr6 !== undefined) && fwd !== 'i') {
    // ipvsadm's own check (the kernel agrees: only an IP-in-IP tunnel crosses families).
    throw fail2('Different address family is allowed only for tunneling servers');
  }
  if (svc?.addr6 !== undefined && persistent !== null && (command === 'add-service' || command === 'edit-service')) {
    throw unsupported('persistence (-p) is not offered for IPv6 services');
  }
  if ((command === 'add-server' || command === 'edit-server') && fwd !== 'g') {
    throw unsupported(`dsrlb forwards by direct routing only (-g): ${fwd === 'm' ? '-m (masquerading)' : '-i (tunnelling)'} is not supported`);
  }

  const service: ServiceId | null = svc ? { proto: proto!, vip: svc.addr, port: svc.port } : null;
  if (service && svc!.addr6 !== undefined) service.vip6 = svc!.addr6;
  switch (command) {
    case 'list':
      if ((has('connection') || has('timeout') || has('daemon')) && (flags.stats || flags.rate || flags.thresholds)) throw fail2('options conflicts in the list command');
      if ((has('timeout') || has('daemon')) && flags.persistentConn) throw fail2('options conflicts in the list command');
      return { cmd: 'list', flags, connections: has('connection'), service, timeout: has('timeout'), daemon: has('daemon') };
    case 'save':
      return { cmd: 'save', numeric: flags.numeric };
    case 'restore':
      return { cmd: 'restore' };
    case 'flush':
      return { cmd: 'flush' };
    case 'zero':
      return { cmd: 'zero', service };
    case 'add-service':
    case 'edit-service': {
      const spec: ServiceSpec = { proto: service!.proto, vip: service!.vip, port: service!.port, scheduler: (sched || 'wlc') as ServiceSpec['scheduler'] };
      spec.schedFlags = schedFlags ?? {};
      if (service!.vip6 !== undefined) return { cmd: command, spec, vip6: service!.vip6 };
      spec.persistent = persistent ?? 0;
      spec.netmask = netmask;
      return { cmd: command, spec };
    }
    case 'delete-service':
      return { cmd: 'delete-service', service: service! };
    case 'add-server':
    case 'edit-server': {
      // Direct routing: the real's port is the service's (ipvsadm sets it so, whatever -r said).
      const real: RealArgs = { addr: dest!.addr, port: service!.port, weight, uThreshold, lThreshold };
      if (dest!.addr6 !== undefined) real.addr6 = dest!.addr6;
      return { cmd: command, service: service!, real };
    }
    case 'delete-server':
      return { cmd: 'delete-server', service: service!, addr: dest!.addr, ...(dest!.addr6 !== undefined ? { addr6: dest!.addr6 } : {}), port: dest!.port ?? service!.port };
  }
}

/** ipvsadm -v, as ipvsadm 1.31 prints it (tools read the version from it). */
export const IPVSADM_VERSION_TEXT = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)';
