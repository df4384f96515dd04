/**
 * The four paths the benchmark compares, on the testbed with the director on www1 and the reals
 * www2 and www3:
 *
 *   direct  the client talks to www2's own address (no balancer at all)
 *   nft     kernel DSR: an nftables netdev ingress rule on www1, per-flow jhash over the reals, fwd
 *   ipvs    kernel IPVS-DR on www1 (ipvsadm -s rr, -g), when the kernel has ip_vs
 *   dsrlb   `dsrlb run` on www1 with bench/ldirectord.cf (rr), the userspace director
 *
 * Never two forwarders for one VIP: a path is started only when no other forwarder is installed
 * (checked on the director: nft tables, IPVS services, our own director), and stopped before the
 * next one starts.
 */
import { fileURLToPath } from 'node:url';
import { hostMac, hostNamespace, REALS, startLabDirector, VIP, type LabDirector } from '../../src/testbed/index.ts';
import { mustRunInNs, runInNs } from './exec.ts';
import { NFT_FWD_TABLE, nftApply, nftDeleteTable, nftFwdRuleset, nftTables } from './nft.ts';
import { childrenOf, cmdlineOf } from './procfs.ts';
import type { PathName } from './results.ts';

export const BENCH_CONFIG = fileURLToPath(new URL('../ldirectord.cf', import.meta.url));
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
  /** Where the UDP frames go: L2 and L3 destination. */
  udpDst: { mac: string; ip: string };
  /** The userspace director's processes (dsrlb only). */
  director?: { lab: LabDirector; controlPid: number; workerPid: number };
  stop(): Promise<void>;
}

export interface PathEnv {
  prefix: string;
  say: (line: string) => void;
}

const ns = (e: PathEnv, h: 'client' | 'www1' | 'www2' | 'www3') => hostNamespace(e.prefix, h);

/** What is forwarding (or might be) on the director right now. */
async function forwardersOnDirector(e: PathEnv): Promise<string[]> {
  const found: string[] = [];
  const tables = await nftTables(ns(e, 'www1'));
  if (tables.includes(`netdev ${NFT_FWD_TABLE}`)) found.push(`nft table netdev ${NFT_FWD_TABLE}`);
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

const balanced = (name: PathName, stop: () => Promise<void>): ActivePath => ({
  name,
  tcpHost: VIP,
  udpDst: { mac: hostMac('www1'), ip: VIP },
  stop,
});

export async function startDirect(_e: PathEnv): Promise<ActivePath> {
  return { name: 'direct', tcpHost: REALS.www2, udpDst: { mac: hostMac('www2'), ip: REALS.www2 }, stop: async () => {} };
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

/** `dsrlb run` on www1; the packet worker is its child process (found in /proc). */
export async function startDsrlb(e: PathEnv): Promise<ActivePath> {
  await assertNoForwarder(e, 'dsrlb');
  await unpinVip(e); // the client learns the VIP from dsrlb's own ARP answers
  const lab = await startLabDirector({ prefix: e.prefix, host: 'www1', config: BENCH_CONFIG, args: ['--garp', '1,100'] });
  let workerPid = 0;
  for (let i = 0; i < 50 && workerPid === 0; i++) {
    workerPid = childrenOf(lab.pid).find((c) => cmdlineOf(c).includes('packet-worker')) ?? 0;
    if (workerPid === 0) await new Promise((r) => setTimeout(r, 20));
  }
  if (workerPid === 0) {
    await lab.stop();
    throw new Error(`dsrlb run (pid ${lab.pid}) has no packet worker child`);
  }
  return {
    ...balanced('dsrlb', async () => {
      const code = await lab.stop();
      if (code !== 0 && code !== null) e.say(`  dsrlb run exited with code ${code}`);
      const left = (await nftTables(ns(e, 'www1'))).includes(`netdev ${DSRLB_TABLE}`);
      if (left) throw new Error(`dsrlb stopped but left table netdev ${DSRLB_TABLE} on www1`);
    }),
    director: { lab, controlPid: lab.pid, workerPid },
  };
}

export const STARTERS: Record<PathName, (e: PathEnv) => Promise<ActivePath>> = {
  direct: startDirect,
  nft: startNft,
  ipvs: startIpvs,
  dsrlb: startDsrlb,
};
