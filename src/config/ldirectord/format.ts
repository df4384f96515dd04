/**
 * formatServices(cfg): the parsed services as `ipvsadm -L -n` would list them once loaded (configured
 * weights, zero counters), then each virtual's check settings and the global settings in plain text.
 * IPv6 services (`virtual6=`) are listed as ipvsadm lists them: after the IPv4 ones, `[addr]:port`.
 */
import { compareIPv6AsLibipvs, ipToString } from '../../model/index.ts';
import { checkPortFor } from './parse.ts';
import { realForwardPort } from './resolve.ts';
import type { Fallback, ForwardMethod, LdirectordConfig, RealServer, SchedFlag, SchedFlags, VirtualService } from './types.ts';

const FORWARD_NAME: Record<ForwardMethod, string> = { gate: 'Route', masq: 'Masq', ipip: 'Tunnel' };
const PROTO_NUM = { tcp: 6, udp: 17, fwm: 0 } as const;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** ipvsadm's order: address services (IPv4, then IPv6; by protocol, address, port), then firewall marks. */
function compareServices(a: VirtualService, b: VirtualService): number {
  const fa = a.fwmark ?? 0;
  const fb = b.fwmark ?? 0;
  if (fa !== fb) return fa - fb;
  const six = Number(a.address6 !== undefined) - Number(b.address6 !== undefined);
  if (six !== 0) return six;
  const addr = a.address6 !== undefined && b.address6 !== undefined
    ? compareIPv6AsLibipvs(a.address6, b.address6)
    : (a.address ?? 0) - (b.address ?? 0);
  return PROTO_NUM[a.protocol] - PROTO_NUM[b.protocol] || addr || a.port - b.port;
}

function compareReals(vs: VirtualService, a: RealServer, b: RealServer): number {
  const addr = a.address6 !== undefined && b.address6 !== undefined ? compareIPv6AsLibipvs(a.address6, b.address6) : a.address - b.address;
  return addr || realForwardPort(vs, a) - realForwardPort(vs, b);
}

/** Flag names in ipvsadm's order: SCHED1 (…-fallback) before SCHED2 (…-port). */
export function schedFlagNames(f: SchedFlags): SchedFlag[] {
  const out: SchedFlag[] = [];
  if (f.shFallback) out.push('sh-fallback');
  if (f.mhFallback) out.push('mh-fallback');
  if (f.shPort) out.push('sh-port');
  if (f.mhPort) out.push('mh-port');
  return out;
}

function serviceName(vs: VirtualService): string {
  if (vs.protocol === 'fwm') return `FWM  ${vs.fwmark}`;
  const host = vs.address6 !== undefined ? `[${vs.address6}]` : ipToString(vs.address!);
  return `${vs.protocol.toUpperCase()}  ${host}:${vs.port}`;
}

/** A real's address as ipvsadm and this listing show it. */
function realHost(r: RealServer): string {
  return r.address6 !== undefined ? `[${r.address6}]` : ipToString(r.address);
}

function serviceLine(vs: VirtualService): string {
  let s = `${serviceName(vs)} ${vs.scheduler}`;
  const flags = schedFlagNames(vs.schedFlags);
  if (flags.length > 0) s += ` (${flags.join(',')})`;
  if (vs.persistent > 0) {
    s += ` persistent ${vs.persistent}`;
    if (vs.netmask !== 0xffffffff) s += ` mask ${ipToString(vs.netmask)}`;
  }
  if (vs.ops && vs.protocol === 'udp') s += ' ops';
  return s;
}

function realRow(vs: VirtualService, r: RealServer): string {
  // ipvsadm cuts an IPv4 real's name at 28 characters, never an IPv6 one's.
  const full = `${realHost(r)}:${realForwardPort(vs, r)}`;
  const name = r.address6 !== undefined ? full : full.slice(0, 28);
  return `  -> ${pad(name, 28)} ${pad(FORWARD_NAME[r.method], 7)} ${pad(String(r.weight), 6)} ${pad('0', 10)} ${pad('0', 10)}`;
}

function onOff(b: boolean): string {
  return b ? 'yes' : 'no';
}

function fallbackText(f: Fallback | null): string {
  if (!f) return 'none';
  const host = f.address6 !== undefined ? `[${f.address6}]` : ipToString(f.address);
  return `${host}${f.port === null ? '' : `:${f.port}`} ${f.method}`;
}

function kv(out: string[], key: string, value: string): void {
  out.push(`    ${pad(key, 17)} ${value}`);
}

function checkBlock(cfg: LdirectordConfig, vs: VirtualService, out: string[]): void {
  out.push(`${serviceName(vs)}  (${vs.file ?? cfg.file}:${vs.line})`);
  const ct = vs.checktype === 'combined' ? `${vs.checkConnects} (connect, one negotiate every ${vs.checkConnects + 1})` : vs.checktype;
  kv(out, 'checktype', ct);
  kv(out, 'service', `${vs.service}${!vs.serviceFromPort ? '' : vs.protocol === 'fwm' ? ' (default for a firewall mark)' : ' (from the port)'}`);
  kv(out, 'checkport', vs.checkport === null ? "the real's port" : String(vs.checkport));
  if (vs.checktype === 'external' || vs.checktype === 'external-perl') kv(out, 'checkcommand', vs.checkcommand);
  kv(out, 'request', JSON.stringify(vs.request));
  kv(out, 'receive', JSON.stringify(vs.receive));
  if (vs.virtualhost !== null) kv(out, 'virtualhost', vs.virtualhost);
  kv(out, 'httpmethod', vs.httpmethod);
  if (vs.login !== '') kv(out, 'login', vs.login);
  if (vs.database !== '') kv(out, 'database', vs.database);
  kv(out, 'checktimeout', `${vs.checktimeout} s`);
  kv(out, 'negotiatetimeout', `${vs.negotiatetimeout} s`);
  kv(out, 'checkinterval', `${vs.checkinterval} s`);
  kv(out, 'failurecount', String(vs.failurecount));
  kv(out, 'quiescent', onOff(vs.quiescent));
  kv(out, 'readdquiescent', onOff(vs.readdquiescent));
  kv(out, 'fallback', fallbackText(vs.fallback));
  if (vs.fallbackcommand !== null) kv(out, 'fallbackcommand', vs.fallbackcommand);
  if (vs.emailalert !== null) kv(out, 'emailalert', vs.emailalert);
  if (vs.monitorfile !== null) kv(out, 'monitorfile', vs.monitorfile);
  for (const r of vs.reals) {
    const extra: string[] = [];
    const port = checkPortFor(vs, r);
    if (port !== null && vs.checkport === null && port !== r.port) extra.push(`check port ${port}`);
    if (r.request !== undefined) extra.push(`request ${JSON.stringify(r.request)} receive ${JSON.stringify(r.receive)}`);
    if (r.upperThreshold || r.lowerThreshold) extra.push(`thresholds upper ${r.upperThreshold} lower ${r.lowerThreshold}`);
    if (extra.length > 0) kv(out, `real ${realHost(r)}`, extra.join(', '));
  }
}

export function formatServices(cfg: LdirectordConfig): string {
  const out = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  const services = [...cfg.virtuals].sort(compareServices);
  for (const vs of services) {
    out.push(serviceLine(vs));
    const reals = [...vs.reals].sort((a, b) => compareReals(vs, a, b));
    for (const r of reals) out.push(realRow(vs, r));
  }
  out.push('', 'Checks:');
  for (const vs of services) checkBlock(cfg, vs, out);
  const g = cfg.globals;
  out.push('', 'Global settings:');
  kv(out, 'logfile', `${g.logfile.raw} (${g.logfile.kind === 'file' ? 'file' : 'syslog facility'})`);
  kv(out, 'autoreload', onOff(g.autoreload));
  kv(out, 'fork', onOff(g.fork));
  kv(out, 'supervised', onOff(g.supervised));
  kv(out, 'cleanstop', onOff(g.cleanstop));
  if (g.callback !== null) kv(out, 'callback', g.callback);
  if (g.maintenancedir !== null) kv(out, 'maintenancedir', g.maintenancedir);
  for (const e of g.execute) kv(out, 'execute', e);
  return `${out.join('\n')}\n`;
}
