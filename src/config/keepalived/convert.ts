/**
 * keepalived.conf -> the Ultra Monkey files (ldirectord.cf, and ha.cf + haresources + authkeys for a
 * vrrp_instance), plus the list of what the target files cannot say. Pure: the texts are returned.
 *
 * The virtual servers are written from the ldirectord model the parser mapped them to, so
 * `ldirectord.cf` parses back into the same services (test/config/keepalived-convert.test.ts). VRRP
 * and heartbeat differ in kind (an election by priority vs. a preferred node, adverts vs.
 * heartbeats), so the HA files are the nearest equivalent, and every difference is one note.
 */
import { ipToString } from '../../model/index.ts';
import type { VirtualService } from '../ldirectord/types.ts';
import type { KeepalivedConfig, VrrpInstanceConfig } from './types.ts';

export interface ConvertOptions {
  /** This node's `uname -n` (heartbeat names nodes); default: router_id, else `THIS-NODE`. */
  node?: string;
  /** The peer's `uname -n`; default `PEER-NODE`. */
  peer?: string;
}

export interface Converted {
  ldirectordCf: string;
  haCf: string | null;
  haresources: string | null;
  authkeys: string | null;
  /** What the target files cannot express (one sentence each, with file:line when there is one). */
  notes: string[];
}

function secs(v: number, what: string, at: string, notes: string[]): string {
  if (Number.isInteger(v)) return String(v);
  const up = Math.max(1, Math.ceil(v));
  notes.push(`${at}: ${what} ${v} s rounded up to ${up} s (ldirectord takes whole seconds)`);
  return String(up);
}

function quote(s: string): string {
  return `"${s}"`;
}

function virtualLines(vs: VirtualService, notes: string[], file: string, perVirtualInterval: boolean): string[] {
  const at = `${vs.file ?? file}:${vs.line}`;
  // An IPv6 service becomes a virtual6= section with real6=/fallback6= lines (ldirectord's IPv6 syntax).
  const six = vs.address6 !== undefined;
  const out = [six ? `virtual6=[${vs.address6}]:${vs.port}` : `virtual=${ipToString(vs.address!)}:${vs.port}`];
  for (const r of vs.reals) {
    const host = r.address6 !== undefined ? `[${r.address6}]` : ipToString(r.address);
    let l = `\treal${six ? '6' : ''}=${host}:${r.port === 0 ? vs.port : r.port} gate ${r.weight}`;
    if (r.request !== undefined && r.receive !== undefined && r.request !== vs.request) l += ` ${quote(r.request)}, ${quote(r.receive)}`;
    out.push(l);
  }
  out.push(`\tscheduler=${vs.scheduler}`, `\tprotocol=${vs.protocol}`);
  const flags = (['shPort', 'shFallback', 'mhPort', 'mhFallback'] as const).filter((k) => vs.schedFlags[k]);
  if (flags.length) out.push(`\tschedflags=${flags.map((k) => k.replace(/([A-Z])/, '-$1').toLowerCase()).join(',')}`);
  if (vs.persistent > 0) out.push(`\tpersistent=${vs.persistent}`);
  if (!six && vs.netmask !== 0xffffffff) out.push(`\tnetmask=${ipToString(vs.netmask)}`);
  if (vs.ops) out.push('\tops=yes');
  out.push(`\tchecktype=${vs.checktype}`);
  out.push(`\tservice=${vs.service}`);
  if (vs.checkport !== null) out.push(`\tcheckport=${vs.checkport}`);
  if (vs.checktype === 'negotiate') {
    out.push(`\trequest=${quote(vs.request)}`);
    if (vs.receive !== '') out.push(`\treceive=${quote(vs.receive)}`);
    if (vs.virtualhost !== null) out.push(`\tvirtualhost=${vs.virtualhost}`);
  }
  if (vs.checktype === 'external') out.push(`\tcheckcommand=${quote(vs.checkcommand)}`);
  out.push(`\tchecktimeout=${secs(vs.checktimeout, 'connect_timeout', at, notes)}`);
  out.push(`\tnegotiatetimeout=${secs(vs.negotiatetimeout, 'connect_timeout', at, notes)}`);
  if (perVirtualInterval) out.push(`\tcheckinterval=${secs(vs.checkinterval, 'delay_loop', at, notes)}`);
  out.push(`\tfailurecount=${vs.failurecount}`);
  out.push(`\tquiescent=${vs.quiescent ? 'yes' : 'no'}`);
  if (vs.fallback) {
    const host = vs.fallback.address6 !== undefined ? `[${vs.fallback.address6}]` : ipToString(vs.fallback.address);
    out.push(`\tfallback${six ? '6' : ''}=${host}:${vs.fallback.port ?? vs.port} gate`);
  }
  if (vs.checktype === 'external') notes.push(`${at}: MISC_CHECK's misc_path is run by ldirectord with VIP VPORT RIP RPORT appended`);
  return out;
}

function haFiles(cfg: KeepalivedConfig, v: VrrpInstanceConfig, opts: ConvertOptions, notes: string[]): Pick<Converted, 'haCf' | 'haresources' | 'authkeys'> {
  const at = `${v.file}:${v.line}`;
  const node = opts.node ?? cfg.globals.routerId ?? 'THIS-NODE';
  const peer = opts.peer ?? 'PEER-NODE';
  if (!opts.node && !cfg.globals.routerId) notes.push(`${at}: heartbeat names nodes by uname -n: replace THIS-NODE (or pass --node)`);
  if (!opts.peer) notes.push(`${at}: replace PEER-NODE with the peer's uname -n (or pass --peer); keepalived.conf does not name it`);
  const advertMs = v.advertIntCs * 10;
  // RFC 5798: Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time.
  const skewMs = Math.floor(((256 - v.priority) * advertMs) / 256);
  const deadMs = 3 * advertMs + skewMs;
  const iface = v.interface ?? 'eth0';
  const hacf = [
    `# From ${cfg.file}, vrrp_instance ${v.name} (${at}): VRRP's timers as heartbeat's.`,
    `keepalive ${advertMs}ms`,
    `deadtime ${deadMs}ms`,
    `warntime ${Math.max(advertMs, Math.floor(deadMs / 2))}ms`,
    `initdead ${Math.max(deadMs, 2 * advertMs)}ms`,
    'udpport 694',
    ...(v.unicastPeers.length > 0 ? v.unicastPeers.map((p) => `ucast ${iface} ${ipToString(p)}`) : [`bcast ${iface}`]),
    `auto_failback ${v.nopreempt ? 'off' : 'on'}`,
    `node ${node}`,
    `node ${peer}`,
    'logfacility daemon',
    '',
  ];
  if (v.unicastPeers.length === 0) notes.push(`${at}: VRRP multicast (224.0.0.18) becomes heartbeat broadcast on ${iface}`);
  notes.push(`${at}: heartbeat has no priorities: the node with the higher VRRP priority is written as the resource owner (priority ${v.priority}, state ${v.state})`);
  if (v.preemptDelayCs > 0) notes.push(`${at}: preempt_delay ${v.preemptDelayCs / 100} s has no heartbeat equivalent`);
  const owner = v.state === 'MASTER' || v.priority === 255 ? node : peer;
  const vips = v.vips.map((a) => `IPaddr2::${ipToString(a.address)}/${a.prefix}/${a.dev ?? iface}`);
  const res = [`# From ${cfg.file}, vrrp_instance ${v.name} (${at}).`, `${owner} ldirectord::ldirectord.cf ${vips.join(' ')}`.trim(), ''];
  for (const [k, s] of [['notify_master', v.notifyMaster], ['notify_backup', v.notifyBackup], ['notify_fault', v.notifyFault], ['notify', v.notify]] as const) {
    if (s !== null) notes.push(`${at}: ${k} "${s}" has no place in haresources (write a resource script that runs it on start/stop)`);
  }
  for (const t of v.trackInterfaces) notes.push(`${v.file}:${t.line}: track_interface ${t.name}: heartbeat v1 does not track interfaces (ipfail with ping nodes is the nearest)`);
  for (const t of v.trackScripts) notes.push(`${v.file}:${t.line}: track_script ${t.name}: heartbeat v1 has no tracked scripts`);
  if (v.garpMasterDelayS !== 5 || v.garpMasterRepeat !== 5) notes.push(`${at}: garp_master_delay/garp_master_repeat: IPaddr2 sends its own gratuitous ARPs`);
  let authkeys: string | null = null;
  if (v.auth) {
    notes.push(`${at}: authentication ${v.auth.type}: heartbeat signs with sha1 here, keyed with the VRRP password; it is not VRRP's scheme`);
    authkeys = `# From ${cfg.file}, vrrp_instance ${v.name}: chmod 600 this file.\nauth 1\n1 sha1 ${v.auth.pass}\n`;
  } else {
    notes.push(`${at}: no VRRP authentication: authkeys uses crc (no secret); choose sha1 with a key`);
    authkeys = `# From ${cfg.file}, vrrp_instance ${v.name}: chmod 600 this file.\nauth 1\n1 crc\n`;
  }
  return { haCf: hacf.join('\n'), haresources: res.join('\n'), authkeys };
}

export function convertKeepalived(cfg: KeepalivedConfig, opts: ConvertOptions = {}): Converted {
  const notes: string[] = [];
  const lines = [`# ldirectord.cf converted by dsrlb from ${cfg.file}`, 'logfile="daemon"', 'quiescent=no'];
  // ldirectord reads a per-virtual checkinterval only with fork=yes: one global value when they agree.
  const intervals = new Set(cfg.lvs.virtuals.map((v) => v.checkinterval));
  const perVirtual = intervals.size > 1;
  if (perVirtual) lines.push('fork=yes');
  else if (intervals.size === 1) {
    const v = cfg.lvs.virtuals[0]!;
    lines.push(`checkinterval=${secs(v.checkinterval, 'delay_loop', `${v.file ?? cfg.file}:${v.line}`, notes)}`);
  }
  lines.push('');
  for (const vs of cfg.lvs.virtuals) lines.push(...virtualLines(vs, notes, cfg.file, perVirtual), '');
  for (const w of cfg.warnings) {
    if (w.code === 'E_CONFIG_NOT_ACTED_ON' || w.code === 'E_CONFIG_UNKNOWN_DIRECTIVE') notes.push(`${w.file}:${w.line}: ${w.message}`);
  }
  let ha: Pick<Converted, 'haCf' | 'haresources' | 'authkeys'> = { haCf: null, haresources: null, authkeys: null };
  const [first, ...more] = cfg.vrrpInstances;
  if (first) ha = haFiles(cfg, first, opts, notes);
  for (const v of more) notes.push(`${v.file}:${v.line}: vrrp_instance ${v.name}: heartbeat v1 runs one resource group per pair here; only ${first!.name} is converted`);
  for (const s of cfg.vrrpScripts) notes.push(`${cfg.file}:${s.line}: vrrp_script ${s.name}: heartbeat v1 has no tracked scripts`);
  return { ldirectordCf: lines.join('\n'), ...ha, notes };
}
