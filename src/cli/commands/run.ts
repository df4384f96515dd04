/**
 * dsrlb run [--config ldirectord.cf] --iface IF
 *
 * Runs a live director on IF for the virtual services of an ldirectord.cf: start-up checks, the
 * packet path in its own process, ldirectord's health checks and reloads (cli/control-plane.ts), the
 * control socket; SIGHUP re-reads the file; SIGINT/SIGTERM stop it cleanly (ingress drop and local
 * path removed). Logs go where ldirectord's logfile= says (a file, or a syslog facility) unless
 * --foreground or supervised=yes; --metrics serves Prometheus metrics; the control socket also
 * answers {op:'rate'}, the kernel estimator's rates over 2 s samples (dsrlb ipvsadm --rate).
 */
import type { Server } from 'node:net';
import type { LdirectordConfig } from '../../config/index.ts';
import { Director, services6FromConfig, servicesFromConfig, type Service6WithReals, type ServiceWithReals } from '../../engine/index.ts';
import { DsrlbError, isDsrlbError } from '../../errors/index.ts';
import {
  createLogger, defaultControlPath, fixOffloads, hostNetControl, precheckControlPath, ringAvailable, runPreflight, serveControl, startMetricsServer, type MetricsServer,
} from '../../io/index.ts';
import type { PacketIoOptions } from '../../ports/index.ts';
import { describeControlChange, ESTIMATOR_PERIOD_MS, RateEstimator, type RealHealth } from '../../obs/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';
import { ControlPlane, loadCheckedConfig, loadCheckedKeepalived } from '../control-plane.ts';
import { pickInstance, startTracking, startVrrp } from '../vrrp-run.ts';
import type { KeepalivedConfig } from '../../config/index.ts';
import type { VrrpNode } from '../../engine/index.ts';
import { defaultIoBackend, parseWorkers, workerPacketPath } from '../packet-path.ts';
import { parseSysctls } from '../sysctl.ts';
import { startConsole, type ConsoleHandle } from '../console.ts';
import { DropWatch, ioSummary } from '../io-status.ts';
import { ServiceNotify } from '../service-notify.ts';
import { bgpOptionsFrom, startBgp, type BgpHandle } from '../bgp.ts';
import { parseSyncOptions, startSync, syncStatusOf, type SyncHandle } from '../peer-sync.ts';

/** Requests the control socket passes to the packet path (see engine/protocol.ts ToPacket). */
const CONTROL_OPS = new Set(['snapshot', 'setActive', 'addService', 'editService', 'deleteService', 'addReal', 'editReal', 'deleteReal', 'flush', 'zero',
  'addService6', 'addReal6']);

const HELP = `Usage: dsrlb run [--config FILE] --iface IF [options]

  --config FILE        ldirectord.cf with the virtual services (without it: an empty table,
                       managed at run time through the control socket, as with the kernel's ipvsadm)
  --keepalived-conf FILE  a keepalived.conf instead: its virtual_servers (see docs/keepalived.md)
  --config-id ID       keepalived's -i ID (which @ID lines of the keepalived.conf apply)
                       With a vrrp_instance on IF, dsrlb is that VRRP router too, and the VIP is
                       served only while MASTER (docs/keepalived.md)
  --arp-suppression S  with VRRP: arptables, nft or none (default): this host's ARP suppression of
                       the VIP, lifted while MASTER (as dsrlb ha does)
  --iface IF           the interface the VIP traffic arrives on (the director's wire interface)
  --fix-offloads       turn off GRO/LRO/TSO/GSO/tx checksum on IF (they break capture and re-send)
  --control PATH       control socket (default /run/dsrlb/net<netns>-<IF>.sock), mode 0600
  --control-group NAME let group NAME steer the director too (socket mode 0660, that group)
  --buffer-size BYTES  capture ring size (default 33554432)
  --io ring|pcap       frame I/O: dsrlb's packet ring (RX+TX rings, batches, kernel drop counters;
                       the default when its addon is built) or libpcap (npm cap); without --io,
                       the environment variable DSRLB_IO=ring|pcap chooses
  --busy-poll-us N     ring: after a batch keep reading for up to N µs before sleeping (default 0;
                       lower latency for a core spent polling)
  --ring-frames N      ring: RX slots of 2048 bytes (default: buffer size / 2048)
  --ring-version 2|3   ring: TPACKET version of the RX ring (default 2; 3 adds up to 1 ms latency)
  --qdisc-bypass       ring: send past the qdisc layer (PACKET_QDISC_BYPASS)
  --workers N          packet worker processes sharing the frames by PACKET_FANOUT (default 1;
                       more than one needs the ring backend; see docs/design/workers.md)
  --conn-capacity N    connection table size, entries (default 1048576; 100 bytes each, allocated
                       at start; a table sized to the expected flows is faster: fewer cache misses)
  --garp N,MS          gratuitous ARP at start: N request+reply pairs, MS apart (default 10,500; 0 = none)
  --sysctl N=V         IPVS switches: sloppy_tcp, expire_nodest_conn, expire_quiescent_template, conn_reuse_mode
  --no-icmp-forward    do not send ICMP errors about a connection on to its real (IPVS does; this
                       exists to show what breaks without it: path MTU discovery through DSR)
  --no-local           do not serve flows scheduled to this host's own address through the local veth path
  --metrics ADDR       serve Prometheus metrics at http://ADDR/metrics (PORT, :PORT, HOST:PORT)
  --http ADDR          the live web console at http://ADDR/ (PORT or :PORT bind 127.0.0.1), with
                       /metrics on the same server (docs/console.md)
  --http-token FILE    allow changes from the console (weight, quiesce, restore) to requests bearing
                       the token on FILE's first line; without it the console only reads
  --foreground         log to stdout (JSON lines; human lines on a terminal), whatever logfile= says
  --logfile TARGET     log to a file (/path) or a syslog facility (local0 …), overriding logfile=
                       (default: the config's logfile=, as ldirectord does; stdout without --config)
  --log-level LEVEL    pino level (default info)
  --bgp K=V,…          ECMP mode: announce the VIPs over BGP through BIRD while they can be served
                       (local-as=, peer=, peer-as=, local=, hold=S, bfd=on|off, bfd-interval=MS,
                       bfd-multiplier=N, community=A:B); no ARP answered or sent for the VIPs
                       (docs/scale-out.md)
  --bgp-config FILE    the same settings from a file, one key=value a line
  --sync-peer ADDR[:PORT]  connection sync with another active director (repeat for each; port
                       8848 by default): each sends the flows it forwards, each enters the others'
                       in its table, so a flow the router moves keeps its real (docs/scale-out.md)
  --sync-listen ADDR[:PORT]  where the peers' sync datagrams arrive (default: IF's address, 8848)
  --sync-interval MS   how often new and changed flows go out (default 200; all again every 5 s)`;

/** --io and the ring's options; the default backend is the ring when its addon loads. */
export function parseIoOptions(v: { io?: string; 'busy-poll-us'?: string; 'ring-frames'?: string; 'ring-version'?: string; 'qdisc-bypass'?: boolean }, haveRing = ringAvailable): PacketIoOptions {
  const backend = v.io ?? defaultIoBackend(process.env, haveRing);
  if (backend !== 'ring' && backend !== 'pcap') throw new DsrlbError('E_USAGE', `--io: expected ring or pcap, not "${backend}"`);
  const int = (name: string, s: string | undefined, min: number, max: number): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < min || n > max) throw new DsrlbError('E_USAGE', `--${name}: ${s} is not an integer from ${min} to ${max}`);
    return n;
  };
  const busyPollUs = int('busy-poll-us', v['busy-poll-us'], 0, 1_000_000);
  const ringFrames = int('ring-frames', v['ring-frames'], 64, 1 << 20);
  const ringVersion = int('ring-version', v['ring-version'], 2, 3) as 2 | 3 | undefined;
  if (backend === 'pcap' && (busyPollUs || ringFrames || ringVersion || v['qdisc-bypass'])) {
    throw new DsrlbError('E_USAGE', '--busy-poll-us, --ring-frames, --ring-version and --qdisc-bypass need --io ring');
  }
  if (backend === 'ring' && v.io === 'ring' && !haveRing()) {
    // Said now, with the fix, rather than by the packet worker later.
    throw new DsrlbError('E_RING_LOAD', 'the packet-ring addon is not built: run `npm run build:native` (or `npm run setup`), or use --io pcap');
  }
  return {
    backend,
    ...(busyPollUs !== undefined ? { busyPollUs } : {}),
    ...(ringFrames !== undefined ? { ringFrames } : {}),
    ...(ringVersion !== undefined ? { ringVersion } : {}),
    ...(v['qdisc-bypass'] ? { qdiscBypass: true } : {}),
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    'keepalived-conf': { type: 'string' },
    'config-id': { type: 'string' },
    'arp-suppression': { type: 'string' },
    iface: { type: 'string' },
    'fix-offloads': { type: 'boolean' },
    control: { type: 'string' },
    'control-group': { type: 'string' },
    'buffer-size': { type: 'string' },
    io: { type: 'string' },
    'busy-poll-us': { type: 'string' },
    'ring-frames': { type: 'string' },
    'ring-version': { type: 'string' },
    'qdisc-bypass': { type: 'boolean' },
    'conn-capacity': { type: 'string' },
    workers: { type: 'string' },
    garp: { type: 'string' },
    sysctl: { type: 'string', multiple: true },
    'no-local': { type: 'boolean' },
    'no-icmp-forward': { type: 'boolean' },
    metrics: { type: 'string' },
    http: { type: 'string' },
    'http-token': { type: 'string' },
    foreground: { type: 'boolean' },
    logfile: { type: 'string' },
    'log-level': { type: 'string' },
    bgp: { type: 'string' },
    'bgp-config': { type: 'string' },
    'sync-peer': { type: 'string', multiple: true },
    'sync-listen': { type: 'string' },
    'sync-interval': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (!values.iface) throw new DsrlbError('E_USAGE', `--iface is required\n\n${HELP}`);
  if (values['http-token'] && !values.http) throw new DsrlbError('E_USAGE', '--http-token needs --http');
  const iface = values.iface;
  const bufferSize = values['buffer-size'] ? Number(values['buffer-size']) : 32 << 20;
  if (!Number.isInteger(bufferSize) || bufferSize < 65536) throw new DsrlbError('E_USAGE', `--buffer-size: ${values['buffer-size']} is not a byte count >= 65536`);
  const connCapacity = values['conn-capacity'] ? Number(values['conn-capacity']) : undefined;
  if (connCapacity !== undefined && (!Number.isInteger(connCapacity) || connCapacity < 16)) {
    throw new DsrlbError('E_USAGE', `--conn-capacity: ${values['conn-capacity']} is not an entry count >= 16`);
  }
  let garp: { count: number; intervalMs: number } | false = { count: 10, intervalMs: 500 };
  if (values.garp !== undefined) {
    const m = /^(\d+)(?:,(\d+))?$/.exec(values.garp);
    if (!m) throw new DsrlbError('E_USAGE', `--garp: expected N or N,MS, not "${values.garp}"`);
    garp = Number(m[1]) === 0 ? false : { count: Number(m[1]), intervalMs: Number(m[2] ?? 500) };
  }
  const sysctls = parseSysctls(values.sysctl ?? []);
  await precheckControlPath(values.control ?? defaultControlPath(iface), values['control-group'] ?? null);
  const ioOpts = parseIoOptions(values);
  const workers = parseWorkers(values.workers, ioOpts.backend);
  if (values.config && values['keepalived-conf']) throw new DsrlbError('E_USAGE', '--config and --keepalived-conf exclude each other');
  const kaPath = values['keepalived-conf'];
  const kaOpts = { configId: values['config-id'] ?? null };
  const cfgPath = values.config ?? kaPath;
  const ka: KeepalivedConfig | null = kaPath ? loadCheckedKeepalived(kaPath, kaOpts) : null;
  const cfg: LdirectordConfig | null = values.config ? loadCheckedConfig(values.config) : ka ? ka.lvs : null;
  const arpSuppression = values['arp-suppression'] ?? 'none';
  if (!['arptables', 'nft', 'none'].includes(arpSuppression)) throw new DsrlbError('E_USAGE', `--arp-suppression: arptables, nft or none, not ${arpSuppression}`);
  const bgpOptions = bgpOptionsFrom(values);
  const syncOpts = parseSyncOptions(values, iface);
  if (bgpOptions) garp = false; // ECMP: the router routes the VIP to us; no gratuitous ARP, no ARP answers
  // As ldirectord: supervised=yes logs to stdout, otherwise to logfile= (a path or a syslog facility).
  const logging = createLogger({
    level: values['log-level'] ?? 'info',
    base: { iface },
    foreground: values.foreground === true || cfg?.globals.supervised === true,
    logfile: values.logfile ?? cfg?.globals.logfile ?? null,
  });
  const log = logging.log;
  // Under systemd (Type=notify): fails here, before anything starts, if the notifier cannot load.
  const service = new ServiceNotify(log);

  let services: ServiceWithReals[] = [];
  let services6: Service6WithReals[] = [];
  if (cfg) {
    for (const w of cfg.warnings) log.warn({ file: cfg.file, line: w.line, code: w.code }, w.message);
    services = servicesFromConfig(cfg);
    services6 = services6FromConfig(cfg);
  } else {
    log.info({}, 'no --config: starting with an empty table, managed through the control socket (dsrlb ipvsadm)');
  }

  if (values['fix-offloads']) {
    const changed = await fixOffloads(iface);
    if (changed.length) log.info({ changed }, 'offloads turned off');
  }
  // The ring's slots are fixed (2048 bytes: ring-plan.ts); libpcap sizes its own from the offloads.
  const findings = await runPreflight(ioOpts.backend === 'ring'
    ? { iface, bufferSize: ioOpts.ringFrames ? ioOpts.ringFrames * 2048 : bufferSize, slotBytes: 2048 }
    : { iface, bufferSize });
  let fatal = false;
  for (const f of findings) {
    const line = `${f.severity}: ${f.code}: ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ''}`;
    if (f.severity === 'error') {
      fatal = true;
      io.err(line);
    } else if (f.severity === 'warning') io.err(line);
  }
  if (fatal) {
    await logging.close();
    return 1;
  }

  const vrrpInst = ka ? pickInstance(ka, iface, log) : null;
  // VRRP: garp_master_repeat gratuitous ARP pairs on becoming MASTER (unless --garp says otherwise).
  if (vrrpInst && values.garp === undefined) garp = { count: vrrpInst.garpMasterRepeat, intervalMs: 10 };
  const director = new Director({ net: hostNetControl, startPacketPath: workerPacketPath({ workers }), log });
  // With VRRP the VIP is served only while MASTER: start inactive (no ARP answers, no forwarding).
  await director.start({ iface, services, services6, bufferSize, garp, sysctls, connCapacity, localDelivery: !values['no-local'], icmpForward: !values['no-icmp-forward'], io: ioOpts, active: vrrpInst ? false : undefined, answerArp: bgpOptions === null });
  let vrrp: VrrpNode | null = null;
  let stopTracking = (): void => undefined;
  if (vrrpInst) {
    try {
      vrrp = await startVrrp(vrrpInst, director, log, { iface, arpSuppression: arpSuppression as 'arptables' | 'nft' | 'none' });
      stopTracking = startTracking(vrrpInst, ka!.vrrpScripts, vrrp, log);
    } catch (e) {
      await director.stop();
      await logging.close();
      throw e;
    }
  }

  const control = cfg && cfgPath
    ? new ControlPlane(director, log, cfgPath, cfg, kaPath ? (p) => loadCheckedKeepalived(p, kaOpts).lvs : undefined)
    : null;
  control?.start();
  let bgp: BgpHandle | null = null;
  if (bgpOptions) {
    try {
      bgp = await startBgp({ bgp: bgpOptions, iface, director, log });
    } catch (e) {
      control?.stop();
      await director.stop();
      await logging.close();
      throw e;
    }
  }

  let sync: SyncHandle | null = null;
  if (syncOpts) {
    try {
      sync = await startSync(syncOpts, director, log, iface);
    } catch (e) {
      await bgp?.stop('start-up failed');
      control?.stop();
      await director.stop();
      await logging.close();
      throw e;
    }
  }
  const syncStatus = () => syncStatusOf(sync);

  // ipvsadm --rate: the kernel's estimator, fed a snapshot every 2 s.
  const rates = new RateEstimator();
  const drops = new DropWatch();
  const sampleRates = async () => {
    try {
      const s = await director.request({ op: 'snapshot' });
      if (s) rates.update(s, s.at);
      const notice = s ? drops.update(s.io, Date.now()) : null;
      if (notice) log.warn(notice, `the capture ring dropped ${notice.drops} frame(s): the packet path did not keep up (dsrlb_capture_drops_total; --ring-frames, --workers)`);
    } catch {
      // the packet path is busy or going away: the next tick catches up
    }
  };
  await sampleRates();
  const rateTimer = setInterval(() => void sampleRates(), ESTIMATOR_PERIOD_MS);
  const health = (): RealHealth[] =>
    (control?.status() ?? []).flatMap((s) => (s.virtual.proto === 'fwm' ? [] : [{
      proto: s.virtual.proto, vip: s.virtual.vip, port: s.virtual.port, addr: s.real.addr, rport: s.real.port,
      up: s.up, lastCheckMs: s.lastLatencyMs, checks: s.checks, consecutiveFailures: s.failures,
    }]));

  const controlPath = values.control ?? defaultControlPath(iface);
  let server: Server | null = null;
  let metrics: MetricsServer | null = null;
  let web: ConsoleHandle | null = null;
  const startTimeSeconds = Math.floor(Date.now() / 1000);
  const metricsSource = {
    snapshot: async () => (await director.request({ op: 'snapshot' }))!,
    extra: () => ({ rates: rates.report(), health: health(), startTimeSeconds, sync: syncStatus() }),
  };
  try {
    server = await serveControl(controlPath, async (req) => {
      if (req.op === 'health') return control?.status() ?? [];
      if (req.op === 'reload') {
        if (!control) throw new DsrlbError('E_CONTROL_REQUEST', 'no configuration file to reload (started without --config)');
        return control.reload('control socket request');
      }
      if (req.op === 'rate') return rates.report();
      if (req.op === 'vrrpStatus') return vrrp?.status() ?? null;
      if (req.op === 'syncStatus') return syncStatus();
      if (!CONTROL_OPS.has(String(req.op))) throw new DsrlbError('E_CONTROL_REQUEST', `unknown request ${JSON.stringify(req.op)}`);
      if (req.op !== 'snapshot') log.info({ change: req }, `runtime change: ${describeControlChange(req)}`);
      return director.request(req as never);
    }, { group: values['control-group'] ?? null, onStale: (p) => log.info({ path: p }, 'removed a stale control socket (its process is gone)') });
    if (values.metrics) {
      metrics = await startMetricsServer(values.metrics, metricsSource, log);
    }
    if (values.http) {
      web = await startConsole({
        addr: values.http, tokenFile: values['http-token'], mode: 'director', director, log, rates, metrics: metricsSource,
        health: () => control?.status() ?? [],
        config: () => control?.config() ?? cfg,
      });
      if (control) control.onEvent = (kind, text, lines) => web?.event(kind, text, lines);
    }
  } catch (e) {
    clearInterval(rateTimer);
    sync?.peer.stop();
    await sync?.udp.close();
    await bgp?.stop('start-up failed');
    control?.stop();
    server?.close();
    stopTracking();
    await vrrp?.stop();
    await metrics?.close();
    await web?.stop();
    await director.stop();
    await logging.close();
    if (isDsrlbError(e) && (/^E_(METRICS|CONSOLE)_/.test(e.code) || ['E_CONTROL_DIR_UNSAFE', 'E_CONTROL_IN_USE', 'E_CONTROL_GROUP'].includes(e.code))) throw e;
    throw new DsrlbError('E_CONTROL_SOCKET', `cannot serve the control socket ${controlPath}: ${(e as Error).message}`);
  }
  log.info({
    control: controlPath, services: services.length + services6.length, pid: process.pid, log: logging.describe, io: ioOpts.backend,
    metrics: metrics ? `http://${metrics.address.host}:${metrics.address.port}/metrics` : null,
    console: web ? `http://${web.server.address.host}:${web.server.address.port}/` : null,
    consoleWrites: web ? web.model.current().writable : null,
  }, 'director ready');
  // READY=1 only once the packet path answers and serves the VIPs (it started active).
  const served = async (timeoutMs: number) => (await director.request({ op: 'snapshot' }, timeoutMs))?.active === true;
  const readyStatus = () => `serving ${services.length + services6.length} virtual service(s) on ${iface}; control ${controlPath}`;
  if (service.enabled) {
    if (await served(5000).catch(() => false)) service.ready(readyStatus());
    else log.error({}, 'the packet path does not answer: READY=1 not sent');
    service.startWatchdog(served);
  }

  const onHup = () => {
    void service.reloading(async () => {
      logging.reopen(); // after logrotate: a no-op unless logging to a file
      if (control) return control.reload('SIGHUP');
      log.warn({}, 'SIGHUP: no configuration file to reload');
      return true;
    }, (ok) => (ok ? readyStatus() : `${readyStatus()}; the last reload was refused (see the log)`));
  };
  return await new Promise<number>((resolve) => {
    let done = false;
    const finish = async (code: number, why: string) => {
      if (done) return;
      done = true;
      // VRRP first: priority 0 goes out before anything else, so the backup takes over at once.
      stopTracking();
      const vrrpStopped = vrrp?.stop();
      log.info({ why }, 'stopping');
      service.stopping(why);
      process.off('SIGHUP', onHup);
      // The flows of the last sync interval go to the peers before the router moves them there.
      await sync?.peer.round();
      await bgp?.stop(why); // withdraw first: the router stops sending here while we still forward
      clearInterval(rateTimer);
      if (sync) {
        sync.peer.stop();
        log.info({ sync: syncStatus() }, 'connection sync totals');
        await sync.udp.close();
      }
      control?.stop();
      server?.close();
      await metrics?.close();
      await vrrpStopped;
      await web?.stop();
      const last = await director.request({ op: 'snapshot' }, 2000).catch(() => undefined);
      if (last) log.info({ io: ioSummary(last.io) }, 'frame I/O totals');
      await director.stop();
      log.info({}, 'stopped');
      await logging.close();
      resolve(code);
    };
    process.on('SIGHUP', onHup);
    process.once('SIGINT', () => void finish(0, 'SIGINT'));
    process.once('SIGTERM', () => void finish(0, 'SIGTERM'));
    director.onExit = (why) => void finish(1, `packet path ended: ${why}`);
  });
}
