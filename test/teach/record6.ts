/**
 * Records the IPv6 teaching captures (test/fixtures/captures/ipv6-*), as root, in namespaces of
 * our own (prefix h6e by default): a client, a director and two real servers on one bridge,
 * IPv6 only.
 *
 * The director is Linux itself. An nft netdev ingress rule on its eth0 takes TCP to the VIP6
 * port 80 before its stack sees it and sends it with `fwd ip6 to REAL device eth0`. That
 * forward goes through the neighbour layer: the destination MAC becomes the real's, the source
 * MAC the director's, and the hop limit drops by one. IPVS's DR transmit does the same. The
 * scheduler is the client's source port parity (even: real1, odd: real2). The client uses fixed
 * local ports, so each run reaches both reals. The director holds the VIP6 on eth0 and so
 * answers Neighbor Solicitations for it. The reals hold it on lo, where Linux does not answer NS
 * for it (ndisc_recv_ns looks the target up on the receiving device only).
 *
 * Scenarios:
 *   healthy6      as above.
 *   ndp-problem6  real1 holds the VIP6 on eth0 instead of lo, so its kernel answers NS for it
 *                 too: the IPv6 form of the ARP problem.
 *
 *   npx tsx test/teach/record-fixtures6.ts [healthy6|ndp-problem6 ...]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCENARIOS6 = ['healthy6', 'ndp-problem6'] as const;
export type Scenario6 = (typeof SCENARIOS6)[number];

export const VIP6 = '2001:db8::10';
export const HOSTS6 = {
  client: { mac: '02:d6:00:00:00:64', ip: '2001:db8::100' },
  director: { mac: '02:d6:00:00:00:02', ip: '2001:db8::2' },
  real1: { mac: '02:d6:00:00:00:21', ip: '2001:db8::21' },
  real2: { mac: '02:d6:00:00:00:22', ip: '2001:db8::22' },
} as const;
export type Host6 = keyof typeof HOSTS6;
const NAMES = Object.keys(HOSTS6) as Host6[];

/** The ldirectord.cf that describes what the nft director does (for `explain --config`). */
export const RECORD_CONFIG6 = `# dsrlb IPv6 teaching recordings: what the nft director of test/teach/record6.ts does
virtual6=[${VIP6}]:80
\treal6=[${HOSTS6.real1.ip}]:80 gate
\treal6=[${HOSTS6.real2.ip}]:80 gate
\tprotocol=tcp
\tchecktype=off
`;

export interface Record6Options {
  scenario: Scenario6;
  dir: string;
  /** Namespace prefix (default h6e). */
  prefix?: string;
  onProgress?: (line: string) => void;
}

const ns = (prefix: string, h: Host6 | 'sw'): string => `${prefix}-${h}`;

function sh(argv: string[], timeoutMs = 10_000): string {
  return execFileSync(argv[0]!, argv.slice(1), { timeout: timeoutMs, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function inNs(name: string, argv: string[], timeoutMs = 10_000): string {
  return sh(['ip', 'netns', 'exec', name, ...argv], timeoutMs);
}

export function namespaces6(prefix = 'h6e'): string[] {
  return [...NAMES.map((h) => ns(prefix, h)), ns(prefix, 'sw')];
}

/** Deletes the namespaces (and with them their links and the bridge). */
export function teardown6(prefix = 'h6e'): void {
  for (const n of namespaces6(prefix)) {
    if (existsSync(`/run/netns/${n}`)) {
      try {
        sh(['ip', 'netns', 'del', n]);
      } catch {
        /* already gone */
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nftDirector(prefix: string): string {
  const { real1, real2 } = HOSTS6;
  return `table netdev ${prefix} {
  chain in {
    type filter hook ingress device "eth0" priority 0;
    ip6 daddr ${VIP6} tcp dport 80 tcp sport & 1 == 0 fwd ip6 to ${real1.ip} device "eth0"
    ip6 daddr ${VIP6} tcp dport 80 tcp sport & 1 == 1 fwd ip6 to ${real2.ip} device "eth0"
  }
}
`;
}

/** Builds the LAN, records one pcap per host while the client makes two requests; tears down. */
export async function record6(o: Record6Options): Promise<{ answers: string[] }> {
  const prefix = o.prefix ?? 'h6e';
  const say = o.onProgress ?? (() => {});
  const procs: ChildProcess[] = [];
  const answers: string[] = [];
  mkdirSync(o.dir, { recursive: true });
  teardown6(prefix);
  try {
    const sw = ns(prefix, 'sw');
    sh(['ip', 'netns', 'add', sw]);
    // The switch has no address of its own: no frames of its own in the captures.
    inNs(sw, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    sh(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    // No multicast snooping: every port sees the solicitations, as on a plain switch.
    sh(['ip', '-n', sw, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    sh(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const h of NAMES) {
      const n = ns(prefix, h);
      sh(['ip', 'netns', 'add', n]);
      // Quiet, repeatable captures: no DAD delay, no router solicitations.
      inNs(n, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.router_solicitations=0', 'net.ipv6.conf.all.accept_dad=0']);
      sh(['ip', '-n', sw, 'link', 'add', `p-${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n]);
      sh(['ip', '-n', sw, 'link', 'set', `p-${h}`, 'master', 'br0', 'up']);
      sh(['ip', '-n', n, 'link', 'set', 'eth0', 'address', HOSTS6[h].mac]);
      // Complete checksums on the wire, as a physical NIC puts them (see the IPv4 offload scenario).
      inNs(n, ['ethtool', '-K', 'eth0', 'tx', 'off']);
      sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', n, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', n, '-6', 'addr', 'add', `${HOSTS6[h].ip}/64`, 'dev', 'eth0', 'nodad']);
    }
    const dir = ns(prefix, 'director');
    sh(['ip', '-n', dir, '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    const nftFile = join(o.dir, '.director.nft');
    writeFileSync(nftFile, nftDirector(prefix));
    inNs(dir, ['nft', '-f', nftFile]);
    sh(['rm', '-f', nftFile]);
    for (const h of ['real1', 'real2'] as const) {
      const n = ns(prefix, h);
      const onEth0 = o.scenario === 'ndp-problem6' && h === 'real1';
      sh(['ip', '-n', n, '-6', 'addr', 'add', `${VIP6}/128`, 'dev', onEth0 ? 'eth0' : 'lo', 'nodad']);
      const p = spawn('ip', ['netns', 'exec', n, process.execPath, '-e', `require('http').createServer((q,s)=>s.end('${h}\\n')).listen(80,'::')`], { stdio: 'ignore' });
      procs.push(p);
    }
    for (const h of NAMES) {
      const p = spawn('ip', ['netns', 'exec', ns(prefix, h), 'tcpdump', '-i', 'eth0', '-U', '-s', '0', '-w', join(o.dir, `${h}.pcap`)], { stdio: 'ignore' });
      procs.push(p);
    }
    writeFileSync(join(o.dir, 'ldirectord.cf'), RECORD_CONFIG6);
    await sleep(1500);
    const cli = ns(prefix, 'client');
    // Even port: real1, odd: real2.
    for (const port of [40000, 40001]) {
      let a = '';
      try {
        a = inNs(cli, ['curl', '-s', '-m', '4', '-g', '--local-port', String(port), `http://[${VIP6}]/`], 8000).trim();
      } catch {
        a = '';
      }
      answers.push(a);
      say(`request from port ${port}: ${a || 'failed'}`);
      await sleep(300);
    }
    await sleep(700);
    return { answers };
  } finally {
    for (const p of procs.reverse()) {
      if (p.pid !== undefined && p.exitCode === null) {
        p.kill('SIGINT');
        await Promise.race([new Promise((r) => p.once('exit', r)), sleep(3000)]);
      }
    }
    teardown6(prefix);
  }
}
