/**
 * dsrlb ha --config-dir DIR [--node NAME] [--iface IF]     one node of a failover pair
 * dsrlb ha status [--control PATH] [--json]                 what the running node says
 *
 * Reads heartbeat's /etc/ha.d layout from DIR (ha.cf, haresources, authkeys — which must be mode
 * 600 — and the ldirectord resource's file, relative names looked up in DIR) and runs:
 *   - the live director (engine Director) started standby: the packet path is up but neither
 *     answers ARP for the VIP nor forwards, so takeover is one message away;
 *   - the heartbeat node (engine HaNode) over UDP, whose takeover lifts this host's ARP suppression
 *     for the VIP (the seed's arptables rules) and makes the director active (it answers ARP for the
 *     VIP and sends gratuitous ARP, IPaddr's way), and whose giveup undoes it in reverse;
 *   - a guard process that restores this host as a plain real server (suppression back, ingress
 *     drop gone) if this process dies without cleaning up (SIGKILL, crash);
 *   - a control socket answering haStatus and the director's snapshot.
 * SIGTERM / SIGINT: orderly giveup (the peer is told first), then everything is undone.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  checkAuthkeysMode, loadLdirectordConfig, parseAuthkeys, parseHaCf, parseHaResources, resolveHaSetup,
  type ConfigWarning, type HaSetup, type LdirectordConfig,
} from '../../config/index.ts';
import { Director, HaNode, services6FromConfig, servicesFromConfig, type HaStatus, type Service6WithReals, type ServiceWithReals } from '../../engine/index.ts';
import { ConfigError, ConfigErrors, DsrlbError } from '../../errors/index.ts';
import {
  CONTROL_DIR, controlRequest, createHeartbeatLogger, precheckControlPath, type LoggerHandle, hostNetControl, ingressTableName, netnsId, openHaUdp, runPreflight, serveControl, systemClock,
} from '../../io/index.ts';
import { decodeSyncBatch, syncDelta, type SyncState } from '../../ha/index.ts';
import { ipToString, ipv6ToString } from '../../model/index.ts';
import type { ArptablesDialect } from '../../testbed/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';
import { defaultIoBackend, parseWorkers, workerPacketPath } from '../packet-path.ts';
import { parseSysctls } from '../sysctl.ts';
import { haConsoleView, startConsole, type ConsoleHandle } from '../console.ts';
import { ServiceNotify } from '../service-notify.ts';
import type { Logger } from '../../ports/index.ts';
import { applyArpSuppression, applyCommands, checkArpSuppressionTool, removeArpSuppression, type ArpSuppression } from './arp-rules.ts';

const HELP = `Usage: dsrlb ha --config-dir DIR [--node NAME] [--iface IF] [options]
       dsrlb ha status [--control PATH] [--json]

  --config-dir DIR      heartbeat's directory: ha.cf, haresources, authkeys (mode 600), ldirectord.cf
  --node NAME           this node's name in ha.cf (default: uname -n, which network namespaces share)
  --iface IF            the director's interface (default: the IPaddr resource's, else the first medium's)
  --arp-suppression S   arptables (default), nft or none: how this host hides the VIP when not active
  --arptables-dialect D netfilter (default: INPUT/OUTPUT, Debian's arptables) or jf (IN/OUT, the seed's)
  --garp N,MS           gratuitous ARP on takeover: N pairs MS apart (default 5,200: IPaddr2's)
  --control PATH        control socket (default /run/dsrlb/net<netns>-ha.sock), mode 0600
  --control-group NAME  let group NAME query it too (socket mode 0660, that group)
  --sysctl N=V          IPVS switches for the packet path (sloppy_tcp=1 with sh/mh lets flows survive a failover)
  --no-conn-sync        do not synchronise connections to the standby (IPVS sync daemon style; on by default)
  --sync-interval MS    how often the active node sends new and changed connections (default 200)
  --buffer-size BYTES   capture ring size (default 33554432)
  --workers N           packet worker processes in one PACKET_FANOUT group (default 1; ring backend
                        only); each exports its connections to the peer (docs/design/workers.md)
  --http ADDR           the live web console at http://ADDR/ (PORT or :PORT bind 127.0.0.1): both
                        nodes' states, who holds the VIP, the last failovers (docs/console.md)
  --http-token FILE     allow changes from the console (weight, quiesce, restore) with this token
  --foreground          log to stdout (JSON lines), whatever ha.cf's logfacility/logfile/debugfile say
  --log-level LEVEL     pino level (default info; debug when ha.cf names a debugfile)

Logs go where heartbeat sends them: syslog facility logfacility (unless "none"), the logfile, and
the debugfile with the debug records too; stdout when ha.cf names none of them.
SIGHUP reopens the log files (after logrotate); the configuration is not re-read.`;

export function defaultHaControlPath(): string {
  return join(CONTROL_DIR, `net${netnsId()}-ha.sock`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigErrors([new ConfigError(code === 'ENOENT' ? 'E_CONFIG_NOT_FOUND' : 'E_CONFIG_READ', path, 0, code === 'ENOENT' ? 'no such file' : `cannot read: ${code}`)]);
  }
}

/** Reads and checks DIR/ha.cf, DIR/haresources, DIR/authkeys (mode 600) for node `self`. */
export function loadHaDir(dir: string, self: string): { setup: HaSetup; warnings: ConfigWarning[] } {
  const hacf = parseHaCf(readText(join(dir, 'ha.cf')), join(dir, 'ha.cf'));
  const res = parseHaResources(readText(join(dir, 'haresources')), join(dir, 'haresources'));
  const authPath = join(dir, 'authkeys');
  const authText = readText(authPath);
  checkAuthkeysMode(statSync(authPath).mode, authPath);
  const auth = parseAuthkeys(authText, authPath);
  return { setup: resolveHaSetup(hacf, res, auth, self), warnings: [...hacf.warnings, ...res.warnings, ...auth.warnings] };
}

/**
 * A separate process holding a pipe from this one: when the pipe closes (this process was killed
 * or crashed), it runs the commands that make the host a plain real server again. Bounded: every
 * command has a timeout, then the guard exits. A clean stop disarms it by killing it (its PID,
 * synchronously), so that no clean-up can run late over a node started again meanwhile.
 */
function startGuard(cmds: Array<{ argv: string[]; input?: string }>): { disarm: () => void } {
  const script = `
const { execFileSync } = require('node:child_process');
const cmds = JSON.parse(process.argv[1]);
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  for (const c of cmds) {
    try { execFileSync(c.argv[0], c.argv.slice(1), { timeout: 5000, stdio: ['pipe', 'ignore', 'ignore'], input: c.input ?? '' }); } catch {}
  }
  process.exit(0);
});`;
  // The last argument only names the guard in ps: whose guard it is.
  const child = spawn(process.execPath, ['-e', script, JSON.stringify(cmds), `dsrlb-ha-guard:${process.pid}`], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    disarm() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function fmtStatus(s: HaStatus & { director?: { active: boolean; forwarded: number; arpReplies: number } | null }): string {
  const c = s.counters;
  const lines = [
    `node ${s.self}: ${s.role}${s.busy ? ' (resource action running)' : ''}   preferred ${s.preferred}${s.preferred === s.self ? ' (this node)' : ''}, auto_failback ${s.autoFailback}`,
    `peer ${s.peer}: ${s.peerHeard ? `${s.peerDead ? 'DEAD, ' : ''}${s.peerState}, last heartbeat ${s.lastHeartbeatAgoMs} ms ago, generation ${s.peerGeneration}` : 'never heard'}`,
    `timers: keepalive ${s.timers.keepaliveMs} ms, warntime ${s.timers.warntimeMs} ms, deadtime ${s.timers.deadtimeMs} ms, initdead ${s.timers.initdeadMs} ms`,
    `heartbeats: sent ${c.sent}, received ${c.received}, accepted ${c.accepted}; ignored: malformed ${c.malformed}, forged ${c.forged}, replayed ${c.replayed}, foreign ${c.foreign}; duplicates ${c.duplicates}`,
    `takeovers ${c.takeovers}, giveups ${c.giveups}, split brains ${c.splitBrains}, resource errors ${c.resourceErrors}`,
    `connection sync: sent ${c.syncConnsSent} in ${c.syncMessagesSent} messages, received ${c.syncConnsReceived} in ${c.syncMessagesReceived}`,
  ];
  if (s.director) lines.push(`director: ${s.director.active ? 'active' : 'standby'}, forwarded ${s.director.forwarded}, ARP replies ${s.director.arpReplies}`);
  for (const h of s.history.slice(-5)) lines.push(`  ${(h.agoMs / 1000).toFixed(1)} s ago: ${h.from} -> ${h.to} (${h.transition})`);
  return lines.join('\n');
}

async function status(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { control: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const s = (await controlRequest(values.control ?? defaultHaControlPath(), { op: 'haStatus' })) as Parameters<typeof fmtStatus>[0];
  io.out(values.json ? JSON.stringify(s, null, 2) : fmtStatus(s));
  return 0;
}

/**
 * Connection sync, both directions: the active node sends the connections new or changed since
 * the last round every intervalMs (everything again every 5 s, and when the peer restarted, as
 * IPVS refreshes); whatever arrives from the peer goes into this node's table. flush() sends every
 * live connection at once: the giveup calls it first, so the peer taking over knows them all.
 */
function startConnSync(node: HaNode, director: Director, intervalMs: number, log: Logger): { stop: () => void; flush: () => Promise<void> } {
  node.onSync = (conns) => {
    director.request({ op: 'syncImport', conns }).catch((e: Error) => log.warn({ err: e.message }, 'connection sync import failed'));
  };
  const sent = new Map<string, SyncState>();
  let busy = false;
  let lastFull = Date.now();
  let peerGen: number | null = null;
  const stop = systemClock.every(intervalMs, () => {
    const st = node.status();
    if (node.role !== 'active' || st.peerDead || !st.peerHeard) {
      sent.clear();
      return;
    }
    if (busy) return;
    if (st.peerGeneration !== peerGen || Date.now() - lastFull >= 5000) {
      peerGen = st.peerGeneration;
      lastFull = Date.now();
      sent.clear();
    }
    busy = true;
    director.request({ op: 'syncExport' }).then((snap) => {
      const conns = decodeSyncBatch(snap?.sync ?? '', Infinity) ?? [];
      for (const b of syncDelta(conns, sent)) node.sendSync(b);
    }, () => {}).finally(() => {
      busy = false;
    });
  });
  const flush = async () => {
    const snap = await director.request({ op: 'syncExport' }, 1000);
    const conns = decodeSyncBatch(snap?.sync ?? '', Infinity) ?? [];
    for (const b of syncDelta(conns, new Map())) node.sendSync(b);
  };
  return { stop, flush };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (argv[0] === 'status') return status(argv.slice(1), io);
  // The log targets are released however the node ends (a syslog logger child would keep it alive).
  const opened: LoggerHandle[] = [];
  try {
    return await runNode(argv, io, opened);
  } finally {
    for (const l of opened) await l.close();
  }
}

async function runNode(argv: string[], io: CliIO, opened: LoggerHandle[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    'config-dir': { type: 'string' },
    node: { type: 'string' },
    iface: { type: 'string' },
    'arp-suppression': { type: 'string' },
    'arptables-dialect': { type: 'string' },
    garp: { type: 'string' },
    control: { type: 'string' },
    'control-group': { type: 'string' },
    sysctl: { type: 'string', multiple: true },
    'buffer-size': { type: 'string' },
    workers: { type: 'string' },
    'log-level': { type: 'string' },
    foreground: { type: 'boolean' },
    'no-conn-sync': { type: 'boolean' },
    'sync-interval': { type: 'string' },
    http: { type: 'string' },
    'http-token': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const syncMs = values['sync-interval'] === undefined ? 200 : Number(values['sync-interval']);
  if (!Number.isInteger(syncMs) || syncMs < 10) throw new DsrlbError('E_USAGE', `--sync-interval: ${values['sync-interval']} is not a number of ms >= 10`);
  if (values['http-token'] && !values.http) throw new DsrlbError('E_USAGE', '--http-token needs --http');
  const dir = values['config-dir'];
  if (!dir) throw new DsrlbError('E_USAGE', `--config-dir is required\n\n${HELP}`);
  const self = values.node ?? hostname();
  const arpStyle = values['arp-suppression'] ?? 'arptables';
  if (!['arptables', 'nft', 'none'].includes(arpStyle)) throw new DsrlbError('E_USAGE', `--arp-suppression: arptables, nft or none, not ${arpStyle}`);
  const dialect = (values['arptables-dialect'] ?? 'netfilter') as ArptablesDialect;
  if (dialect !== 'jf' && dialect !== 'netfilter') throw new DsrlbError('E_USAGE', `--arptables-dialect: jf or netfilter, not ${dialect}`);
  let garp = { count: 5, intervalMs: 200 };
  if (values.garp !== undefined) {
    const m = /^(\d+),(\d+)$/.exec(values.garp);
    if (!m || Number(m[1]) < 1) throw new DsrlbError('E_USAGE', `--garp: expected N,MS with N >= 1, not "${values.garp}"`);
    garp = { count: Number(m[1]), intervalMs: Number(m[2]) };
  }
  const bufferSize = values['buffer-size'] ? Number(values['buffer-size']) : 32 << 20;
  if (!Number.isInteger(bufferSize) || bufferSize < 65536) throw new DsrlbError('E_USAGE', `--buffer-size: ${values['buffer-size']} is not a byte count >= 65536`);
  const workers = parseWorkers(values.workers, defaultIoBackend());
  const sysctls = parseSysctls(values.sysctl ?? []);

  await precheckControlPath(values.control ?? defaultHaControlPath(), values['control-group'] ?? null);
  const { setup, warnings } = loadHaDir(dir, self);
  const hacf = setup.hacf;
  const iface = values.iface ?? setup.ips.find((r) => r.iface)?.iface ?? setup.ips6.find((r) => r.iface)?.iface ?? hacf.media[0]?.iface ?? 'eth0';
  const logging = createHeartbeatLogger({
    level: values['log-level'], base: { node: self, iface }, foreground: values.foreground === true,
    logfacility: hacf.logfacility, logfile: hacf.logfile, debugfile: hacf.debugfile,
  });
  opened.push(logging);
  const log = logging.log;
  // Under systemd (Type=notify): fails here, before anything starts, if the notifier cannot load.
  const service = new ServiceNotify(log);
  for (const w of warnings) log.warn({ file: w.file, line: w.line, code: w.code }, w.message);

  let services: ServiceWithReals[] = [];
  let services6: Service6WithReals[] = [];
  let ldCfg: LdirectordConfig | null = null;
  if (setup.ldirectord !== null) {
    const path = isAbsolute(setup.ldirectord) ? setup.ldirectord : join(dir, setup.ldirectord);
    const cfg = loadLdirectordConfig(path);
    ldCfg = cfg;
    for (const w of cfg.warnings) log.warn({ file: cfg.file, line: w.line, code: w.code }, w.message);
    services = servicesFromConfig(cfg);
    services6 = services6FromConfig(cfg);
  } else {
    log.warn({}, 'no ldirectord resource in haresources: no virtual service, the VIP is not answered for');
  }
  // An IPv6addr resource moves with the group: the active node answers Neighbor Solicitations for
  // it and sends unsolicited Neighbor Advertisements on takeover, in the same setActive as the ARP.
  // No kernel rule changes: Linux answers no NS for a VIP6 held on lo (docs/arp-problem.md).
  const vips6 = setup.ips6.map((r) => r.addr6);
  const serviceVips6 = new Set(services6.map((s) => ipv6ToString(s.spec.vip6)));
  for (const v of vips6) if (!serviceVips6.has(v)) log.warn({ vip6: v }, 'IPv6addr resource without a virtual6 service in the ldirectord file: dsrlb answers NDP only for service VIP6s');
  const vips = setup.ips.map((r) => r.addr);
  const serviceVips = new Set(services.map((s) => s.spec.vip));
  for (const v of vips) if (!serviceVips.has(v)) log.warn({ vip: ipToString(v) }, 'IP resource without a virtual service in the ldirectord file: dsrlb answers ARP only for service VIPs');

  const rip = hostNetControl.addressOn(iface);
  if (rip === null) throw new DsrlbError('E_HA_IFACE', `${iface} has no IPv4 address`);
  const suppressions: ArpSuppression[] = arpStyle === 'none' ? [] : vips.map((v) => ({
    style: arpStyle as 'arptables' | 'nft', dialect, vip: ipToString(v), rip: ipToString(rip), iface,
  }));

  if (suppressions[0]) await checkArpSuppressionTool(suppressions[0]);
  const findings = await runPreflight({ iface, bufferSize });
  let fatal = false;
  for (const f of findings) {
    if (f.severity === 'error') fatal = true;
    if (f.severity !== 'info') io.err(`${f.severity}: ${f.code}: ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ''}`);
  }
  if (fatal) return 1;

  // The guard first: from here on, a kill leaves the host a plain real server.
  const guard = startGuard([
    { argv: ['nft', '-f', '-'], input: `add table netdev ${ingressTableName(iface)}\ndelete table netdev ${ingressTableName(iface)}\n` },
    ...suppressions.flatMap((s) => applyCommands(s).map((c) => ({ argv: c.argv }))),
  ]);

  const director = new Director({ net: hostNetControl, startPacketPath: workerPacketPath({ workers }), log });
  try {
    await director.start({ iface, services, services6, bufferSize, garp, sysctls, active: false });
  } catch (e) {
    guard.disarm();
    throw e;
  }
  const suppress = async () => {
    for (const s of suppressions) await applyArpSuppression(s);
  };
  const lift = async () => {
    for (const s of suppressions) await removeArpSuppression(s);
  };
  let transport;
  try {
    transport = await openHaUdp({ udpport: hacf.udpport, media: hacf.media, localAddrs: hostNetControl.localAddresses() });
  } catch (e) {
    await director.stop();
    guard.disarm();
    throw e;
  }
  let sync: ReturnType<typeof startConnSync> | null = null;
  const node = new HaNode(
    {
      self, peer: setup.peer, preferred: setup.preferred, autoFailback: hacf.autoFailback,
      keepaliveMs: hacf.keepaliveMs, deadtimeMs: hacf.deadtimeMs, warntimeMs: hacf.warntimeMs, initdeadMs: hacf.initdeadMs,
      signKey: setup.auth.active, keys: setup.auth.keys, generation: Date.now(),
    },
    {
      transport, clock: systemClock, log,
      resources: {
        // Start-up: standby first, and whatever a crash left (suppression lifted) put back.
        cleanup: async () => {
          await director.request({ op: 'setActive', active: false }).catch((e: Error) => log.error({ err: e.message }, 'could not make the packet path inactive'));
          await suppress();
        },
        // haresources order: the address and the director in one setActive (dsrlb answers ARP for
        // the VIP in userspace and announces it; the packet path forwards), then this host's ARP
        // suppression is lifted (the seed's local_takeip). Activating first keeps the arptables
        // commands (tens of ms) out of the takeover time: the capture sees ARP before arptables.
        takeover: async () => {
          await director.request({ op: 'setActive', active: true });
          await lift();
        },
        // This node lets go at once, then the peer gets every live connection (the table stays
        // when inactive). At once: while this node's path forwards, it also takes the frames the
        // new director sends it as a real server (they carry the VIP and this host's MAC just
        // the same) and would schedule them again.
        // Every step is tried even when one fails (a dead packet path must not keep the
        // suppression off).
        giveup: async () => {
          await director.request({ op: 'setActive', active: false }).catch((e: Error) => log.error({ err: e.message }, 'could not make the packet path inactive'));
          if (sync) await sync.flush().catch((e: Error) => log.warn({ err: e.message }, 'connection sync flush failed'));
          await suppress();
        },
        reannounce: async () => {
          await director.request({ op: 'announce' });
        },
      },
    },
  );
  const roleStatus = (role: string) => `node ${self}: ${role}${role === 'active' ? ` (serving ${[...vips.map(ipToString), ...vips6].join(', ')})` : ''}; peer ${setup.peer}`;
  let web: ConsoleHandle | null = null;
  const failovers: Array<{ at: number; from: string; to: string; reason: string }> = [];
  let lastRole: string = node.role;
  node.onRole = (role) => {
    log.info({ role, at: Date.now() }, `ha role ${role}`);
    const st = node.status();
    const reason = node.lastActionReason ?? st.history[st.history.length - 1]?.transition ?? '';
    // A failover: this node takes the VIP or lets it go; other role changes (start, stop) are news only.
    const failover = lastRole === 'active' || role === 'active';
    if (failover) failovers.push({ at: Date.now(), from: lastRole, to: role, reason });
    if (failovers.length > 20) failovers.shift();
    web?.event(failover ? 'failover' : 'info', `${self}: ${lastRole} → ${role} (${reason})`);
    lastRole = role;
    service.status(roleStatus(role));
  };
  await node.start();
  if (!values['no-conn-sync']) sync = startConnSync(node, director, syncMs, log);

  const controlPath = values.control ?? defaultHaControlPath();
  let server: Server | null = null;
  try {
    server = await serveControl(controlPath, async (req) => {
      if (req.op === 'haStatus') {
        let d: { active: boolean; forwarded: number; arpReplies: number } | null = null;
        try {
          const snap = await director.snapshot();
          d = { active: snap.active, forwarded: snap.forwarded, arpReplies: snap.arpReplies };
        } catch {
          d = null;
        }
        return { ...node.status(), director: d };
      }
      if (req.op === 'snapshot') return director.request({ op: 'snapshot', conns: req.conns === true });
      throw new DsrlbError('E_CONTROL_REQUEST', `unknown request ${JSON.stringify(req.op)} (haStatus, snapshot)`);
    }, { group: values['control-group'] ?? null, onStale: (p) => log.info({ path: p }, 'removed a stale control socket (its process is gone)') });
  } catch (e) {
    await node.stop();
    await director.stop();
    guard.disarm();
    if (e instanceof DsrlbError && ['E_CONTROL_DIR_UNSAFE', 'E_CONTROL_IN_USE', 'E_CONTROL_GROUP'].includes(e.code)) throw e;
    throw new DsrlbError('E_CONTROL_SOCKET', `cannot serve the control socket ${controlPath}: ${(e as Error).message}`);
  }
  if (values.http) {
    try {
      web = await startConsole({
        addr: values.http, tokenFile: values['http-token'], mode: 'ha', director, log,
        config: () => ldCfg,
        ha: () => haConsoleView(node.status(), failovers),
      });
    } catch (e) {
      server?.close();
      await node.stop();
      await director.stop();
      guard.disarm();
      throw e;
    }
  }
  log.info({
    control: controlPath, peer: setup.peer, preferred: setup.preferred, vips: [...vips.map(ipToString), ...vips6], services: services.length + services6.length, pid: process.pid, log: logging.describe,
    console: web ? `http://${web.server.address.host}:${web.server.address.port}/` : null,
  }, 'ha node ready');
  // READY=1: the packet path answers (standby or active) and heartbeats run. The VIP is served only
  // by the active node; STATUS= says which role this node has, and follows every change.
  if (service.enabled) {
    const answers = async (timeoutMs: number) => (await director.request({ op: 'snapshot' }, timeoutMs)) !== undefined;
    if (await answers(5000).catch(() => false)) service.ready(roleStatus(node.role));
    else log.error({}, 'the packet path does not answer: READY=1 not sent');
    service.startWatchdog(answers);
  }
  const onHup = () => {
    void service.reloading(async () => {
      logging.reopen();
      log.info({}, 'SIGHUP: log files reopened (the configuration is not re-read: restart the node to change it)');
    }, () => roleStatus(node.role));
  };
  process.on('SIGHUP', onHup);

  return await new Promise<number>((resolve) => {
    let done = false;
    const finish = async (code: number, why: string) => {
      if (done) return;
      done = true;
      log.info({ why }, 'stopping');
      service.stopping(why);
      process.off('SIGHUP', onHup);
      server?.close();
      await web?.stop();
      sync?.stop();
      // Giveup to the peer at once; the connections follow a few ms later (the giveup flushes
      // them), rather than delaying the takeover by a table walk.
      await node.stop();
      await director.stop();
      guard.disarm();
      log.info({}, 'stopped');
      resolve(code);
    };
    process.once('SIGINT', () => void finish(0, 'SIGINT'));
    process.once('SIGTERM', () => void finish(0, 'SIGTERM'));
    director.onExit = (why) => void finish(1, `packet path ended: ${why}`);
  });
}
