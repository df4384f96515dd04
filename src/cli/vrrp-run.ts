/**
 * The VRRP half of `dsrlb run --keepalived-conf FILE --iface IF`: the file's vrrp_instance on IF,
 * owning the VIP only while MASTER — as the heartbeat-style node (commands/ha.ts) does: the packet
 * path is active (answers ARP for the VIP, announces it with gratuitous ARP, forwards) and this
 * host's ARP suppression of the VIP is lifted while MASTER; inactive and suppressed otherwise. The
 * notify scripts run as keepalived runs them (`notify` with: INSTANCE NAME STATE PRIORITY).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { KeepalivedConfig, VrrpInstanceConfig, VrrpScriptConfig } from '../config/index.ts';
import { VrrpNode, type Director } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { openVrrpSocket, systemClock } from '../io/index.ts';
import { ipToString, parseIPv4 } from '../model/index.ts';
import type { Logger } from '../ports/index.ts';
import { ScriptState, trackedPriority, type TrackedItem } from '../vrrp/index.ts';
import { applyArpSuppression, checkArpSuppressionTool, removeArpSuppression, type ArpSuppression } from './commands/arp-rules.ts';

export interface VrrpRunOptions {
  iface: string;
  /** arptables | nft | none: the VIP's ARP suppression on this host while not MASTER. */
  arpSuppression: 'arptables' | 'nft' | 'none';
}

/** The instance `run` takes: the one on --iface (the file may have others: they are reported). */
export function pickInstance(ka: KeepalivedConfig, iface: string, log: Logger): VrrpInstanceConfig | null {
  if (ka.vrrpInstances.length === 0) return null;
  const mine = ka.vrrpInstances.filter((v) => v.interface === iface);
  if (mine.length === 0) {
    throw new DsrlbError('E_VRRP_CONFIG', `no vrrp_instance has interface ${iface} (${ka.vrrpInstances.map((v) => `${v.name}: ${v.interface}`).join(', ')})`);
  }
  for (const v of ka.vrrpInstances) if (v !== mine[0]) log.warn({ instance: v.name, file: v.file, line: v.line }, 'dsrlb runs one vrrp_instance: this one is not run');
  return mine[0]!;
}

function ifaceAddress(iface: string): { address: number; prefix: number; ifindex: number } {
  const a = (networkInterfaces()[iface] ?? []).find((x) => x.family === 'IPv4');
  if (!a?.cidr) throw new DsrlbError('E_VRRP_CONFIG', `${iface} has no IPv4 address`);
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch {
    throw new DsrlbError('E_VRRP_CONFIG', `${iface}: no such interface`);
  }
  return { address: parseIPv4(a.address)!, prefix: Number(a.cidr.split('/')[1]), ifindex };
}

function runScript(cmd: string, args: string[], log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', `${cmd} "$@"`, 'notify', ...args], { stdio: 'ignore' });
    c.once('error', (e) => {
      log.error({ cmd, err: e.message }, 'notify script could not run');
      resolve();
    });
    c.once('exit', (code) => {
      if (code !== 0) log.warn({ cmd, code }, 'notify script failed');
      resolve();
    });
  });
}

function linkUp(iface: string): boolean {
  try {
    const s = readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim();
    return s === 'up' || s === 'unknown';
  } catch {
    return false;
  }
}

/** Runs a vrrp_script once: true when it exits 0 within its timeout (default: its interval). */
function checkScript(s: VrrpScriptConfig): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', s.script ?? 'false'], { stdio: 'ignore', detached: true });
    const t = setTimeout(() => {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch { /* gone */ }
      resolve(false);
    }, (s.timeoutS || s.intervalS) * 1000);
    c.once('error', () => { clearTimeout(t); resolve(false); });
    c.once('exit', (code) => { clearTimeout(t); resolve(code === 0); });
  });
}

/**
 * track_interface (link state, polled every 500 ms) and track_script (each vrrp_script run at its
 * interval, rise/fall): the instance's priority and FAULT. Returns the function that stops it.
 */
export function startTracking(inst: VrrpInstanceConfig, scripts: readonly VrrpScriptConfig[], node: VrrpNode, log: Logger): () => void {
  if (inst.trackInterfaces.length === 0 && inst.trackScripts.length === 0) return () => undefined;
  const states = new Map<string, ScriptState>();
  const timers: NodeJS.Timeout[] = [];
  const items = (): TrackedItem[] => [
    ...inst.trackInterfaces.map((t) => ({ name: `interface ${t.name}`, weight: t.weight, up: linkUp(t.name) })),
    ...inst.trackScripts.map((t) => {
      const sc = scripts.find((x) => x.name === t.name);
      return { name: `script ${t.name}`, weight: t.weight || sc?.weight || 0, up: states.get(t.name)?.up ?? true };
    }),
  ];
  const update = () => {
    const r = trackedPriority(inst.priority, items());
    node.track(r.priority, r.fault);
  };
  for (const t of inst.trackScripts) {
    const sc = scripts.find((x) => x.name === t.name);
    if (!sc) continue;
    const st = new ScriptState(sc.rise, sc.fall);
    states.set(t.name, st);
    let running = false;
    timers.push(setInterval(() => {
      if (running) return;
      running = true;
      void checkScript(sc).then((ok) => {
        running = false;
        if (st.result(ok)) {
          log.info({ script: sc.name, up: st.up }, `vrrp_script ${sc.name} ${st.up ? 'succeeds' : 'fails'}`);
          update();
        }
      });
    }, sc.intervalS * 1000));
  }
  timers.push(setInterval(update, 500));
  update();
  return () => timers.forEach((t) => clearInterval(t));
}

export async function startVrrp(inst: VrrpInstanceConfig, director: Director, log: Logger, o: VrrpRunOptions): Promise<VrrpNode> {
  const here = ifaceAddress(o.iface);
  const self = inst.unicastSrcIp ?? here.address;
  const suppressions: ArpSuppression[] = o.arpSuppression === 'none' ? [] : inst.vips.map((v) => ({
    style: o.arpSuppression as 'arptables' | 'nft', dialect: 'netfilter', vip: ipToString(v.address), rip: ipToString(here.address), iface: o.iface,
  }));
  if (suppressions[0]) await checkArpSuppressionTool(suppressions[0]);
  const transport = openVrrpSocket({
    iface: o.iface, ifindex: here.ifindex, self, ah: inst.version === 2 && inst.auth?.type === 'AH',
    multicast: inst.unicastPeers.length === 0, onError: (e) => log.warn({ err: e.message }, 'VRRP socket error'),
  });
  const notify = async (state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP') => {
    const script = state === 'MASTER' ? inst.notifyMaster : state === 'BACKUP' ? inst.notifyBackup : state === 'FAULT' ? inst.notifyFault : inst.notifyStop;
    if (script) await runScript(script, [], log);
    if (inst.notify) await runScript(inst.notify, ['INSTANCE', inst.name, state, String(node.router.priority)], log);
  };
  // keepalived's second burst of gratuitous ARP garp_master_delay s after becoming MASTER, and one
  // every garp_master_refresh s while MASTER (the packet path's announce: --garp pairs).
  const garpTimers: NodeJS.Timeout[] = [];
  const announce = () => {
    if (node.router.state === 'master') void director.request({ op: 'announce' }).catch(() => undefined);
  };
  const stopGarp = () => garpTimers.splice(0).forEach((t) => clearTimeout(t));
  const node: VrrpNode = new VrrpNode({ instance: inst, self, prefix: here.prefix }, {
    transport, clock: systemClock, log,
    resources: {
      cleanup: async () => {
        await director.request({ op: 'setActive', active: false });
        for (const s of suppressions) await applyArpSuppression(s);
      },
      takeover: async () => {
        await director.request({ op: 'setActive', active: true });
        for (const s of suppressions) await removeArpSuppression(s);
        stopGarp();
        if (inst.garpMasterDelayS > 0) garpTimers.push(setTimeout(announce, inst.garpMasterDelayS * 1000));
        if (inst.garpMasterRefreshS > 0) garpTimers.push(setInterval(announce, inst.garpMasterRefreshS * 1000));
      },
      giveup: async () => {
        stopGarp();
        await director.request({ op: 'setActive', active: false }).catch((e: Error) => log.error({ err: e.message }, 'could not make the packet path inactive'));
        for (const s of suppressions) await applyArpSuppression(s);
      },
      notify,
    },
  });
  await node.start();
  log.info({
    instance: inst.name, vrid: inst.vrid, version: inst.version, priority: inst.priority, advertIntMs: inst.advertIntCs * 10,
    self: ipToString(self), vips: inst.vips.map((v) => ipToString(v.address)),
  }, 'VRRP instance started');
  return node;
}
