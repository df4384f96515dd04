/**
 * What of a testbed exists: namespaces, bridge and ports, links, addresses, ARP suppression,
 * offloads, web servers. Read-only: it looks inside the testbed's own namespaces only.
 */

import {
  BRIDGE_NAME,
  HOST_IFACE,
  HOST_NAMES,
  LAN_HOST,
  LAN6_PREFIX_LEN,
  LAN_PREFIX_LEN,
  VIP,
  VIP6,
  bridgePortName,
  hostAddress,
  hostAddress6,
  hostMac,
  hostNamespace,
  isDirector,
  isReal,
  type HostName,
} from './addresses.ts';
import { NFT_ARP_TABLE, listingToRules, missingNftRules, missingRules, renderArptablesRules } from './arp-rules.ts';
import { NFT_NDP_TABLE, nftNdpRules } from './ndp-rules.ts';
import { findOurHttpds, isAlive, isOurHttpd } from './daemon.ts';
import { nsExec, nsExists } from './ns.ts';
import { readPid, readState } from './state.ts';
import type { ArpStyle } from './topology.ts';

export interface ServerStatus {
  pid: number | null;
  running: boolean;
}

export interface HostStatus {
  host: HostName;
  ns: string;
  exists: boolean;
  mac: string | null;
  /** Addresses as a.b.c.d/len (and IPv6 ones but link-local and ::1 as addr/len), per device. */
  addresses: { dev: string; cidr: string }[];
  server: ServerStatus | null;
  problems: string[];
}

export interface LanStatus {
  ns: string;
  exists: boolean;
  bridgeUp: boolean;
  ports: { name: string; up: boolean; attached: boolean }[];
  problems: string[];
}

export type TestbedCompleteness = 'complete' | 'partial' | 'absent';

export interface TestbedStatus {
  prefix: string;
  stateDir: string;
  state: TestbedCompleteness;
  /** From the state file (null when there is none). */
  arpStyle: ArpStyle | null;
  /** From the state file: built dual-stack (`up --ipv6`). */
  ipv6: boolean;
  phase: 'building' | 'up' | null;
  lan: LanStatus;
  hosts: HostStatus[];
  /** Web servers of this prefix running without (or beside) a PID file. */
  strayServers: { pid: number; host: string }[];
  problems: string[];
}

interface IpLink {
  ifname: string;
  flags?: string[];
  master?: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

async function ipJson(ns: string, args: string[]): Promise<IpLink[]> {
  const r = await nsExec(ns, ['ip', '-j', ...args], { timeoutMs: 5000 });
  if (r.code !== 0) return [];
  try {
    return JSON.parse(r.stdout) as IpLink[];
  } catch {
    return [];
  }
}

const isUp = (l: IpLink | undefined): boolean => Boolean(l?.flags?.includes('UP'));

async function lanStatus(prefix: string): Promise<LanStatus> {
  const ns = hostNamespace(prefix, LAN_HOST);
  const st: LanStatus = { ns, exists: nsExists(ns), bridgeUp: false, ports: [], problems: [] };
  if (!st.exists) {
    st.problems.push(`namespace ${ns} missing`);
    return st;
  }
  const links = await ipJson(ns, ['link', 'show']);
  const br = links.find((l) => l.ifname === BRIDGE_NAME);
  st.bridgeUp = isUp(br);
  if (!br) st.problems.push(`${ns}: bridge ${BRIDGE_NAME} missing`);
  else if (!st.bridgeUp) st.problems.push(`${ns}: bridge ${BRIDGE_NAME} down`);
  for (const h of HOST_NAMES) {
    const name = bridgePortName(h);
    const l = links.find((x) => x.ifname === name);
    const port = { name, up: isUp(l), attached: l?.master === BRIDGE_NAME };
    st.ports.push(port);
    if (!l) st.problems.push(`${ns}: port ${name} missing`);
    else {
      if (!port.attached) st.problems.push(`${ns}: port ${name} not attached to ${BRIDGE_NAME}`);
      if (!port.up) st.problems.push(`${ns}: port ${name} down`);
    }
  }
  return st;
}

async function offloadProblems(ns: string, host: HostName): Promise<string[]> {
  const want = isDirector(host)
    ? ['tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload']
    : host === 'client'
      ? ['tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload']
      : [];
  if (want.length === 0) return [];
  const r = await nsExec(ns, ['ethtool', '-k', HOST_IFACE], { timeoutMs: 5000 });
  if (r.code !== 0) return [`${host}: ethtool -k ${HOST_IFACE} failed`];
  const out: string[] = [];
  for (const f of want) {
    const m = new RegExp(`^${f}: (\\w+)`, 'm').exec(r.stdout);
    if (!m || m[1] !== 'off') out.push(`${host}: ${f} is ${m?.[1] ?? 'unknown'}, want off`);
  }
  return out;
}

async function arpProblems(ns: string, host: HostName, style: ArpStyle | null): Promise<string[]> {
  if (!isReal(host)) return [];
  const out: string[] = [];
  const sys = await nsExec(ns, ['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'], { timeoutMs: 5000 });
  const [ignore, announce] = sys.stdout.trim().split(/\s+/).map(Number);
  const rules = await nsExec(ns, ['arptables', '-L', '-n'], { timeoutMs: 5000 });
  const listing = listingToRules(rules.stdout).join('\n');
  const expected = renderArptablesRules({ vip: VIP, rip: hostAddress(host), iface: HOST_IFACE, dialect: 'netfilter' });
  const missing = rules.code === 0 ? missingRules(expected, listing) : expected;
  const nft = await nsExec(ns, ['nft', 'list', 'table', 'arp', NFT_ARP_TABLE], { timeoutMs: 5000 }).catch(() => null);
  const p = { vip: VIP, rip: hostAddress(host), iface: HOST_IFACE };
  const nftMissing = nft && nft.code === 0 ? missingNftRules(p, nft.stdout) : ['table'];
  const sysctlOk = ignore === 1 && announce === 2;
  if (style === 'sysctl' && !sysctlOk) out.push(`${host}: arp_ignore=${ignore} arp_announce=${announce}, want 1 and 2`);
  if (style === 'arptables') for (const m of missing) out.push(`${host}: arptables rule missing: ${m}`);
  if (style === 'nft') for (const m of nftMissing) out.push(`${host}: nft arp ${m === 'table' ? `table ${NFT_ARP_TABLE}` : `rule ${JSON.stringify(m)}`} missing`);
  if (style === null && !sysctlOk && missing.length > 0 && nftMissing.length > 0) out.push(`${host}: no ARP suppression for the VIP`);
  return out;
}

/** A real's NDP suppression for the VIP6 (the nft ip6 table `up --ipv6` makes). */
async function ndpProblems(ns: string, host: HostName): Promise<string[]> {
  if (!isReal(host)) return [];
  const r = await nsExec(ns, ['nft', 'list', 'table', 'ip6', NFT_NDP_TABLE], { timeoutMs: 5000 }).catch(() => null);
  const got = nftNdpRules(r && r.code === 0 ? r.stdout : null, VIP6);
  const out: string[] = [];
  if (!got.inDrop) out.push(`${host}: nft ip6 ${NFT_NDP_TABLE}: no drop of incoming NS for the VIP6 ${VIP6}`);
  if (!got.outDrop) out.push(`${host}: nft ip6 ${NFT_NDP_TABLE}: no drop of outgoing NA for the VIP6 ${VIP6}`);
  return out;
}

async function hostStatus(prefix: string, host: HostName, stateDir: string, style: ArpStyle | null, ipv6: boolean): Promise<HostStatus> {
  const ns = hostNamespace(prefix, host);
  const st: HostStatus = { host, ns, exists: nsExists(ns), mac: null, addresses: [], server: null, problems: [] };
  if (isReal(host)) {
    const pid = readPid(stateDir, host);
    const running = pid !== null && isAlive(pid) && isOurHttpd(pid, prefix, host);
    st.server = { pid, running };
    if (!running) st.problems.push(`${host}: web server not running${pid !== null ? ` (stale pid ${pid})` : ''}`);
  }
  if (!st.exists) {
    st.problems.unshift(`namespace ${ns} missing`);
    return st;
  }
  const links = await ipJson(ns, ['addr', 'show']);
  const unusable = new Set<string>();
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      // IPv6: the global addresses only (link-local and ::1 come with every interface).
      if (a.family === 'inet' || (a.family === 'inet6' && a.scope !== 'link' && a.scope !== 'host')) {
        st.addresses.push({ dev: l.ifname, cidr: `${a.local}/${a.prefixlen}` });
        if (a.tentative || a.dadfailed) unusable.add(`${l.ifname} ${a.local}`);
      }
    }
  }
  const eth = links.find((l) => l.ifname === HOST_IFACE);
  const lo = links.find((l) => l.ifname === 'lo');
  st.mac = eth?.address ?? null;
  const has = (dev: string, cidr: string): boolean => st.addresses.some((a) => a.dev === dev && a.cidr === cidr);
  if (!eth) st.problems.push(`${host}: ${HOST_IFACE} missing`);
  else {
    if (!isUp(eth)) st.problems.push(`${host}: ${HOST_IFACE} down`);
    if (st.mac !== hostMac(host)) st.problems.push(`${host}: ${HOST_IFACE} MAC ${st.mac}, want ${hostMac(host)}`);
    const want = `${hostAddress(host)}/${LAN_PREFIX_LEN}`;
    if (!has(HOST_IFACE, want)) st.problems.push(`${host}: ${want} missing on ${HOST_IFACE}`);
  }
  if (!isUp(lo)) st.problems.push(`${host}: lo down`);
  if (isReal(host) && !has('lo', `${VIP}/32`)) st.problems.push(`${host}: VIP ${VIP}/32 missing on lo`);
  if (ipv6) {
    const want6: [string, string][] = [[HOST_IFACE, `${hostAddress6(host)}/${LAN6_PREFIX_LEN}`]];
    if (isReal(host)) want6.push(['lo', `${VIP6}/128`]);
    for (const [dev, cidr] of want6) {
      if (!has(dev, cidr)) st.problems.push(`${host}: ${cidr} missing on ${dev}`);
      else if (unusable.has(`${dev} ${cidr.split('/')[0]}`)) st.problems.push(`${host}: ${cidr} on ${dev} is tentative or failed DAD`);
    }
  }
  const more = await Promise.all([
    arpProblems(ns, host, style),
    eth ? offloadProblems(ns, host) : Promise.resolve([]),
    ipv6 ? ndpProblems(ns, host) : Promise.resolve([]),
  ]);
  st.problems.push(...more.flat());
  return st;
}

/** Inspects testbed `prefix` (its state in `stateDir`). */
export async function inspectTestbed(prefix: string, stateDir: string): Promise<TestbedStatus> {
  const state = readState(stateDir);
  const style = state?.arpStyle ?? null;
  const ipv6 = state?.ipv6 === true;
  const [lan, ...hosts] = await Promise.all([
    lanStatus(prefix),
    ...HOST_NAMES.map((h) => hostStatus(prefix, h, stateDir, style, ipv6)),
  ]);
  const known = new Set(hosts.map((h) => h.server?.pid).filter((p): p is number => typeof p === 'number'));
  const strayServers = findOurHttpds(prefix).filter((s) => !known.has(s.pid));
  const problems = [...lan!.problems, ...hosts.flatMap((h) => h.problems)];
  if (!state) problems.unshift(`no state file in ${stateDir}`);
  else if (state.phase !== 'up') problems.unshift(`state is '${state.phase}' (an up did not finish)`);
  for (const s of strayServers) problems.push(`stray web server pid ${s.pid} (${s.host})`);
  const anything =
    lan!.exists || hosts.some((h) => h.exists) || state !== null || strayServers.length > 0 || hosts.some((h) => h.server?.pid != null);
  return {
    prefix,
    stateDir,
    state: !anything ? 'absent' : problems.length === 0 ? 'complete' : 'partial',
    arpStyle: style,
    ipv6,
    phase: state?.phase ?? null,
    lan: lan!,
    hosts,
    strayServers,
    problems,
  };
}

/** Human-readable status lines. */
export function formatStatus(s: TestbedStatus): string[] {
  const lines = [`testbed ${s.prefix}: ${s.state}${s.arpStyle ? ` (arp style ${s.arpStyle})` : ''}${s.ipv6 ? `, IPv6 on (VIP6 ${VIP6}/128 on the reals' lo, NDP for it suppressed)` : ''}, state ${s.stateDir}`];
  if (s.state === 'absent') return lines;
  const yn = (b: boolean): string => (b ? 'yes' : 'NO');
  lines.push(
    `  ${s.lan.ns.padEnd(16)} ${s.lan.exists ? 'exists' : 'MISSING'}; bridge ${BRIDGE_NAME} up: ${yn(s.lan.bridgeUp)}; ports: ${
      s.lan.ports.map((p) => `${p.name}${p.attached && p.up ? '' : '(!)'}`).join(' ') || '-'
    }`,
  );
  for (const h of s.hosts) {
    const addrs = h.addresses.filter((a) => a.dev !== 'lo' || a.cidr !== '127.0.0.1/8').map((a) => `${a.dev} ${a.cidr}`);
    const srv = h.server ? `; httpd ${h.server.running ? `pid ${h.server.pid}` : 'NOT RUNNING'}` : '';
    lines.push(
      `  ${h.ns.padEnd(16)} ${h.exists ? 'exists' : 'MISSING'}${h.mac ? `; ${HOST_IFACE} ${h.mac}` : ''}${
        addrs.length ? `; ${addrs.join(', ')}` : ''
      }${srv}`,
    );
  }
  if (s.problems.length) {
    lines.push('problems:');
    for (const p of s.problems) lines.push(`  - ${p}`);
  }
  return lines;
}
