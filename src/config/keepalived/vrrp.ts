/**
 * keepalived's `vrrp_instance`, `vrrp_script` and `global_defs` keyword tables (vrrp_parser.c,
 * global_parser.c), with keepalived 2.2's defaults: state BACKUP, priority 100, advert_int 1 s,
 * garp_master_delay 5 s, garp_master_repeat 5, vrrp_version 2, auth_pass cut to 8 bytes.
 */
import { parseIPv4 } from '../../model/index.ts';
import type { Stmt } from './tree.ts';
import type { KeepalivedGlobals, VrrpInstanceConfig, VrrpScriptConfig, VrrpTrack } from './types.ts';
import { readOnly, refused, walk, type Ctx, type KeywordTable } from './walk.ts';

const MAX_S = 365 * 24 * 3600;

export function newGlobals(): KeepalivedGlobals {
  return { routerId: null, vrrpVersion: 2, garpMasterDelayS: 5, garpMasterRepeat: 5, garpMasterRefreshS: 0, lines: {} };
}

export const GLOBAL_TABLE: KeywordTable<KeepalivedGlobals> = {
  router_id: { handling: 'acted', note: 'shown in logs', apply: (st, g, ctx) => { g.routerId = ctx.arg(st) ?? g.routerId; } },
  vrrp_version: {
    handling: 'acted', note: 'the default VRRP version of the instances (2 or 3)',
    apply: (st, g, ctx) => { const v = ctx.uint(st, 2, 3); if (v !== undefined) g.vrrpVersion = v as 2 | 3; },
  },
  vrrp_garp_master_delay: { handling: 'acted', note: 'default of garp_master_delay', apply: (st, g, ctx) => { g.garpMasterDelayS = ctx.uint(st, 0, 255) ?? g.garpMasterDelayS; } },
  vrrp_garp_master_repeat: { handling: 'acted', note: 'default of garp_master_repeat', apply: (st, g, ctx) => { g.garpMasterRepeat = ctx.uint(st, 1, 255) ?? g.garpMasterRepeat; } },
  vrrp_garp_master_refresh: { handling: 'acted', note: 'default of garp_master_refresh', apply: (st, g, ctx) => { g.garpMasterRefreshS = ctx.uint(st, 0, MAX_S) ?? g.garpMasterRefreshS; } },
  vrrp_garp_master_refresh_repeat: readOnly('one gratuitous ARP per refresh'),
  vrrp_garp_interval: readOnly('gratuitous ARPs of a burst are sent 1 ms apart'),
  vrrp_gna_interval: readOnly('IPv4 only'),
  vrrp_garp_lower_prio_delay: readOnly(''),
  vrrp_garp_lower_prio_repeat: readOnly(''),
  vrrp_mcast_group4: refused('dsrlb sends VRRP to 224.0.0.18 only'),
  vrrp_strict: readOnly('dsrlb always checks TTL, VRID and authentication'),
  vrrp_skip_check_adv_addr: readOnly(''),
  vrrp_check_unicast_src: readOnly('adverts from outside the unicast peers are rejected anyway'),
  vrrp_iptables: readOnly('dsrlb adds no iptables rules'),
  vrrp_no_swap: readOnly(''),
  max_auto_priority: readOnly(''),
  notification_email: readOnly('dsrlb sends no mail'),
  notification_email_from: readOnly('dsrlb sends no mail'),
  smtp_server: readOnly('dsrlb sends no mail'),
  smtp_connect_timeout: readOnly('dsrlb sends no mail'),
  smtp_helo_name: readOnly('dsrlb sends no mail'),
  smtp_alert: readOnly('dsrlb sends no mail'),
  enable_script_security: readOnly('scripts run as dsrlb\'s user'),
  script_user: readOnly('scripts run as dsrlb\'s user'),
  lvs_id: readOnly(''),
  lvs_sync_daemon: refused('the IPVS sync daemon is not supported from keepalived.conf (use dsrlb ha\'s connection sync)'),
  lvs_flush: readOnly(''),
  dynamic_interfaces: readOnly(''),
  enable_snmp_vrrp: readOnly('no SNMP'),
  enable_snmp_checker: readOnly('no SNMP'),
  net_namespace: readOnly('run dsrlb inside the namespace instead'),
};

export function newInstance(st: Stmt, g: KeepalivedGlobals): VrrpInstanceConfig {
  return {
    name: st.args[0] ?? '', file: st.file, line: st.line, state: 'BACKUP', interface: null, vrid: 0, priority: 100,
    advertIntCs: 100, version: g.vrrpVersion, nopreempt: false, preemptDelayCs: 0, auth: null, vips: [],
    unicastPeers: [], unicastSrcIp: null, garpMasterDelayS: g.garpMasterDelayS, garpMasterRepeat: g.garpMasterRepeat,
    garpMasterRefreshS: g.garpMasterRefreshS, notifyMaster: null, notifyBackup: null, notifyFault: null, notifyStop: null,
    notify: null, trackInterfaces: [], trackScripts: [], lines: {},
  };
}

function tracks(st: Stmt, ctx: Ctx): VrrpTrack[] {
  const b = ctx.needBlock(st) ?? [];
  const out: VrrpTrack[] = [];
  for (const s of b) {
    let weight = 0;
    if (s.args[0] === 'weight') {
      const w = s.args[1];
      if (w === undefined || !/^-?\d+$/.test(w) || Math.abs(Number(w)) > 254) ctx.error(s, 'E_CONFIG_BAD_VALUE', `${s.name}: weight must be -254..254, got ${JSON.stringify(w ?? '')}`);
      else weight = Number(w);
    }
    out.push({ name: s.name, weight, line: s.line });
  }
  return out;
}

const script = (k: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify', note: string) => ({
  handling: 'acted' as const, note,
  apply: (st: Stmt, v: VrrpInstanceConfig, ctx: Ctx) => { v[k] = ctx.rest(st) ?? v[k]; },
});

export const AUTH_TABLE: KeywordTable<VrrpInstanceConfig> = {
  auth_type: {
    handling: 'acted', note: 'PASS (clear text) or AH (keepalived\'s IPSEC-AH, VRRPv2 only)',
    apply: (st, v, ctx) => {
      const t = ctx.arg(st);
      if (t !== 'PASS' && t !== 'AH') {
        if (t !== undefined) ctx.error(st, 'E_CONFIG_BAD_VALUE', `auth_type: expected PASS or AH, got ${JSON.stringify(t)}`);
        return;
      }
      v.auth = { type: t, pass: v.auth?.pass ?? '' };
    },
  },
  auth_pass: {
    handling: 'acted', note: 'the password (keepalived keeps the first 8 bytes)',
    apply: (st, v, ctx) => {
      const p = ctx.arg(st);
      if (p === undefined) return;
      if (Buffer.byteLength(p) > 8) ctx.warn(st, 'E_CONFIG_BAD_VALUE', 'auth_pass is longer than 8 bytes: keepalived and dsrlb use the first 8');
      v.auth = { type: v.auth?.type ?? 'PASS', pass: Buffer.from(p).subarray(0, 8).toString('latin1') };
    },
  },
};

export const VRRP_TABLE: KeywordTable<VrrpInstanceConfig> = {
  state: {
    handling: 'acted', note: 'MASTER or BACKUP; as in keepalived 2.2, an instance starts as BACKUP and becomes MASTER when no better master advertises (priority 255: at once)',
    apply: (st, v, ctx) => {
      const s = ctx.arg(st);
      if (s === 'MASTER' || s === 'BACKUP') v.state = s;
      else if (s !== undefined) ctx.error(st, 'E_CONFIG_BAD_VALUE', `state: expected MASTER or BACKUP, got ${JSON.stringify(s)}`);
    },
  },
  interface: { handling: 'acted', note: 'must be --iface', apply: (st, v, ctx) => { v.interface = ctx.arg(st) ?? v.interface; } },
  virtual_router_id: { handling: 'acted', note: 'the VRID (1-255)', apply: (st, v, ctx) => { v.vrid = ctx.uint(st, 1, 255) ?? v.vrid; } },
  priority: { handling: 'acted', note: '1-255 (255: the address owner)', apply: (st, v, ctx) => { v.priority = ctx.uint(st, 1, 255) ?? v.priority; } },
  advert_int: {
    handling: 'acted', note: 'seconds; VRRPv3 to the centisecond, VRRPv2 in whole seconds',
    apply: (st, v, ctx) => {
      const s = ctx.seconds(st, 0.01, 255);
      if (s !== undefined) v.advertIntCs = Math.round(s * 100);
    },
  },
  version: { handling: 'acted', note: 'VRRP version of this instance', apply: (st, v, ctx) => { const n = ctx.uint(st, 2, 3); if (n !== undefined) v.version = n as 2 | 3; } },
  nopreempt: { handling: 'acted', note: 'a higher priority BACKUP does not take over a MASTER', apply: (_st, v) => { v.nopreempt = true; } },
  preempt: { handling: 'acted', note: 'the default (preemption on)', apply: (_st, v) => { v.nopreempt = false; } },
  preempt_delay: { handling: 'acted', note: 'seconds before preempting after start (0-1000)', apply: (st, v, ctx) => { const s = ctx.seconds(st, 0, 1000); if (s !== undefined) v.preemptDelayCs = Math.round(s * 100); } },
  authentication: {
    handling: 'acted', note: 'auth_type/auth_pass (VRRPv2)',
    apply: (st, v, ctx) => {
      const b = ctx.needBlock(st);
      if (b) walk(b, AUTH_TABLE, v, ctx, 'authentication');
    },
  },
  virtual_ipaddress: {
    handling: 'acted', note: 'the VIPs: `A.B.C.D[/LEN] [dev IF]`, other options read and not acted on',
    apply: (st, v, ctx) => {
      for (const s of ctx.needBlock(st) ?? []) {
        const m = /^([^/]+)(?:\/(\d+))?$/.exec(s.name);
        const a = m ? parseIPv4(m[1]!) : null;
        if (!m || a === null || (m[2] !== undefined && Number(m[2]) > 32)) {
          if (s.name.includes(':')) {
            // keepalived takes the instance's family from its first address and ignores an address
            // of the other family ("address family must match VRRP instance"); an instance whose
            // first address is IPv6 runs VRRP over IPv6. dsrlb's VRRP is IPv4 only.
            ctx.error(s, 'E_CONFIG_UNSUPPORTED', v.vips.length > 0
              ? `virtual_ipaddress ${s.name}: an IPv6 address in an IPv4 vrrp_instance (keepalived ignores it: "address family must match VRRP instance"); ` +
                'remove it, or move it to virtual_ipaddress_excluded, which dsrlb reads and does not act on: then add the address on the director yourself (ip -6 addr add … nodad)'
              : `virtual_ipaddress ${s.name}: an IPv6 vrrp_instance (VRRP over IPv6) is not supported by dsrlb, whose VRRP runs IPv4 only; ` +
                'keep the instance IPv4 (an IPv4 address first) and add the IPv6 VIP on the director yourself');
          }
          else ctx.error(s, 'E_CONFIG_BAD_ADDRESS', `virtual_ipaddress: ${JSON.stringify(s.name)} is not A.B.C.D[/LEN]`);
          continue;
        }
        const di = s.args.indexOf('dev');
        v.vips.push({ address: a, prefix: m[2] === undefined ? 32 : Number(m[2]), dev: di >= 0 ? (s.args[di + 1] ?? null) : null, line: s.line });
      }
    },
  },
  virtual_ipaddress_excluded: readOnly('addresses not in adverts are not added either'),
  unicast_peer: {
    handling: 'acted', note: 'adverts go to these peers instead of 224.0.0.18',
    apply: (st, v, ctx) => {
      for (const s of ctx.needBlock(st) ?? []) {
        const a = ctx.ipv4(s, s.name, 'unicast_peer');
        if (a !== undefined) v.unicastPeers.push(a);
      }
    },
  },
  unicast_src_ip: { handling: 'acted', note: 'the source of unicast adverts', apply: (st, v, ctx) => { v.unicastSrcIp = ctx.ipv4(st, ctx.arg(st), 'unicast_src_ip') ?? v.unicastSrcIp; } },
  mcast_src_ip: { handling: 'acted', note: 'the source of multicast adverts', apply: (st, v, ctx) => { v.unicastSrcIp = ctx.ipv4(st, ctx.arg(st), 'mcast_src_ip') ?? v.unicastSrcIp; } },
  garp_master_delay: { handling: 'acted', note: 'seconds after becoming MASTER before a second burst of gratuitous ARPs (0: none)', apply: (st, v, ctx) => { v.garpMasterDelayS = ctx.uint(st, 0, 255) ?? v.garpMasterDelayS; } },
  garp_master_repeat: { handling: 'acted', note: 'gratuitous ARP pairs sent on becoming MASTER, 10 ms apart (unless --garp)', apply: (st, v, ctx) => { v.garpMasterRepeat = ctx.uint(st, 1, 255) ?? v.garpMasterRepeat; } },
  garp_master_refresh: { handling: 'acted', note: 'seconds between bursts of gratuitous ARPs while MASTER (0: none)', apply: (st, v, ctx) => { v.garpMasterRefreshS = ctx.uint(st, 0, MAX_S) ?? v.garpMasterRefreshS; } },
  garp_master_refresh_repeat: readOnly('one gratuitous ARP per refresh'),
  notify_master: script('notifyMaster', 'run on becoming MASTER'),
  notify_backup: script('notifyBackup', 'run on becoming BACKUP'),
  notify_fault: script('notifyFault', 'run on entering FAULT (a tracked item with weight 0 down)'),
  notify_stop: script('notifyStop', 'run when the instance stops'),
  notify: script('notify', 'run on every change with: INSTANCE NAME STATE PRIORITY'),
  track_interface: { handling: 'acted', note: 'link state polled every 500 ms: weight 0 -> FAULT while down; weight > 0 added while up, < 0 added while down', apply: (st, v, ctx) => { v.trackInterfaces.push(...tracks(st, ctx)); } },
  track_script: { handling: 'acted', note: 'the vrrp_scripts run at their interval: weight 0 -> FAULT while failing; weight > 0 added while OK, < 0 added while failing', apply: (st, v, ctx) => { v.trackScripts.push(...tracks(st, ctx)); } },
  smtp_alert: readOnly('dsrlb sends no mail'),
  dont_track_primary: readOnly(''),
  use_vmac: refused('VMAC interfaces are not supported by dsrlb'),
  vmac_xmit_base: readOnly(''),
  native_ipv6: refused('IPv6 is not supported by dsrlb'),
  lvs_sync_daemon_interface: refused('the IPVS sync daemon is not supported from keepalived.conf (use dsrlb ha\'s connection sync)'),
  virtual_routes: readOnly('no routes are added'),
  virtual_rules: readOnly('no rules are added'),
  accept: readOnly('the VIP is a local address while MASTER anyway'),
  no_accept: readOnly(''),
  skip_check_adv_addr: readOnly(''),
  strict_mode: readOnly('dsrlb always checks TTL, VRID and authentication'),
  debug: readOnly(''),
  net_namespace: readOnly('run dsrlb inside the namespace instead'),
};

export function newScript(st: Stmt): VrrpScriptConfig {
  return { name: st.args[0] ?? '', line: st.line, script: null, intervalS: 1, timeoutS: 0, weight: 0, rise: 1, fall: 1 };
}

export const SCRIPT_TABLE: KeywordTable<VrrpScriptConfig> = {
  script: { handling: 'acted', note: 'the command (/bin/sh -c)', apply: (st, s, ctx) => { s.script = ctx.rest(st) ?? s.script; } },
  interval: { handling: 'acted', note: 'seconds between runs', apply: (st, s, ctx) => { s.intervalS = ctx.seconds(st, 0.000001, MAX_S) ?? s.intervalS; } },
  timeout: { handling: 'acted', note: 'seconds before a run counts as failed', apply: (st, s, ctx) => { s.timeoutS = ctx.seconds(st, 0, MAX_S) ?? s.timeoutS; } },
  weight: {
    handling: 'acted', note: 'the weight (track_script may override it): 0 -> FAULT while failing',
    apply: (st, s, ctx) => {
      const w = st.args[0];
      if (w === undefined || !/^-?\d+$/.test(w) || Math.abs(Number(w)) > 254) ctx.error(st, 'E_CONFIG_BAD_VALUE', `weight must be -254..254, got ${JSON.stringify(w ?? '')}`);
      else s.weight = Number(w);
    },
  },
  rise: { handling: 'acted', note: 'successes before OK', apply: (st, s, ctx) => { s.rise = ctx.uint(st, 1, 0x7fffffff) ?? s.rise; } },
  fall: { handling: 'acted', note: 'failures before KO', apply: (st, s, ctx) => { s.fall = ctx.uint(st, 1, 0x7fffffff) ?? s.fall; } },
  user: readOnly('the script runs as dsrlb\'s user'),
  init_fail: readOnly(''),
};
