/**
 * The paths the benchmark compares, on the testbed with the director on www1 and the reals www2
 * and www3:
 *
 *   direct      the client talks to www2's own address (no balancer at all)
 *   nft         kernel DSR: an nftables netdev ingress rule on www1, per-flow jhash over the reals, fwd
 *   ipvs        kernel IPVS-DR on www1 (ipvsadm -s rr, -g), when the kernel has ip_vs
 *   cref        the C reference forwarder (bench/cref) on www1: AF_PACKET rings, per-flow hash
 *   dsrlb       `dsrlb run` on www1 with bench/ldirectord.cf (rr), default backend, one worker
 *   dsrlb_pcap  the same with `--io pcap`
 *   dsrlb_poll  the same with `--busy-poll-us N`
 *   dsrlb_w2    the same with `--workers 2`
 *   direct6     IPv6 (dual-stack testbed): the client talks to www2's own IPv6 address
 *   nft6        the nft rule's IPv6 form (`ip6 daddr VIP6 … jhash ip6 saddr …`) on www1
 *   dsrlb6      `dsrlb run` on www1 with bench/ldirectord6.cf (a virtual6= service, rr); skipped
 *               with the reason when the dsrlb measured is older than its IPv6 director and
 *               refuses virtual6= (E_RUN_IPV6)
 *   (the IPv6 paths are measured over TCP only: connection rate and latency)
 *
 * Never two forwarders for one VIP: a path is started only when no other forwarder is installed
 * (checked on the director: nft tables, IPVS services, our own director), and stopped before the
 * next one starts.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DSRLB_BIN, hostMac, hostNamespace, REALS, REALS6, startLabDirector, VIP, VIP6, type LabSnapshot } from '../../src/testbed/index.ts';
import { crefUnavailable, startCref, type CrefStats } from './cref.ts';
import { mustRunInNs, runInNs } from './exec.ts';
import { CREF_DROP_TABLE, crefDropRuleset, NFT_FWD_TABLE, nftApply, nftDeleteTable, nftFwdRuleset, nftTables } from './nft.ts';
import { childrenOf, cmdlineOf } from './procfs.ts';
import type { PathName } from './results.ts';
import type { CumulativeHistogram } from './stats.ts';

export const BENCH_CONFIG = fileURLToPath(new URL('../ldirectord.cf', import.meta.url));
/** The dsrlb6 path's configuration: the same TCP service as virtual6= (VIP6, reals www2 and www3). */
export const BENCH_CONFIG6 = fileURLToPath(new URL('../ldirectord6.cf', import.meta.url));
export const TCP_PORT = 80;
export const UDP_PORT = 9000;
/** The reals of every balanced path (www1 is only the director). */
export const BENCH_REALS = ['www2', 'www3'] as const;
/** The table `dsrlb run` installs (its ingress drop for the services; not a forwarder). */
export const DSRLB_TABLE = 'dsrlb_eth0';

export interface ActivePath {
  name: PathName;
  /** Where the TCP clients connect. */
  tcpHost: string;
  /** Where the UDP frames go: L2 and L3 destination; null for the IPv6 paths (TCP only). */
  udpDst: { mac: string; ip: string } | null;
  /** The userspace forwarder (cref, dsrlb*): its processes and counters. */
  director?: Forwarder;
  stop(): Promise<void>;
}

/** A userspace forwarder's counters at one moment (cumulative since it started). */
export interface ForwarderStats {
  forwarded: number;
  /** Frames whose source is the VIP seen by the forwarder itself (dsrlb counts them; cref does not). */
  fromVip: number;
  /** PACKET_STATISTICS, when the backend reads them. */
  kernelPackets?: number;
  kernelDrops?: number;
  /** Frames the forwarder itself failed to send (send errors, TX ring full). */
  sendErrors?: number;
  /** Kernel receive timestamp to send, seconds. */
  residence?: CumulativeHistogram | null;
  backend?: string;
  /** cref's own: send() calls and RX batches. */
  sends?: number;
  batches?: number;
}

export interface Forwarder {
  /** The control process (dsrlb run), apart from the packet workers. */
  controlPid?: number;
  /** The processes that move the frames (their CPU is the forwarder's cost per frame). */
  workerPids: number[];
  stats(): Promise<ForwarderStats>;
}

export interface PathEnv {
  prefix: string;
  say: (line: string) => void;
  /** dsrlb_poll's --busy-poll-us. */
  busyPollUs?: number;
  /** cref's --busy-poll-us (bench/frame-cost.ts's sweep; the benchmark's cref path does not poll). */
  crefBusyPollUs?: number;
}

/**
 * A path that cannot run with this dsrlb or machine, found out only when starting it (dsrlb6 while
 * `dsrlb run` refuses virtual6=): the run records it as skipped with this reason and does not try
 * it again in later rounds.
 */
export class PathUnavailable extends Error {}

const ns = (e: PathEnv, h: 'client' | 'www1' | 'www2' | 'www3') => hostNamespace(e.prefix, h);

/** What is forwarding (or might be) on the director right now. */
async function forwardersOnDirector(e: PathEnv): Promise<string[]> {
  const found: string[] = [];
  const tables = await nftTables(ns(e, 'www1'));
  if (tables.includes(`netdev ${NFT_FWD_TABLE}`)) found.push(`nft table netdev ${NFT_FWD_TABLE}`);
  if (tables.includes(`netdev ${CREF_DROP_TABLE}`)) found.push(`nft table netdev ${CREF_DROP_TABLE} (cref is running or crashed)`);
  if (tables.includes(`netdev ${DSRLB_TABLE}`)) found.push(`nft table netdev ${DSRLB_TABLE} (a dsrlb director is running or crashed)`);
  const ipvs = await runInNs(ns(e, 'www1'), ['cat', '/proc/net/ip_vs'], { timeoutMs: 5000 });
  if (ipvs.code === 0 && /^\s*(TCP|UDP|FWM)\s/m.test(ipvs.stdout)) found.push('IPVS virtual services');
  return found;
}

async function assertNoForwarder(e: PathEnv, starting: PathName): Promise<void> {
  const f = await forwardersOnDirector(e);
  if (f.length) throw new Error(`refusing to start ${starting}: another forwarder is installed on www1: ${f.join(', ')}`);
}

/** The client reaches the VIP through www1's MAC: static for the kernel paths (nobody answers ARP for it there). */
async function pinVip(e: PathEnv): Promise<void> {
  await mustRunInNs(ns(e, 'client'), ['ip', 'neigh', 'replace', VIP, 'lladdr', hostMac('www1'), 'dev', 'eth0', 'nud', 'permanent']);
}

async function unpinVip(e: PathEnv): Promise<void> {
  await runInNs(ns(e, 'client'), ['ip', 'neigh', 'del', VIP, 'dev', 'eth0'], { timeoutMs: 5000 });
}

/** The same for the VIP6 (no real answers NS for it: the testbed's NDP suppression). */
async function pinVip6(e: PathEnv): Promise<void> {
  await mustRunInNs(ns(e, 'client'), ['ip', '-6', 'neigh', 'replace', VIP6, 'lladdr', hostMac('www1'), 'dev', 'eth0', 'nud', 'permanent']);
}

async function unpinVip6(e: PathEnv): Promise<void> {
  await runInNs(ns(e, 'client'), ['ip', '-6', 'neigh', 'del', VIP6, 'dev', 'eth0'], { timeoutMs: 5000 });
}

const balanced = (name: PathName, stop: () => Promise<void>): ActivePath => ({
  name,
  tcpHost: VIP,
  udpDst: { mac: hostMac('www1'), ip: VIP },
  stop,
});

export async function startDirect(_e: PathEnv): Promise<ActivePath> {
  return { name: 'direct', tcpHost: REALS.www2, udpDst: { mac: hostMac('www2'), ip: REALS.www2 }, stop: async () => {} };
}

export async function startDirect6(_e: PathEnv): Promise<ActivePath> {
  return { name: 'direct6', tcpHost: REALS6.www2, udpDst: null, stop: async () => {} };
}

/** The nft6 path's ruleset: the nft path's rule in its IPv6 form, for the TCP service. */
export function nft6PathRuleset(): string {
  return nftFwdRuleset({
    iface: 'eth0',
    vip: VIP6,
    family: 'ip6',
    directorMac: hostMac('www1'),
    realMacs: BENCH_REALS.map((h) => hostMac(h)),
    services: [{ proto: 'tcp', port: TCP_PORT }],
  });
}

export async function startNft6(e: PathEnv): Promise<ActivePath> {
  await assertNoForwarder(e, 'nft6');
  await nftApply(ns(e, 'www1'), nft6PathRuleset());
  await pinVip6(e);
  return {
    name: 'nft6',
    tcpHost: VIP6,
    udpDst: null,
    stop: async () => {
      await nftDeleteTable(ns(e, 'www1'), NFT_FWD_TABLE);
      await unpinVip6(e);
    },
  };
}

export function nftPathRuleset(): string {
  return nftFwdRuleset({
    iface: 'eth0',
    vip: VIP,
    directorMac: hostMac('www1'),
    realMacs: BENCH_REALS.map((h) => hostMac(h)),
    services: [
      { proto: 'tcp', port: TCP_PORT },
      { proto: 'udp', port: UDP_PORT },
    ],
  });
}

export async function startNft(e: PathEnv): Promise<ActivePath> {
  await assertNoForwarder(e, 'nft');
  await nftApply(ns(e, 'www1'), nftPathRuleset());
  await pinVip(e);
  return balanced('nft', async () => {
    await nftDeleteTable(ns(e, 'www1'), NFT_FWD_TABLE);
    await unpinVip(e);
  });
}

/** ipvsadm commands of the IPVS-DR path: rr, every real as gate (-g), weight 1. */
export function ipvsCommands(): string[][] {
  const cmds: string[][] = [];
  for (const [flag, port] of [['-t', TCP_PORT], ['-u', UDP_PORT]] as const) {
    cmds.push(['ipvsadm', '-A', flag, `${VIP}:${port}`, '-s', 'rr']);
    for (const h of BENCH_REALS) cmds.push(['ipvsadm', '-a', flag, `${VIP}:${port}`, '-r', `${REALS[h]}:${port}`, '-g', '-w', '1']);
  }
  return cmds;
}

/**
 * Kernel IPVS in DR mode on www1 (the VIP is already on its lo, so IPVS sees the VIP traffic at
 * LOCAL_IN). Runs only where the kernel has ip_vs; this machine's has not (the run says skipped).
 */
export async function startIpvs(e: PathEnv): Promise<ActivePath> {
  await assertNoForwarder(e, 'ipvs');
  const dir = ns(e, 'www1');
  try {
    for (const c of ipvsCommands()) await mustRunInNs(dir, c);
    await pinVip(e);
  } catch (err) {
    await runInNs(dir, ['ipvsadm', '-C'], { timeoutMs: 5000 });
    throw err;
  }
  return balanced('ipvs', async () => {
    await runInNs(dir, ['ipvsadm', '-C'], { timeoutMs: 5000 });
    await unpinVip(e);
  });
}

/** The counters of a dsrlb snapshot (io.* as the ring backend reports them; absent ones undefined). */
export function dsrlbStats(s: LabSnapshot): ForwarderStats {
  const io = s.io as LabSnapshot['io'] & {
    backend?: string; kernelPackets?: number; kernelDrops?: number; residence?: CumulativeHistogram;
  };
  const out: ForwarderStats = { forwarded: s.forwarded, fromVip: s.fromVip, sendErrors: io.sendErrors };
  if (typeof io.backend === 'string') out.backend = io.backend;
  if (typeof io.kernelPackets === 'number') out.kernelPackets = io.kernelPackets;
  if (typeof io.kernelDrops === 'number') out.kernelDrops = io.kernelDrops;
  if (io.residence && Array.isArray(io.residence.buckets)) out.residence = io.residence;
  return out;
}

export function crefForwarderStats(c: CrefStats): ForwarderStats {
  return {
    forwarded: c.forwarded, fromVip: 0, kernelPackets: c.kernel_packets, kernelDrops: c.kernel_drops,
    sendErrors: c.send_errors + c.tx_full, residence: c.residence, backend: 'cref', sends: c.sends, batches: c.batches,
  };
}

/** The services cref forwards (the bench config's). */
export const CREF_SERVICES = [
  { vip: VIP, port: TCP_PORT, proto: 'tcp' as const },
  { vip: VIP, port: UDP_PORT, proto: 'udp' as const },
];

/** cref on www1 with an ingress drop for the services (www1's stack holds the VIP on lo). */
export async function startCrefPath(e: PathEnv): Promise<ActivePath> {
  const why = crefUnavailable();
  if (why) throw new Error(why);
  await assertNoForwarder(e, 'cref');
  const dir = ns(e, 'www1');
  await nftApply(dir, crefDropRuleset({ iface: 'eth0', vip: VIP, services: CREF_SERVICES }));
  let c;
  try {
    await pinVip(e);
    c = await startCref(dir, { iface: 'eth0', services: CREF_SERVICES, realMacs: BENCH_REALS.map((h) => hostMac(h)), mac: hostMac('www1'), busyPollUs: e.crefBusyPollUs });
  } catch (err) {
    await nftDeleteTable(dir, CREF_DROP_TABLE);
    await unpinVip(e);
    throw err;
  }
  const cref = c;
  return {
    ...balanced('cref', async () => {
      const end = await cref.stop();
      if (end === null) e.say('  cref did not print its exit counters');
      await nftDeleteTable(dir, CREF_DROP_TABLE);
      await unpinVip(e);
    }),
    director: { workerPids: [cref.pid], stats: async () => crefForwarderStats(await cref.stats()) },
  };
}

/**
 * The `dsrlb run` arguments of each dsrlb path (the bench config's on top). Busy polling and
 * fan-out are ring-backend features: where this dsrlb has `--io`, those two paths ask for the ring
 * explicitly (the same as the default when the ring is the default).
 */
export function dsrlbPathArgs(p: PathName, busyPollUs: number, hasIo = true): string[] {
  const ring = hasIo ? ['--io', 'ring'] : [];
  switch (p) {
    case 'dsrlb': return [];
    case 'dsrlb6': return [];
    case 'dsrlb_pcap': return ['--io', 'pcap'];
    case 'dsrlb_poll': return [...ring, '--busy-poll-us', String(busyPollUs)];
    case 'dsrlb_w2': return [...ring, '--workers', '2'];
    default: throw new Error(`${p} is not a dsrlb path`);
  }
}

const hasOption = (help: string, opt: string) => new RegExp(`^\\s*${opt}\\b`, 'm').test(help);

/**
 * Why a dsrlb path cannot run with this dsrlb (an option `dsrlb run --help` does not list), or null.
 * `help` is that help text (pure, for the tests).
 */
export function dsrlbPathUnsupported(p: PathName, help: string): string | null {
  const need: Partial<Record<PathName, string[]>> = { dsrlb_pcap: ['--io'], dsrlb_poll: ['--io', '--busy-poll-us'], dsrlb_w2: ['--io', '--workers'] };
  const missing = (need[p] ?? []).filter((o) => !hasOption(help, o));
  return missing.length ? `this dsrlb has no ${missing.map((o) => `"dsrlb run ${o}"`).join(' and ')} (not in "dsrlb run --help")` : null;
}

let helpText: string | null = null;
export function dsrlbRunHelp(): string {
  helpText ??= execFileSync(process.execPath, [DSRLB_BIN, 'run', '--help'], { encoding: 'utf8', timeout: 20_000 });
  return helpText;
}

/**
 * Why `dsrlb run` did not start, as a PathUnavailable when the reason is that this dsrlb cannot
 * serve the configuration at all (its IPv6 refusal), so the path is skipped rather than failed.
 */
export function dsrlbStartError(name: PathName, e: Error): Error {
  // dsrlb run's refusal: `E_RUN_IPV6: <why> (<file:line>); <what to do>`; the reason keeps <why>.
  const m = /E_RUN_IPV6[^;\n]*/.exec(e.message);
  if (name === 'dsrlb6' && m) return new PathUnavailable(`this dsrlb's "dsrlb run" refuses virtual6= sections (${m[0].replace(/"/g, '').trim()})`);
  return e;
}

/** `dsrlb run` on www1; the packet workers are its children (found in /proc). */
export async function startDsrlb(e: PathEnv, name: PathName = 'dsrlb'): Promise<ActivePath> {
  await assertNoForwarder(e, name);
  const v6 = name === 'dsrlb6';
  // The client learns the VIP (VIP6) from dsrlb's own ARP (NDP) answers.
  await (v6 ? unpinVip6(e) : unpinVip(e));
  const extra = dsrlbPathArgs(name, e.busyPollUs ?? 0, hasOption(dsrlbRunHelp(), '--io'));
  let lab;
  try {
    lab = await startLabDirector({ prefix: e.prefix, host: 'www1', config: v6 ? BENCH_CONFIG6 : BENCH_CONFIG, args: ['--garp', '1,100', ...extra] });
  } catch (err) {
    throw dsrlbStartError(name, err as Error);
  }
  const want = name === 'dsrlb_w2' ? 2 : 1;
  let workers: number[] = [];
  for (let i = 0; i < 100 && workers.length < want; i++) {
    workers = childrenOf(lab.pid).filter((c) => cmdlineOf(c).includes('packet-worker'));
    if (workers.length < want) await new Promise((r) => setTimeout(r, 20));
  }
  if (workers.length < want) {
    await lab.stop();
    throw new Error(`dsrlb run ${extra.join(' ')} (pid ${lab.pid}) has ${workers.length} packet worker child(ren), not ${want}`);
  }
  const dsrlbLab = lab;
  return {
    ...balanced(name, async () => {
      const code = await dsrlbLab.stop();
      if (code !== 0 && code !== null) e.say(`  dsrlb run exited with code ${code}`);
      const left = (await nftTables(ns(e, 'www1'))).includes(`netdev ${DSRLB_TABLE}`);
      if (left) throw new Error(`dsrlb stopped but left table netdev ${DSRLB_TABLE} on www1`);
    }),
    ...(v6 ? { tcpHost: VIP6, udpDst: null } : {}),
    director: { controlPid: dsrlbLab.pid, workerPids: workers, stats: async () => dsrlbStats(await dsrlbLab.snapshot()) },
  };
}

export const STARTERS: Record<PathName, (e: PathEnv) => Promise<ActivePath>> = {
  direct: startDirect,
  nft: startNft,
  ipvs: startIpvs,
  cref: startCrefPath,
  dsrlb: (e) => startDsrlb(e, 'dsrlb'),
  dsrlb_pcap: (e) => startDsrlb(e, 'dsrlb_pcap'),
  dsrlb_poll: (e) => startDsrlb(e, 'dsrlb_poll'),
  dsrlb_w2: (e) => startDsrlb(e, 'dsrlb_w2'),
  direct6: startDirect6,
  nft6: startNft6,
  dsrlb6: (e) => startDsrlb(e, 'dsrlb6'),
};
