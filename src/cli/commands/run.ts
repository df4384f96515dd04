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
import { Director, servicesFromConfig, type ServiceWithReals } from '../../engine/index.ts';
import { DsrlbError, isDsrlbError } from '../../errors/index.ts';
import {
  createLogger, defaultControlPath, fixOffloads, hostNetControl, runPreflight, serveControl, startMetricsServer, type MetricsServer,
} from '../../io/index.ts';
import { describeControlChange, ESTIMATOR_PERIOD_MS, RateEstimator, type RealHealth } from '../../obs/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';
import { ControlPlane, loadCheckedConfig } from '../control-plane.ts';
import { workerPacketPath } from '../packet-path.ts';
import { parseSysctls } from '../sysctl.ts';
import { startConsole, type ConsoleHandle } from '../console.ts';
import { bgpOptionsFrom, startBgp, type BgpHandle } from '../bgp.ts';

/** Requests the control socket passes to the packet path (see engine/protocol.ts ToPacket). */
const CONTROL_OPS = new Set(['snapshot', 'setActive', 'addService', 'editService', 'deleteService', 'addReal', 'editReal', 'deleteReal', 'flush', 'zero']);

const HELP = `Usage: dsrlb run [--config FILE] --iface IF [options]

  --config FILE        ldirectord.cf with the virtual services (without it: an empty table,
                       managed at run time through the control socket, as with the kernel's ipvsadm)
  --iface IF           the interface the VIP traffic arrives on (the director's wire interface)
  --fix-offloads       turn off GRO/LRO/TSO/GSO/tx checksum on IF (they break capture and re-send)
  --control PATH       control socket (default /run/dsrlb/net<netns>-<IF>.sock)
  --buffer-size BYTES  capture ring size (default 33554432)
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
  --bgp-config FILE    the same settings from a file, one key=value a line`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    iface: { type: 'string' },
    'fix-offloads': { type: 'boolean' },
    control: { type: 'string' },
    'buffer-size': { type: 'string' },
    'conn-capacity': { type: 'string' },
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
  const bgpOptions = bgpOptionsFrom(values);
  if (bgpOptions) garp = false; // ECMP: the router routes the VIP to us; no gratuitous ARP, no ARP answers
  const cfg: LdirectordConfig | null = values.config ? loadCheckedConfig(values.config) : null;
  // As ldirectord: supervised=yes logs to stdout, otherwise to logfile= (a path or a syslog facility).
  const logging = createLogger({
    level: values['log-level'] ?? 'info',
    base: { iface },
    foreground: values.foreground === true || cfg?.globals.supervised === true,
    logfile: values.logfile ?? cfg?.globals.logfile ?? null,
  });
  const log = logging.log;

  let services: ServiceWithReals[] = [];
  if (cfg) {
    for (const w of cfg.warnings) log.warn({ file: cfg.file, line: w.line, code: w.code }, w.message);
    services = servicesFromConfig(cfg);
  } else {
    log.info({}, 'no --config: starting with an empty table, managed through the control socket (dsrlb ipvsadm)');
  }

  if (values['fix-offloads']) {
    const changed = await fixOffloads(iface);
    if (changed.length) log.info({ changed }, 'offloads turned off');
  }
  const findings = await runPreflight({ iface, bufferSize });
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

  const director = new Director({ net: hostNetControl, startPacketPath: workerPacketPath(), log });
  await director.start({ iface, services, bufferSize, garp, sysctls, connCapacity, localDelivery: !values['no-local'], icmpForward: !values['no-icmp-forward'], answerArp: bgpOptions === null });

  const control = cfg && values.config ? new ControlPlane(director, log, values.config, cfg) : null;
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

  // ipvsadm --rate: the kernel's estimator, fed a snapshot every 2 s.
  const rates = new RateEstimator();
  const sampleRates = async () => {
    try {
      const s = await director.request({ op: 'snapshot' });
      if (s) rates.update(s, s.at);
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
    extra: () => ({ rates: rates.report(), health: health(), startTimeSeconds }),
  };
  try {
    server = await serveControl(controlPath, async (req) => {
      if (req.op === 'health') return control?.status() ?? [];
      if (req.op === 'reload') {
        if (!control) throw new DsrlbError('E_CONTROL_REQUEST', 'no configuration file to reload (started without --config)');
        return control.reload('control socket request');
      }
      if (req.op === 'rate') return rates.report();
      if (!CONTROL_OPS.has(String(req.op))) throw new DsrlbError('E_CONTROL_REQUEST', `unknown request ${JSON.stringify(req.op)}`);
      if (req.op !== 'snapshot') log.info({ change: req }, `runtime change: ${describeControlChange(req)}`);
      return director.request(req as never);
    });
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
    await bgp?.stop('start-up failed');
    control?.stop();
    server?.close();
    await metrics?.close();
    await web?.stop();
    await director.stop();
    await logging.close();
    if (isDsrlbError(e) && /^E_(METRICS|CONSOLE)_/.test(e.code)) throw e;
    throw new DsrlbError('E_CONTROL_SOCKET', `cannot serve the control socket ${controlPath}: ${(e as Error).message}`);
  }
  log.info({
    control: controlPath, services: services.length, pid: process.pid, log: logging.describe,
    metrics: metrics ? `http://${metrics.address.host}:${metrics.address.port}/metrics` : null,
    console: web ? `http://${web.server.address.host}:${web.server.address.port}/` : null,
    consoleWrites: web ? web.model.current().writable : null,
  }, 'director ready');

  const onHup = () => {
    logging.reopen(); // after logrotate: a no-op unless logging to a file
    if (control) void control.reload('SIGHUP');
    else log.warn({}, 'SIGHUP: no configuration file to reload');
  };
  return await new Promise<number>((resolve) => {
    let done = false;
    const finish = async (code: number, why: string) => {
      if (done) return;
      done = true;
      log.info({ why }, 'stopping');
      process.off('SIGHUP', onHup);
      await bgp?.stop(why); // withdraw first: the router stops sending here while we still forward
      clearInterval(rateTimer);
      control?.stop();
      server?.close();
      await metrics?.close();
      await web?.stop();
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
