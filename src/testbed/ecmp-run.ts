/**
 * Builds, inspects and removes the ECMP testbed (ecmp.ts plans it). The router's BIRD is started
 * by a step and stopped here by the PID in its PID file; a BIRD that `dsrlb run --bgp` started in a
 * director namespace of this testbed and left behind is stopped by PID as well (only processes whose
 * program is bird and that live in one of this testbed's namespaces).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsc, readFileSync, writeFileSync } from 'node:fs';
import { renderRouterBird } from '../bgp/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { findOurHttpds, httpdCommand, isAlive, killPid, processArgv, startDaemon, stopDaemon } from './daemon.ts';
import {
  ECMP_DIRECTOR_AS, ECMP_ROUTER_ADDR, ECMP_ROUTER_AS, ecmpNamespaces, ecmpTopology, planEcmpSteps, type EcmpTopology,
} from './ecmp.ts';
import { nsExec, nsExists, pidsInNs, rootExec } from './ns.ts';
import { DSRLB_BIN } from './lab-director.ts';
import { commandExecutor, runSteps } from './runner.ts';
import { ensureStateDir, readState, removeStateDir, stateDirFor, writeState, DEFAULT_STATE_ROOT } from './state.ts';

export interface EcmpOptions {
  prefix: string;
  directors: number;
  stateRoot?: string;
  onProgress?: (line: string) => void;
  stepTimeoutMs?: number;
}

export interface EcmpStatus {
  prefix: string;
  state: 'complete' | 'partial' | 'absent';
  directors: number;
  namespaces: { name: string; present: boolean }[];
  routerBirdPid: number | null;
  /** BIRD's BGP sessions on the router: name, state, info (e.g. Established). */
  sessions: { name: string; state: string; info: string }[];
  /** The router's next hops for the VIP (director addresses). */
  nextHops: string[];
  problems: string[];
}

export function ecmpTopologyFor(o: EcmpOptions): EcmpTopology {
  return ecmpTopology({ prefix: o.prefix, directors: o.directors, httpdCommand: httpdCommand(), stateDir: stateDirFor(o.prefix, o.stateRoot ?? DEFAULT_STATE_ROOT) });
}

export function routerBirdConfig(t: EcmpTopology): string {
  return renderRouterBird({
    routerId: ECMP_ROUTER_ADDR, local: ECMP_ROUTER_ADDR, localAs: ECMP_ROUTER_AS, holdTime: 3, bfd: { intervalMs: 100, multiplier: 3 },
    directors: t.directors.map((d) => ({ name: d.name, address: d.addr, as: ECMP_DIRECTOR_AS })), log: t.bird.log,
  });
}

function certificate(t: EcmpTopology, name: string, addr: string): Promise<void> {
  const sd = t.httpd.stateDir;
  const argv = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},IP:${addr},IP:${t.vip}`, '-keyout', `${sd}/${name}.key`, '-out', `${sd}/${name}.crt`];
  return new Promise((res, rej) => {
    execFile('openssl', argv, { timeout: 15_000 }, (e, _o, err) => (e ? rej(new DsrlbError('E_TESTBED_CERT', `openssl: ${String(err).trim() || e.message}`)) : res()));
  });
}

/** Builds the ECMP testbed (anything already under the prefix is removed first). */
export async function ecmpUp(o: EcmpOptions): Promise<{ steps: number; elapsedMs: number; status: EcmpStatus }> {
  const t0 = Date.now();
  const say = o.onProgress ?? (() => {});
  const t = ecmpTopologyFor(o);
  const sd = t.httpd.stateDir;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new DsrlbError('E_TESTBED_ROOT', 'the testbed needs root (network namespaces, veth, BIRD)');
  }
  const need: Array<[string, string]> = [['ip', 'iproute2'], ['ethtool', 'ethtool'], ['sysctl', 'procps'], ['openssl', 'openssl'], ['bird', 'bird2'], ['birdc', 'bird2']];
  const missing = need.filter(([b]) => !onPath(b)).map(([b, p]) => `${b} (Debian package ${p})`);
  if (missing.length) throw new DsrlbError('E_TESTBED_PREREQ', `missing programs: ${missing.join(', ')}`);
  if (readState(sd) !== null || ecmpNamespaces(t).some(nsExists)) {
    say(`testbed ${t.prefix} exists: tearing down to rebuild`);
    await ecmpDown(o);
  }
  try {
    ensureStateDir(sd);
    writeState(sd, { version: 1, prefix: t.prefix, arpStyle: 'sysctl', phase: 'building', createdAt: new Date().toISOString(), namespaces: ecmpNamespaces(t), topology: 'ecmp', directors: o.directors });
    writeFileSync(t.bird.conf, routerBirdConfig(t));
    await Promise.all(t.reals.map((r) => certificate(t, r.name, r.addr)));
    const report = await runSteps(planEcmpSteps(t), {
      stepTimeoutMs: o.stepTimeoutMs,
      onProgress: say,
      executor: commandExecutor({
        startDaemon: (s) => startDaemon({ ns: s.ns!, host: s.host!, prefix: t.prefix, argv: s.argv, stateDir: sd }),
        stopDaemon: async (_ns, host) => void (await stopDaemon({ stateDir: sd, prefix: t.prefix, host })),
      }),
    });
    writeState(sd, { ...readState(sd)!, phase: 'up' });
    const status = await ecmpStatus(o);
    if (status.problems.length) throw new DsrlbError('E_TESTBED_INCOMPLETE', `testbed ${t.prefix} incomplete after up: ${status.problems.join('; ')}`);
    return { steps: report.done, elapsedMs: Date.now() - t0, status };
  } catch (e) {
    say(`up failed: ${e instanceof Error ? e.message : String(e)}; cleaning up`);
    await ecmpDown(o).catch((e2) => say(`clean-up failed too: ${(e2 as Error).message}`));
    throw e;
  }
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => {
    try {
      accessSync(`${d}/${bin}`, fsc.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function readPidFile(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function isBird(pid: number): boolean {
  const a = processArgv(pid);
  return a !== null && /(^|\/)bird$/.test(a[0] ?? '');
}

/** Stops every process the testbed started (web servers, BIRDs), deletes its namespaces and state. */
export async function ecmpDown(o: EcmpOptions): Promise<{ removedNamespaces: string[]; stoppedPids: number[] }> {
  const say = o.onProgress ?? (() => {});
  const t = ecmpTopologyFor({ ...o, directors: o.directors });
  const sd = t.httpd.stateDir;
  const stopped: number[] = [];
  for (const r of t.reals) {
    const pid = await stopDaemon({ stateDir: sd, prefix: t.prefix, host: r.name });
    if (pid !== null) stopped.push(pid);
  }
  for (const s of findOurHttpds(t.prefix)) {
    // PID files lost (a crash, a removed state directory): found by their tag in /proc.
    if (await killPid(s.pid)) stopped.push(s.pid);
  }
  // Directors a `demo --keep` left running in the director namespaces (dsrlb run, ours by its path):
  // SIGTERM, so each withdraws and stops its BIRD.
  for (const d of t.directors) {
    if (!nsExists(d.ns)) continue;
    for (const pid of pidsInNs(d.ns)) {
      const a = processArgv(pid);
      if (a && a.includes(DSRLB_BIN) && a.includes('run') && (await killPid(pid, 5000))) {
        stopped.push(pid);
        say(`stopped dsrlb run in ${d.ns} (pid ${pid})`);
      }
    }
  }
  const birdPid = readPidFile(t.bird.pidFile);
  const candidates = new Set<number>(birdPid !== null ? [birdPid] : []);
  for (const ns of ecmpNamespaces(t)) if (nsExists(ns)) for (const p of pidsInNs(ns)) candidates.add(p);
  for (const pid of candidates) {
    if (isAlive(pid) && isBird(pid) && (await killPid(pid))) {
      stopped.push(pid);
      say(`stopped bird (pid ${pid})`);
    }
  }
  const removed: string[] = [];
  for (const ns of [...ecmpNamespaces(t)].reverse()) {
    if (!nsExists(ns)) continue;
    const r = await rootExec(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new DsrlbError('E_TESTBED_DOWN', `ip netns del ${ns}: ${r.stderr.trim()}`);
    removed.push(ns);
    say(`deleted namespace ${ns}`);
  }
  removeStateDir(sd);
  return { removedNamespaces: removed, stoppedPids: stopped };
}

/** Parses `birdc show protocols` lines of BGP sessions. */
export function parseBirdProtocols(text: string): { name: string; state: string; info: string }[] {
  const out: { name: string; state: string; info: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+(?:\s+\S+)?\s{2,}(.*)$/.exec(line.trim()) ?? /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (m) out.push({ name: m[1]!, state: m[2]!, info: (m[3] ?? '').trim().split(/\s{2,}/).pop() ?? '' });
  }
  return out;
}

/** Parses `ip route show VIP`: the next-hop addresses (one for a single path, several for ECMP). */
export function parseNextHops(text: string): string[] {
  return [...text.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
}

export async function ecmpStatus(o: EcmpOptions): Promise<EcmpStatus> {
  const sd = stateDirFor(o.prefix, o.stateRoot ?? DEFAULT_STATE_ROOT);
  const st = readState(sd);
  const directors = st?.directors ?? o.directors;
  const t = ecmpTopologyFor({ ...o, directors });
  const namespaces = ecmpNamespaces(t).map((name) => ({ name, present: nsExists(name) }));
  const problems: string[] = namespaces.filter((n) => !n.present).map((n) => `namespace ${n.name} missing`);
  const pid = readPidFile(t.bird.pidFile);
  const routerBirdPid = pid !== null && isAlive(pid) && isBird(pid) ? pid : null;
  let sessions: EcmpStatus['sessions'] = [];
  let nextHops: string[] = [];
  if (nsExists(t.routerNs)) {
    if (routerBirdPid === null) problems.push('the router\'s BIRD is not running');
    else {
      const r = await nsExec(t.routerNs, ['birdc', '-s', t.bird.socket, 'show', 'protocols'], { timeoutMs: 5000, check: false });
      sessions = parseBirdProtocols(r.stdout);
    }
    const rt = await nsExec(t.routerNs, ['ip', 'route', 'show', t.vip], { timeoutMs: 5000, check: false });
    nextHops = parseNextHops(rt.stdout);
  }
  const present = namespaces.filter((n) => n.present).length;
  const state = present === 0 && st === null ? 'absent' : problems.length === 0 ? 'complete' : 'partial';
  return { prefix: o.prefix, state, directors, namespaces, routerBirdPid, sessions, nextHops, problems };
}

export function formatEcmpStatus(s: EcmpStatus): string[] {
  return [
    `testbed ${s.prefix} (topology ecmp, ${s.directors} directors): ${s.state}`,
    `  router BIRD: ${s.routerBirdPid ?? 'not running'}`,
    ...s.sessions.map((x) => `  BGP session ${x.name}: ${x.state} ${x.info}`),
    `  VIP next hops: ${s.nextHops.length ? s.nextHops.join(', ') : 'none (no director announces the VIP)'}`,
    ...s.problems.map((p) => `  problem: ${p}`),
  ];
}
