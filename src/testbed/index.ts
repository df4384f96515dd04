/**
 * The namespace testbed: the seed's topology (client, www1/www2 directors + reals, www3 real, VIP
 * 192.168.0.10) built in network namespaces named `<prefix>-…`, nothing in the root namespace.
 *
 *   testbedUp({ prefix })      build it (or keep it when complete; rebuild when partial)
 *   testbedDown({ prefix })    stop its web servers, delete its namespaces and state
 *   testbedStatus({ prefix })  what exists; `.state === 'complete'` when all is there
 *   startServer / stopServer   one real's web server (health-check failure tests)
 */

import { execFile } from 'node:child_process';
import { accessSync, constants as fsc, rmdirSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import {
  DEFAULT_PREFIX,
  REAL_NAMES,
  allNamespaces,
  checkPrefix,
  hostNamespace,
  type RealName,
} from './addresses.ts';
import { findOurHttpds, httpdCommand, killPid, startDaemon, stopDaemon } from './daemon.ts';
import { nsExists, pidsInNs, rootExec } from './ns.ts';
import { commandExecutor, runSteps, type RunReport } from './runner.ts';
import { inspectTestbed, type TestbedStatus } from './status.ts';
import { ecmpDown } from './ecmp-run.ts';
import { DEFAULT_STATE_ROOT, ensureStateDir, readState, removeStateDir, stateDirFor, writeState } from './state.ts';
import { certPaths, httpdArgv, planSteps, referenceTopology, type ArpStyle, type Step, type Topology } from './topology.ts';

export {
  CLIENT_ADDR,
  DEFAULT_PREFIX,
  DIRECTOR_NAMES,
  HOST_IFACE,
  HOST_NAMES,
  LAN_PREFIX_LEN,
  LAN6_PREFIX_LEN,
  REAL_NAMES,
  REALS,
  REALS6,
  VIP,
  VIP6,
  CLIENT_ADDR6,
  allNamespaces,
  checkPrefix,
  hostAddress,
  hostAddress6,
  hostMac,
  hostNamespace,
  type HostName,
  type RealName,
} from './addresses.ts';
export {
  renderArptablesRules,
  renderArptablesSave,
  renderNftArpRuleset,
  nftArpCommands,
  type ArpRuleParams,
  type ArptablesDialect,
} from './arp-rules.ts';
export { NFT_NDP_TABLE, checkVip6, nftNdpCommands, nftNdpRules, renderNftNdpRuleset, targetMatch, type NdpRuleParams } from './ndp-rules.ts';
export { nsExec, nsExists, spawnInNs, listNamespaces, pidsInNs, type ExecOptions, type ExecResult } from './ns.ts';
export { runSteps, runUndos, StepFailure, type Executor, type RunOptions } from './runner.ts';
export { formatStatus, type TestbedStatus, type HostStatus } from './status.ts';
export { planSteps, referenceTopology, undoPlan, describeSteps, ARP_STYLES, type ArpStyle, type Step, type Topology, type Undo } from './topology.ts';
export { DEFAULT_STATE_ROOT, stateDirFor } from './state.ts';
export { httpdReply, startHttpd } from './httpd.ts';

export interface TestbedOptions {
  /** Namespace prefix (default "dsr"): namespaces are `<prefix>-lan`, `<prefix>-client`, `<prefix>-www1..3`. */
  prefix?: string;
  /** Parent of the state directory (default /run/dsrlb-testbed). */
  stateRoot?: string;
  /** One line per step / action. */
  onProgress?: (line: string) => void;
}

export interface UpOptions extends TestbedOptions {
  /** Default: the style of the complete testbed already there, else 'arptables'. */
  arpStyle?: ArpStyle;
  /**
   * Dual-stack: the IPv6 /64, the VIP6 on the reals' lo with NDP suppression, the web servers on
   * IPv6 too. Default: as the complete testbed already there is, else IPv4 only.
   */
  ipv6?: boolean;
  /** Bound of each command (default 10 s). */
  stepTimeoutMs?: number;
  /** Bound of a web server's start (default 20 s). */
  serverTimeoutMs?: number;
  /** For tests: insert a failing step right after the step with this id (e.g. 'httpd:www3'). */
  injectFailureAfter?: string;
}

export interface UpResult {
  action: 'created' | 'rebuilt' | 'kept';
  steps: number;
  elapsedMs: number;
  status: TestbedStatus;
}

export interface DownResult {
  existed: boolean;
  removedNamespaces: string[];
  stoppedPids: number[];
  /** PIDs of other processes that were still inside the namespaces (not ours: left alone). */
  foreignPids: number[];
  elapsedMs: number;
}

function resolve(o: TestbedOptions): { prefix: string; stateDir: string; say: (s: string) => void } {
  const prefix = checkPrefix(o.prefix ?? DEFAULT_PREFIX);
  return { prefix, stateDir: stateDirFor(prefix, o.stateRoot ?? DEFAULT_STATE_ROOT), say: o.onProgress ?? (() => {}) };
}

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new DsrlbError('E_TESTBED_ROOT', 'the testbed needs root (network namespaces, veth, arptables)');
  }
}

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(`${dir}/${bin}`, fsc.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** Programs `up` needs, with the Debian package that has each. */
export function missingPrograms(style: ArpStyle): string[] {
  const need: [string, string][] = [
    ['ip', 'iproute2'],
    ['ethtool', 'ethtool'],
    ['sysctl', 'procps'],
    ['openssl', 'openssl'],
  ];
  if (style === 'arptables') need.push(['arptables', 'arptables']);
  if (style === 'nft') need.push(['nft', 'nftables']);
  return need.filter(([b]) => !onPath(b)).map(([b, p]) => `${b} (Debian package ${p})`);
}

/** The reference topology for these options (pure; also used by `--dry-run`). */
export function testbedTopology(o: UpOptions = {}): Topology {
  const { prefix, stateDir } = resolve(o);
  return referenceTopology({ prefix, arpStyle: o.arpStyle ?? 'arptables', httpdCommand: httpdCommand(), stateDir, ipv6: o.ipv6 === true });
}

function runFile(argv: string[], timeoutMs: number): Promise<void> {
  return new Promise((res, rej) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _o, stderr) =>
      err ? rej(new DsrlbError('E_TESTBED_CERT', `${argv[0]}: ${String(stderr).trim() || err.message}`)) : res(),
    );
  });
}

/** Self-signed certificate + key per real (EC P-256, 30 days), for CN www<n>, its address and the VIP (and their IPv6 forms). */
async function makeCertificates(t: Topology): Promise<void> {
  await Promise.all(
    t.hosts
      .filter((h) => h.real)
      .map((h) => {
        const { cert, key } = certPaths(t.httpd.stateDir, h.name);
        return runFile(
          [
            'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
            '-subj', `/CN=${h.name}`, '-addext', `subjectAltName=DNS:${h.name},IP:${h.addr},IP:${t.vip}${t.ipv6 ? `,IP:${h.addr6},IP:${t.vip6}` : ''}`,
            '-keyout', key, '-out', cert,
          ],
          15_000,
        );
      }),
  );
}

function withInjectedFailure(steps: Step[], after: string | undefined, t: Topology): Step[] {
  if (after === undefined) return steps;
  const i = steps.findIndex((s) => s.id === after);
  if (i < 0) throw new DsrlbError('E_TESTBED_INJECT', `no step with id ${after}`);
  const client = t.hosts.find((h) => h.name === 'client')!.ns;
  const bad: Step = { id: 'injected-failure', kind: 'exec', ns: client, argv: ['false'], description: 'injected failure (test)', undo: null };
  return [...steps.slice(0, i + 1), bad, ...steps.slice(i + 1)];
}

/**
 * Builds the testbed. Idempotent: a complete testbed with the same ARP style is kept as it is;
 * anything else that exists under the prefix (partial, other style, left by a crash) is torn down
 * and built anew. On failure everything made so far is undone and the error is thrown.
 */
export async function testbedUp(o: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const { prefix, stateDir, say } = resolve(o);
  requireRoot();
  const before = await inspectTestbed(prefix, stateDir);
  // No style asked for: a complete testbed is kept whatever its style; a new one uses arptables.
  const arpStyle = o.arpStyle ?? (before.state === 'complete' && before.arpStyle ? before.arpStyle : 'arptables');
  // Likewise for IPv6: not asked, a complete testbed keeps its own; a new one is IPv4 only.
  const ipv6 = o.ipv6 ?? (before.state === 'complete' ? before.ipv6 : false);
  const missing = missingPrograms(arpStyle);
  if (ipv6 && arpStyle !== 'nft' && !missing.length) missing.push(...missingPrograms('nft'));
  if (missing.length) throw new DsrlbError('E_TESTBED_PREREQ', `missing programs: ${missing.join(', ')}`);

  let action: UpResult['action'] = 'created';
  const v = (b: boolean): string => (b ? ', IPv6 on' : '');
  if (before.state === 'complete' && before.arpStyle === arpStyle && before.ipv6 === ipv6) {
    say(`testbed ${prefix} is complete (arp style ${arpStyle}${v(ipv6)}): kept`);
    return { action: 'kept', steps: 0, elapsedMs: Date.now() - t0, status: before };
  }
  if (before.state !== 'absent') {
    const other = [
      before.arpStyle && before.arpStyle !== arpStyle ? `arp style ${before.arpStyle}` : '',
      before.state === 'complete' && before.ipv6 !== ipv6 ? (before.ipv6 ? 'IPv6 on' : 'IPv6 off') : '',
    ].filter(Boolean).join(', ');
    say(`testbed ${prefix} is ${before.state}${other ? ` with ${other}` : ''}: tearing down to rebuild`);
    await testbedDown(o);
    action = 'rebuilt';
  }

  const t = referenceTopology({ prefix, arpStyle, httpdCommand: httpdCommand(), stateDir, ipv6 });
  const steps = withInjectedFailure(planSteps(t), o.injectFailureAfter, t);
  let report: RunReport;
  try {
    ensureStateDir(stateDir);
    writeState(stateDir, {
      version: 1, prefix, arpStyle, phase: 'building', createdAt: new Date().toISOString(), namespaces: allNamespaces(prefix), ipv6,
    });
    say(`making self-signed certificates in ${stateDir}`);
    await makeCertificates(t);
    report = await runSteps(steps, {
      stepTimeoutMs: o.stepTimeoutMs,
      onProgress: say,
      executor: commandExecutor({
        startDaemon: (s) => startDaemon({ ns: s.ns!, host: s.host!, prefix, argv: s.argv, stateDir, timeoutMs: o.serverTimeoutMs }),
        stopDaemon: async (_ns, host) => void (await stopDaemon({ stateDir, prefix, host })),
      }),
    });
    const st = readState(stateDir)!;
    writeState(stateDir, { ...st, phase: 'up' });
    const after = await inspectTestbed(prefix, stateDir);
    if (after.state !== 'complete') {
      throw new DsrlbError('E_TESTBED_INCOMPLETE', `testbed ${prefix} incomplete after up: ${after.problems.join('; ')}`);
    }
    say(`testbed ${prefix} up: ${report.done} steps in ${Date.now() - t0} ms`);
    return { action, steps: report.done, elapsedMs: Date.now() - t0, status: after };
  } catch (e) {
    // The runner has undone its own steps; this also removes what lies outside them (state
    // directory, certificates) and anything a crash in between left.
    say(`up failed: ${e instanceof Error ? e.message : String(e)}; cleaning up`);
    try {
      await testbedDown({ ...o, onProgress: say });
    } catch (e2) {
      say(`clean-up after the failed up also failed: ${e2 instanceof Error ? e2.message : String(e2)}`);
    }
    throw e;
  }
}

/** Removes the testbed: its web servers (verified PIDs), its namespaces, its state directory. */
export async function testbedDown(o: TestbedOptions = {}): Promise<DownResult> {
  const t0 = Date.now();
  const { prefix, stateDir, say } = resolve(o);
  requireRoot();
  const ecmp = readState(stateDir);
  if (ecmp?.topology === 'ecmp') {
    const r = await ecmpDown({ prefix, directors: ecmp.directors ?? 4, stateRoot: o.stateRoot, onProgress: say });
    return { existed: true, removedNamespaces: r.removedNamespaces, stoppedPids: r.stoppedPids, foreignPids: [], elapsedMs: Date.now() - t0 };
  }
  const existed = readState(stateDir) !== null || allNamespaces(prefix).some(nsExists);
  const stoppedPids: number[] = [];
  for (const host of REAL_NAMES) {
    const pid = await stopDaemon({ stateDir, prefix, host });
    if (pid !== null) {
      stoppedPids.push(pid);
      say(`stopped web server of ${host} (pid ${pid})`);
    }
  }
  for (const s of findOurHttpds(prefix)) {
    if (await killPid(s.pid)) {
      stoppedPids.push(s.pid);
      say(`stopped stray web server of ${s.host} (pid ${s.pid})`);
    }
  }
  const foreignPids: number[] = [];
  const removed: string[] = [];
  // Hosts first, the LAN (bridge) last.
  for (const ns of [...allNamespaces(prefix)].reverse()) {
    if (!nsExists(ns)) continue;
    const others = pidsInNs(ns);
    if (others.length) {
      foreignPids.push(...others);
      say(`note: processes still in ${ns} (not ours, left alone): ${others.join(' ')}`);
    }
    const r = await rootExec(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new DsrlbError('E_TESTBED_DOWN', `ip netns del ${ns}: ${r.stderr.trim()}`);
    removed.push(ns);
    say(`deleted namespace ${ns}`);
  }
  removeStateDir(stateDir);
  try {
    rmdirSync(o.stateRoot ?? DEFAULT_STATE_ROOT); // only when empty (other testbeds keep it)
  } catch {
    /* not empty or not there */
  }
  const left = allNamespaces(prefix).filter(nsExists);
  if (left.length) throw new DsrlbError('E_TESTBED_DOWN', `namespaces still present: ${left.join(', ')}`);
  return { existed, removedNamespaces: removed, stoppedPids, foreignPids, elapsedMs: Date.now() - t0 };
}

/** The topology of the testbed under this prefix, from its state file ('reference' when none). */
export function testbedKind(o: TestbedOptions = {}): { topology: 'reference' | 'ecmp'; directors: number } {
  const { stateDir } = resolve(o);
  const st = readState(stateDir);
  return st?.topology === 'ecmp' ? { topology: 'ecmp', directors: st.directors ?? 4 } : { topology: 'reference', directors: 0 };
}

/** What of the testbed exists (`state`: complete | partial | absent). Needs root for the in-namespace checks. */
export async function testbedStatus(o: TestbedOptions = {}): Promise<TestbedStatus> {
  const { prefix, stateDir } = resolve(o);
  return inspectTestbed(prefix, stateDir);
}

/** Starts one real's web server again (after stopServer); returns its PID (the running one if already up). */
export async function startServer(host: RealName, o: TestbedOptions & { timeoutMs?: number } = {}): Promise<number> {
  const { prefix, stateDir } = resolve(o);
  const st = readState(stateDir);
  if (!st) throw new DsrlbError('E_TESTBED_ABSENT', `testbed ${prefix} is not up (no state in ${stateDir})`);
  const ns = hostNamespace(prefix, host);
  const t = referenceTopology({ prefix, arpStyle: st.arpStyle, httpdCommand: httpdCommand(), stateDir, ipv6: st.ipv6 === true });
  return startDaemon({ ns, host, prefix, argv: httpdArgv(t, host), stateDir, timeoutMs: o.timeoutMs });
}

/** Stops one real's web server (so its health check fails); returns the PID stopped, null if none ran. */
export async function stopServer(host: RealName, o: TestbedOptions = {}): Promise<number | null> {
  const { prefix, stateDir } = resolve(o);
  return stopDaemon({ stateDir, prefix, host });
}
export { startLabDirector, labIoFromEnv, DSRLB_BIN, type LabDirector, type LabSnapshot, type LabDirectorOptions } from './lab-director.ts';
export { ecmpUp, ecmpDown, ecmpStatus, formatEcmpStatus, parseBirdProtocols, parseNextHops, routerBirdConfig, ecmpTopologyFor, type EcmpStatus, type EcmpOptions } from './ecmp-run.ts';
export { ecmpTopology, planEcmpSteps, ecmpNamespaces, directorAddress, ECMP_ROUTER_ADDR, ECMP_CLIENT_ADDRS, ECMP_ROUTER_AS, ECMP_DIRECTOR_AS, type EcmpTopology, type EcmpHost } from './ecmp.ts';
export { startTextCapture, type TextCapture } from './tcpdump.ts';
