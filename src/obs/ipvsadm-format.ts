/**
 * ipvsadm 1.31's listings, byte for byte, from a table snapshot: `-L` (plain, --stats, --rate,
 * --thresholds, --persistent-conn, --exact, --nosort, one service), `-L -c` and `-S`. The column
 * layouts follow ipvsadm's print_title / print_service_entry / print_conn / print_largenum, checked
 * against the texts Linux 6.1's ipvsadm printed (test/fixtures/ipvs-oracle, test/ipvsadm/fixtures).
 *
 * dsrlb forwards by direct routing only, so every real is "Route" (Linux 6.1 shows a real holding
 * one of the director's own addresses as "Route" too) and Out* counters are 0: in DR the replies
 * never cross the director.
 */
import type { L4Proto, ServiceSpec } from '../dataplane/index.ts';
import { ipToString } from '../model/index.ts';
import type { SchedFlags } from '../sched/index.ts';
import { addrPort, type Names } from './names.ts';
import type { RateReport, Rates } from './rate.ts';
import { compareReals, compareTableServices, glibcMergeSort, realKey, serviceKey, type TableConn, type TableReal, type TableService, type TableSnapshot } from './table.ts';

/** What ipvsadm prints as its first line: IPVS 1.2.1 and the connection hash table size (2^12). */
export const IPVS_VERSION_LINE = 'IP Virtual Server version 1.2.1 (size=4096)';

export interface ListFormat {
  /** -n: addresses and ports as numbers. Otherwise `names` is asked (numbers when it has none). */
  numeric?: boolean;
  names?: Names;
  stats?: boolean;
  rate?: boolean;
  thresholds?: boolean;
  persistentConn?: boolean;
  /** --exact: counters in full instead of K/M/G/T. */
  exact?: boolean;
  /** --nosort: services in the order added, reals in the kernel's order (newest first). */
  nosort?: boolean;
  /** Rates for --rate (missing entries print 0). */
  rates?: RateReport | null;
}

const ZERO_RATES: Rates = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** print_largenum: 9 columns, K/M/G/T beyond 8 digits unless --exact. */
export function largeNum(i: number, exact = false): string {
  const v = Math.max(0, Math.floor(i));
  if (exact) {
    const s = String(v);
    return padStart(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (v < 1e8) return padStart(String(v), 9);
  if (v < 1e9) return `${padStart(String(Math.floor(v / 1e3)), 8)}K`;
  if (v < 1e11) return `${padStart(String(Math.floor(v / 1e6)), 8)}M`;
  if (v < 1e14) return `${padStart(String(Math.floor(v / 1e9)), 8)}G`;
  return `${padStart(String(Math.floor(v / 1e12)), 8)}T`;
}

/**
 * print_sched_flags: the kernel keeps -b flags as bits (SCHED1 = sh-fallback = mh-fallback,
 * SCHED2 = sh-port = mh-port) and ipvsadm names them after the scheduler.
 */
export function schedFlagsText(scheduler: string, f: SchedFlags | undefined): string {
  const one = !!(f?.shFallback || f?.mhFallback);
  const two = !!(f?.shPort || f?.mhPort);
  const out: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (one) out.push(`${scheduler}-fallback`);
    if (two) out.push(`${scheduler}-port`);
  } else {
    if (one) out.push('flag-1');
    if (two) out.push('flag-2');
  }
  return out.join(',');
}

function protoName(p: L4Proto): string {
  return p === 'tcp' ? 'TCP' : 'UDP';
}

function namesFor(f: ListFormat): Names | null {
  return f.numeric || !f.names ? null : f.names;
}

/**
 * "TCP  vip:port" cut at 33 characters, as ipvsadm does for IPv4 services. An IPv6 service is
 * "TCP  [vip6]:port", never cut (print_service_entry cuts only when the family is not AF_INET6).
 * IPv6 addresses are always printed as numbers (Names has no IPv6 host names); the port may be named.
 */
function serviceName(svc: TableService, names: Names | null): string {
  const spec = svc.spec;
  if (svc.vip6 !== undefined) return `${padEnd(protoName(spec.proto), 4)} ${addrPort6(svc.vip6, spec.port, spec.proto, names)}`;
  return `${padEnd(protoName(spec.proto), 4)} ${addrPort(spec.vip, spec.port, spec.proto, names)}`.slice(0, 33);
}

function addrPort6(addr6: string, port: number, proto: L4Proto, names: Names | null): string {
  return `[${addr6}]:${names?.service(port, proto) ?? port}`;
}

/** "addr:port" cut at 28 characters for IPv4, as ipvsadm; "[addr6]:port" whole. */
function realName(spec: ServiceSpec, r: TableReal, names: Names | null): string {
  if (r.addr6 !== undefined) return addrPort6(r.addr6, r.port, spec.proto, names);
  return addrPort(r.addr, r.port, spec.proto, names).slice(0, 28);
}

/** A service's name in ipvsadm's rules (-S) and its -t/-u argument. */
function svcArg(svc: TableService, names: Names | null): string {
  const spec = svc.spec;
  const ep = svc.vip6 !== undefined ? addrPort6(svc.vip6, spec.port, spec.proto, names) : addrPort(spec.vip, spec.port, spec.proto, names);
  return `${spec.proto === 'tcp' ? '-t' : '-u'} ${ep}`;
}

function persistent(spec: ServiceSpec): number {
  return spec.persistent ?? 0;
}

function netmask(spec: ServiceSpec): number {
  return (spec.netmask ?? 0xffffffff) >>> 0;
}

export function titleLines(f: ListFormat): string[] {
  const head = padEnd('Prot LocalAddress:Port', 33);
  const cols = (w: number, names: string[], left: boolean) => names.map((n) => (left ? padEnd(n, w) : padStart(n, w))).join(' ');
  if (f.stats) return [`${head} ${cols(8, ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], false)}`, '  -> RemoteAddress:Port'];
  if (f.rate) return [`${head} ${cols(8, ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'], false)}`, '  -> RemoteAddress:Port'];
  if (f.thresholds) return [`${head} ${cols(10, ['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'], true)}`, '  -> RemoteAddress:Port'];
  if (f.persistentConn) {
    return [`${head} ${padEnd('Weight', 9)} ${padEnd('PersistConn', 11)} ${padEnd('ActiveConn', 10)} ${padEnd('InActConn', 10)}`, '  -> RemoteAddress:Port'];
  }
  return ['Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
}

function rateLookup(report: RateReport | null | undefined): { svc(s: TableService): Rates; real(s: TableService, r: TableReal): Rates } {
  const svcs = new Map<string, Rates>();
  const reals = new Map<string, Rates>();
  for (const s of report?.services ?? []) {
    svcs.set(serviceKey(s), s.rates);
    for (const r of s.reals) reals.set(realKey(s, r.addr, r.port, r.addr6), r.rates);
  }
  return {
    svc: (s) => svcs.get(serviceKey({ ...s.spec, vip6: s.vip6 })) ?? ZERO_RATES,
    real: (s, r) => reals.get(realKey({ ...s.spec, vip6: s.vip6 }, r.addr, r.port, r.addr6)) ?? ZERO_RATES,
  };
}

function serviceLine(svc: TableService, f: ListFormat, names: Names | null, rates: ReturnType<typeof rateLookup>): string {
  const spec = svc.spec;
  const name = serviceName(svc, names);
  if (f.stats) {
    return padEnd(name, 33) + [svc.conns, svc.inPkts, 0, svc.inBytes, 0].map((n) => largeNum(n, f.exact)).join('');
  }
  if (f.rate) {
    const r = rates.svc(svc);
    return padEnd(name, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((n) => largeNum(n, f.exact)).join('');
  }
  let s = `${name} ${spec.scheduler}`;
  const flags = schedFlagsText(spec.scheduler, spec.schedFlags);
  if (flags !== '') s += ` (${flags})`;
  if (persistent(spec) > 0) {
    s += ` persistent ${persistent(spec)}`;
    if (netmask(spec) !== 0xffffffff) s += ` mask ${ipToString(netmask(spec))}`;
  }
  return s;
}

function realLine(svc: TableService, r: TableReal, f: ListFormat, names: Names | null, rates: ReturnType<typeof rateLookup>): string {
  const d = `  -> ${padEnd(realName(svc.spec, r, names), 28)}`;
  if (f.stats) return d + [r.conns, r.inPkts, 0, r.inBytes, 0].map((n) => largeNum(n, f.exact)).join('');
  if (f.rate) {
    const x = rates.real(svc, r);
    return `${d} ${padStart(String(x.cps), 8)} ${padStart(String(x.inpps), 8)} ${padStart(String(x.outpps), 8)}${largeNum(x.inbps, f.exact)}${largeNum(x.outbps, f.exact)}`;
  }
  const u = (n: number, w: number) => padEnd(String(n >>> 0), w);
  if (f.thresholds) return `${d} ${u(r.uThreshold, 10)} ${u(r.lThreshold, 10)} ${u(r.activeConns, 10)} ${u(r.inactConns, 10)}`;
  if (f.persistentConn) return `${d} ${u(r.weight, 9)} ${u(r.persistConns, 11)} ${u(r.activeConns, 10)} ${u(r.inactConns, 10)}`;
  return `${d} ${padEnd('Route', 7)} ${padEnd(String(r.weight), 6)} ${u(r.activeConns, 10)} ${u(r.inactConns, 10)}`;
}

function orderedReals(svc: TableService, f: ListFormat): TableReal[] {
  return f.nosort ? svc.reals.slice() : glibcMergeSort(svc.reals, compareReals);
}

function orderedServices(snap: TableSnapshot, f: ListFormat): TableService[] {
  return f.nosort ? snap.services.slice() : glibcMergeSort(snap.services, compareTableServices);
}

function serviceBlock(svc: TableService, f: ListFormat, names: Names | null, rates: ReturnType<typeof rateLookup>): string[] {
  return [serviceLine(svc, f, names, rates), ...orderedReals(svc, f).map((r) => realLine(svc, r, f, names, rates))];
}

/** `ipvsadm -L [options]`: the version line, the title and every service with its reals. */
export function formatList(snap: TableSnapshot, f: ListFormat = {}): string {
  const names = namesFor(f);
  const rates = rateLookup(f.rates);
  const out = [IPVS_VERSION_LINE, ...titleLines(f)];
  for (const svc of orderedServices(snap, f)) out.push(...serviceBlock(svc, f, names, rates));
  return `${out.join('\n')}\n`;
}

/** `ipvsadm -L -t|-u VIP:PORT [options]`: the title and that one service (no version line), or null. */
export function formatOneService(snap: TableSnapshot, id: { proto: L4Proto; vip: number; port: number; vip6?: string }, f: ListFormat = {}): string | null {
  // ipvs_get_service looks the service up by family too: an IPv6 one by its address, never its fold.
  const svc = snap.services.find((s) => s.vip6 === id.vip6 && s.spec.proto === id.proto && s.spec.port === id.port && (id.vip6 !== undefined || s.spec.vip >>> 0 === id.vip >>> 0));
  if (!svc) return null;
  const out = [...titleLines(f), ...serviceBlock(svc, f, namesFor(f), rateLookup(f.rates))];
  return `${out.join('\n')}\n`;
}

/** The expire column: minutes:seconds of whole seconds left (the kernel truncates). */
export function expireText(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${two(Math.floor(secs / 60))}:${two(secs % 60)}`;
}

/** `ipvsadm -L -c [-n] [--persistent-conn]`: every connection and persistence template. */
export function formatConnections(conns: readonly TableConn[], f: { numeric?: boolean; names?: Names; persistentConn?: boolean } = {}): string {
  const names = namesFor(f);
  const out = ['IPVS connection entries'];
  out.push(
    f.persistentConn
      ? `pro expire ${padEnd('state', 11)} ${padEnd('source', 18)} ${padEnd('virtual', 18)} ${padEnd('destination', 18)} ${padEnd('pe name', 16)} pe_data`
      : `pro expire ${padEnd('state', 11)} ${padEnd('source', 18)} ${padEnd('virtual', 18)} destination`,
  );
  for (const c of conns) {
    // No persistence engine in dsrlb: rows have no pe columns, so ipvsadm's short row format applies.
    // print_conn pads the client and virtual names to 18 and never cuts them, so IPv6 rows run on.
    const ep = (a: number, a6: string | undefined, p: number) => (a6 !== undefined ? addrPort6(a6, p, c.proto, names) : addrPort(a, p, c.proto, names));
    out.push(
      `${padEnd(protoName(c.proto), 3)} ${padEnd(expireText(c.expiresInMs), 6)} ${padEnd(c.state, 11)} ` +
        `${padEnd(ep(c.caddr, c.caddr6, c.cport), 18)} ${padEnd(ep(c.vaddr, c.vaddr6, c.vport), 18)} ` +
        `${ep(c.daddr, c.daddr6, c.dport)}`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** `ipvsadm -S [-n]`: the table as the commands that rebuild it (what ipvsadm-save writes). */
export function formatSave(snap: TableSnapshot, f: { numeric?: boolean; names?: Names } = {}): string {
  const names = namesFor(f);
  const out: string[] = [];
  for (const svc of orderedServices(snap, {})) {
    const spec = svc.spec;
    const name = svcArg(svc, names);
    let line = `-A ${name} -s ${spec.scheduler}`;
    if (persistent(spec) > 0) {
      line += ` -p ${persistent(spec)}`;
      if (netmask(spec) !== 0xffffffff) line += ` -M ${ipToString(netmask(spec))}`;
    }
    const flags = schedFlagsText(spec.scheduler, spec.schedFlags);
    if (flags !== '') line += ` -b ${flags}`;
    out.push(line);
    for (const r of orderedReals(svc, {})) out.push(`-a ${name} -r ${r.addr6 !== undefined ? addrPort6(r.addr6, r.port, spec.proto, names) : addrPort(r.addr, r.port, spec.proto, names)} -g -w ${r.weight}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
