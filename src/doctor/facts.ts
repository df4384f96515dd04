/**
 * What dsrlb doctor looks at on the host it runs on (its network namespace): addresses, the ARP,
 * reverse-path and forwarding sysctls, arptables and nft arp rules, the interface's state and
 * offloads, and an active ARP probe for the VIP (probeArp). Commands run without a shell and are
 * bounded in time; a missing tool leaves its fact null.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import { canonicalIPv6, ipv6ToString, macToString, parseIPv4, parseIPv6, parseMac } from '../model/index.ts';
import { arpRequest, buildNeighborSolicitation, ICMPV6_NA, parseFrame, parseNdp } from '../packet/index.ts';
import { openCapture } from '../io/index.ts';
import type { AddrFact, ArpProbeResult, HostFacts } from './checks.ts';
import type { Addr6Fact, Host6Facts, NdpProbeResult } from './checks6.ts';

function run(argv: string[], timeoutMs = 10_000): Promise<{ code: number | string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function readTrim(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

export function checkIfaceName(iface: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface) || iface.includes('/')) throw new DsrlbError('E_DOCTOR_ARGS', `bad interface name ${JSON.stringify(iface)}`);
  return iface;
}

/** `ip -j addr show` -> IPv4 addresses per device. */
export function parseIpAddrJson(text: string): AddrFact[] {
  const out: AddrFact[] = [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return out;
  }
  if (!Array.isArray(list)) return out;
  for (const l of list as Array<{ ifname?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }>) {
    for (const a of l.addr_info ?? []) {
      if (a.family === 'inet' && l.ifname && a.local) out.push({ dev: l.ifname, addr: a.local, prefix: a.prefixlen ?? 32 });
    }
  }
  return out;
}

/** `ip -j addr show` -> IPv6 addresses per device, with their DAD state. */
export function parseIpAddr6Json(text: string): Addr6Fact[] {
  const out: Addr6Fact[] = [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return out;
  }
  if (!Array.isArray(list)) return out;
  type Info = { family?: string; local?: string; prefixlen?: number; tentative?: boolean; dadfailed?: boolean };
  for (const l of list as Array<{ ifname?: string; addr_info?: Info[] }>) {
    for (const a of l.addr_info ?? []) {
      const addr = a.family === 'inet6' && a.local ? canonicalIPv6(a.local) : null;
      if (l.ifname && addr) out.push({ dev: l.ifname, addr, prefix: a.prefixlen ?? 128, tentative: a.tentative === true, dadfailed: a.dadfailed === true });
    }
  }
  return out;
}

/** True when the first `len` bits of two 16-byte addresses agree. */
function samePrefix6(a: Uint8Array, b: Uint8Array, len: number): boolean {
  for (let bit = 0; bit < len; bit += 8) {
    const n = Math.min(8, len - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((a[bit / 8]! & mask) !== (b[bit / 8]! & mask)) return false;
  }
  return true;
}

/** The wire interface for a VIP6: the one (not lo) with a prefix (not link-local) holding it, else the route's, else eth0. */
export async function pickIface6(vip6: string, addrs6: readonly Addr6Fact[]): Promise<string> {
  const v = parseIPv6(vip6)!;
  for (const a of addrs6) {
    if (a.dev === 'lo' || a.addr === canonicalIPv6(vip6) || a.addr.startsWith('fe80:') || a.prefix === 0) continue;
    if (samePrefix6(parseIPv6(a.addr)!, v, a.prefix)) return a.dev;
  }
  const r = await run(['ip', '-j', '-6', 'route', 'get', vip6]);
  try {
    const dev = (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev;
    if (dev && dev !== 'lo') return dev;
  } catch {
    /* fall through */
  }
  return 'eth0';
}

/** The wire interface: the one (not lo) whose subnet holds the VIP, else the route's, else eth0. */
export async function pickIface(vip: string, addrs: readonly AddrFact[]): Promise<string> {
  const v = parseIPv4(vip)!;
  for (const a of addrs) {
    if (a.dev === 'lo' || a.addr === vip) continue;
    const mask = a.prefix === 0 ? 0 : (0xffffffff << (32 - a.prefix)) >>> 0;
    if (((parseIPv4(a.addr)! & mask) >>> 0) === ((v & mask) >>> 0)) return a.dev;
  }
  const r = await run(['ip', '-j', 'route', 'get', vip]);
  try {
    const dev = (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev;
    if (dev && dev !== 'lo') return dev;
  } catch {
    /* fall through */
  }
  return 'eth0';
}

export async function gatherAddrs(): Promise<AddrFact[]> {
  const r = await run(['ip', '-j', 'addr', 'show']);
  if (r.code !== 0) throw new DsrlbError('E_DOCTOR_EXEC', `ip -j addr show: ${r.stderr.trim() || r.code}`);
  return parseIpAddrJson(r.stdout);
}

export interface GatherOptions {
  /** The IPv4 VIP (at least one of vip and vip6). */
  vip?: string;
  /** The VIP6: gathers the IPv6 facts and probes NDP for it. */
  vip6?: string;
  iface?: string;
  /** Send ARP requests for the VIP and list who answers (default true). */
  probe?: boolean;
  probeCount?: number;
  probeWaitMs?: number;
}

export async function gatherFacts(o: GatherOptions): Promise<HostFacts> {
  if (o.vip === undefined && o.vip6 === undefined) throw new DsrlbError('E_DOCTOR_ARGS', 'give a VIP or a VIP6');
  const addrs = await gatherAddrs();
  const addrs6 = o.vip6 === undefined ? [] : parseIpAddr6Json((await run(['ip', '-j', 'addr', 'show'])).stdout);
  const iface = checkIfaceName(o.iface ?? (o.vip !== undefined ? await pickIface(o.vip, addrs) : await pickIface6(o.vip6!, addrs6)));
  const sys = `/sys/class/net/${iface}`;
  const operstate = readTrim(`${sys}/operstate`);
  const flags = Number.parseInt(readTrim(`${sys}/flags`) ?? '0', 16);
  const ifaceState = operstate === null ? null : {
    up: (flags & 1) === 1 && operstate !== 'down' && operstate !== 'lowerlayerdown',
    operstate,
    mtu: Number(readTrim(`${sys}/mtu`) ?? 0),
    mac: readTrim(`${sys}/address`) ?? '',
  };
  const sysctl: Record<string, string | null> = { ip_forward: readTrim('/proc/sys/net/ipv4/ip_forward') };
  for (const dev of ['all', iface]) {
    for (const k of ['arp_ignore', 'arp_announce', 'rp_filter']) sysctl[`conf.${dev}.${k}`] = readTrim(`/proc/sys/net/ipv4/conf/${dev}/${k}`);
  }
  const [at, nft, eth] = await Promise.all([run(['arptables', '-L', '-n']), run(['nft', 'list', 'ruleset', 'arp']), ifaceState ? run(['ethtool', '-k', iface]) : Promise.resolve(null)]);
  const facts: HostFacts = {
    iface,
    ifaceState,
    addrs,
    sysctl,
    arptables: at.code === 0 ? at.stdout : null,
    nftArp: nft.code === 0 ? nft.stdout : null,
    ethtool: eth && eth.code === 0 ? eth.stdout : null,
    arpProbe: null,
  };
  if ((o.probe ?? true) && ifaceState?.up && o.vip !== undefined) {
    const own = addrs.find((a) => a.dev === iface)?.addr ?? '0.0.0.0';
    facts.arpProbe = await probeArp({ iface, vip: o.vip, senderIp: own, count: o.probeCount, waitMs: o.probeWaitMs });
  }
  if (o.vip6 !== undefined) facts.v6 = await gatherFacts6(o, iface, addrs6, ifaceState?.mac ?? null, (o.probe ?? true) && ifaceState?.up === true);
  return facts;
}

/** The IPv6 facts: addresses, forwarding/proxy_ndp/disable_ipv6, proxy entries, nft ip6/inet rules, the NDP probe. */
async function gatherFacts6(o: GatherOptions, iface: string, addrs6: Addr6Fact[], mac: string | null, probe: boolean): Promise<Host6Facts> {
  const sysctl6: Record<string, string | null> = {};
  for (const dev of ['all', iface]) for (const k of ['forwarding', 'proxy_ndp']) sysctl6[`conf.${dev}.${k}`] = readTrim(`/proc/sys/net/ipv6/conf/${dev}/${k}`);
  sysctl6[`conf.${iface}.disable_ipv6`] = readTrim(`/proc/sys/net/ipv6/conf/${iface}/disable_ipv6`);
  const [proxy, nft6, nftInet] = await Promise.all([run(['ip', '-6', 'neigh', 'show', 'proxy']), run(['nft', 'list', 'ruleset', 'ip6']), run(['nft', 'list', 'ruleset', 'inet'])]);
  const facts: Host6Facts = {
    iface,
    mac,
    addrs6,
    sysctl6,
    proxyNdp: proxy.code === 0 ? proxy.stdout : null,
    nft6: nft6.code === 0 || nftInet.code === 0 ? `${nft6.code === 0 ? nft6.stdout : ''}${nftInet.code === 0 ? nftInet.stdout : ''}` : null,
    ndpProbe: null,
  };
  if (probe) {
    // A source of this interface: a usable global address, else its link-local one, else :: (a DAD probe, answered to all nodes).
    const usable = addrs6.filter((a) => a.dev === iface && !a.tentative && a.addr !== canonicalIPv6(o.vip6!));
    const sender = usable.find((a) => !a.addr.startsWith('fe80:')) ?? usable[0];
    facts.ndpProbe = await probeNdp({ iface, target: o.vip6!, senderIp: sender?.addr ?? '::', count: o.probeCount, waitMs: o.probeWaitMs });
  }
  return facts;
}

export interface ProbeOptions {
  iface: string;
  vip: string;
  /** Sender address of the requests ('0.0.0.0' makes RFC 5227 probes). */
  senderIp: string;
  /** Requests to send, 200 ms apart (default 3). */
  count?: number;
  /** How long to listen after the first request (default 1200 ms). */
  waitMs?: number;
}

/**
 * Asks "who has VIP?" on the interface (as a client would, from this host's address) and lists
 * every MAC that answers. Needs CAP_NET_RAW. Bounded: `count` requests, `waitMs` of listening.
 */
export async function probeArp(o: ProbeOptions): Promise<ArpProbeResult> {
  const vipN = parseIPv4(o.vip);
  const senderN = parseIPv4(o.senderIp);
  if (vipN === null || senderN === null) throw new DsrlbError('E_DOCTOR_ARGS', `bad address ${o.vip} / ${o.senderIp}`);
  return probeAnswers({
    iface: o.iface, filter: 'arp', count: o.count, waitMs: o.waitMs, senderIp: o.senderIp,
    request: (mac) => arpRequest({ senderMac: mac, senderIp: senderN, targetIp: vipN }),
    answerOf: (frame, len) => {
      const r = parseFrame(frame.subarray(0, len));
      return r.ok && r.frame.arp && r.frame.arp.op === 2 && r.frame.arp.spa === o.vip ? r.frame.arp.sha : null;
    },
  });
}

/**
 * What both probes do: open a capture on the interface, send `count` requests (default 3, 1..10)
 * 200 ms apart from its MAC, listen `waitMs` (default 1200, 100..10000) from the first, and count
 * the answers by the MAC `answerOf` names.
 */
async function probeAnswers(o: {
  iface: string; filter: string; count: number | undefined; waitMs: number | undefined; senderIp: string;
  request: (mac: Uint8Array) => Uint8Array;
  answerOf: (frame: Buffer, len: number) => string | null;
}): Promise<ArpProbeResult> {
  const count = Math.min(Math.max(o.count ?? 3, 1), 10);
  const waitMs = Math.min(Math.max(o.waitMs ?? 1200, 100), 10_000);
  const answers = new Map<string, number>();
  let cap;
  try {
    cap = await openCapture({ iface: o.iface, filter: o.filter, bufferSize: 1 << 20, prime: false });
  } catch (e) {
    return { sent: 0, senderIp: o.senderIp, answers: [], error: (e as Error).message };
  }
  try {
    cap.onFrame((frame, len) => {
      const mac = o.answerOf(frame, len);
      if (mac !== null) answers.set(mac, (answers.get(mac) ?? 0) + 1);
    });
    const req = Buffer.from(o.request(cap.mac));
    let sent = 0;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      if (cap.send(req)) sent++;
      if (i < count - 1) await new Promise((r) => setTimeout(r, 200));
    }
    const rest = waitMs - (Date.now() - started);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    return {
      sent,
      senderIp: o.senderIp,
      answers: [...answers].map(([mac, c]) => ({ mac, count: c })).sort((a, b) => a.mac.localeCompare(b.mac)),
      ...(sent === 0 ? { error: `could not send on ${o.iface}` } : {}),
    };
  } finally {
    cap.close();
  }
}

export interface NdpProbeOptions {
  iface: string;
  /** The IPv6 address asked for (the VIP6). */
  target: string;
  /** Source address of the solicitations: one of this interface's, or '::' (a DAD probe). */
  senderIp: string;
  /** Send unicast solicitations to this MAC (and to the target as IPv6 destination), as a neighbour re-checking an entry does; default: to the solicited-node group. */
  unicastMac?: string;
  /** Solicitations to send, 200 ms apart (default 3). */
  count?: number;
  /** How long to listen after the first one (default 1200 ms). */
  waitMs?: number;
}

/**
 * Asks "who has VIP6?" with Neighbor Solicitations on the interface and lists every MAC that
 * advertises it (the target link-layer option, else the frame's source). Needs CAP_NET_RAW.
 * Bounded: `count` solicitations, `waitMs` of listening. The host's own kernel never sees these
 * frames (they leave by the capture socket), so its own answers cannot show up.
 */
export async function probeNdp(o: NdpProbeOptions): Promise<NdpProbeResult> {
  const target = parseIPv6(o.target);
  const sender = parseIPv6(o.senderIp);
  const umac = o.unicastMac === undefined ? null : parseMac(o.unicastMac);
  if (target === null || sender === null || (o.unicastMac !== undefined && umac === null)) {
    throw new DsrlbError('E_DOCTOR_ARGS', `bad address ${o.target} / ${o.senderIp}${o.unicastMac ? ` / ${o.unicastMac}` : ''}`);
  }
  const want = ipv6ToString(target);
  return probeAnswers({
    iface: o.iface, filter: 'icmp6', count: o.count, waitMs: o.waitMs, senderIp: o.senderIp,
    request: (mac) => buildNeighborSolicitation({ srcMac: mac, srcIp: sender, target, ...(umac ? { unicast: { dstMac: umac, dstIp: target } } : {}) }),
    answerOf: (frame, len) => {
      const m = parseNdp(frame, len);
      return m && m.type === ICMPV6_NA && ipv6ToString(m.target) === want ? macToString(m.lladdr ?? m.srcMac) : null;
    },
  });
}
