/**
 * formatServices(cfg): the parsed services as `ipvsadm -L -n` would list them once loaded (configured
 * weights, zero counters), then each virtual's check settings and the global settings in plain text.
 */
import { ipToString } from '../../model/index.ts';
import { checkPortFor } from './parse.ts';
import { realForwardPort } from './resolve.ts';
import type { Fallback, ForwardMethod, LdirectordConfig, RealServer, SchedFlag, SchedFlags, VirtualService } from './types.ts';

const FORWARD_NAME: Record<ForwardMethod, string> = { gate: 'Route', masq: 'Masq', ipip: 'Tunnel' };
const PROTO_NUM = { tcp: 6, udp: 17, fwm: 0 } as const;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** ipvsadm's order: address services (by protocol, address, port), then firewall marks. */
function compareServices(a: VirtualService, b: VirtualService): number {
  const fa = a.fwmark ?? 0;
  const fb = b.fwmark ?? 0;
  if (fa !== fb) return fa - fb;
  return PROTO_NUM[a.protocol] - PROTO_NUM[b.protocol] || (a.address ?? 0) - (b.address ?? 0) || a.port - b.port;
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
  return vs.protocol === 'fwm'
    ? `FWM  ${vs.fwmark}`
    : `${vs.protocol.toUpperCase()}  ${ipToString(vs.address!)}:${vs.port}`;
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
  const name = `${ipToString(r.address)}:${realForwardPort(vs, r)}`.slice(0, 28);
  return `  -> ${pad(name, 28)} ${pad(FORWARD_NAME[r.method], 7)} ${pad(String(r.weight), 6)} ${pad('0', 10)} ${pad('0', 10)}`;
}

function onOff(b: boolean): string {
  return b ? 'yes' : 'no';
}

function fallbackText(f: Fallback | null): string {
  return f ? `${ipToString(f.address)}${f.port === null ? '' : `:${f.port}`} ${f.method}` : 'none';
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
    if (extra.length > 0) kv(out, `real ${ipToString(r.address)}`, extra.join(', '));
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
    const reals = [...vs.reals].sort((a, b) => a.address - b.address || realForwardPort(vs, a) - realForwardPort(vs, b));
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
