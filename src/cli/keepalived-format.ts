/** The vrrp_instances of a keepalived.conf in plain text (dsrlb config check --keepalived-conf). */
import type { KeepalivedConfig } from '../config/index.ts';
import { ipToString } from '../model/index.ts';

export function formatVrrpInstances(cfg: KeepalivedConfig): string {
  if (cfg.vrrpInstances.length === 0) return '';
  const out = ['', 'VRRP instances:'];
  const kv = (k: string, v: string) => out.push(`    ${k.padEnd(17)} ${v}`);
  for (const v of cfg.vrrpInstances) {
    out.push(`${v.name}  (${v.file}:${v.line})`);
    kv('state', v.state);
    kv('interface', v.interface ?? '-');
    kv('virtual_router_id', String(v.vrid));
    kv('priority', String(v.priority));
    kv('version', `VRRPv${v.version}`);
    kv('advert_int', `${(v.advertIntCs / 100).toFixed(2)} s`);
    kv('preempt', v.nopreempt ? 'no (nopreempt)' : v.preemptDelayCs > 0 ? `yes, after ${(v.preemptDelayCs / 100).toFixed(2)} s` : 'yes');
    kv('authentication', v.auth ? v.auth.type : 'none');
    kv('virtual_ipaddress', v.vips.map((a) => `${ipToString(a.address)}/${a.prefix}${a.dev ? ` dev ${a.dev}` : ''}`).join(', ') || '-');
    if (v.unicastPeers.length) kv('unicast_peer', v.unicastPeers.map(ipToString).join(', '));
    if (v.unicastSrcIp !== null) kv('unicast_src_ip', ipToString(v.unicastSrcIp));
    kv('garp', `${v.garpMasterRepeat} at MASTER, again after ${v.garpMasterDelayS} s${v.garpMasterRefreshS ? `, every ${v.garpMasterRefreshS} s` : ''}`);
    for (const [k, s] of [['notify_master', v.notifyMaster], ['notify_backup', v.notifyBackup], ['notify_fault', v.notifyFault], ['notify', v.notify]] as const) {
      if (s !== null) kv(k, s);
    }
    for (const t of v.trackInterfaces) kv('track_interface', `${t.name}${t.weight ? ` weight ${t.weight}` : ''}`);
    for (const t of v.trackScripts) kv('track_script', `${t.name}${t.weight ? ` weight ${t.weight}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}
