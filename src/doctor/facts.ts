/**
 * What dsrlb doctor looks at on the host it runs on (its network namespace): addresses, the ARP,
 * reverse-path and forwarding sysctls, arptables and nft arp rules, the interface's state and
 * offloads, and an active ARP probe for the VIP (probeArp). Commands run without a shell and are
 * bounded in time; a missing tool leaves its fact null.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import { parseIPv4 } from '../model/index.ts';
import { arpRequest, parseFrame } from '../packet/index.ts';
import { openCapture } from '../io/index.ts';
import type { AddrFact, ArpProbeResult, HostFacts } from './checks.ts';

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
  vip: string;
  iface?: string;
  /** Send ARP requests for the VIP and list who answers (default true). */
  probe?: boolean;
  probeCount?: number;
  probeWaitMs?: number;
}

export async function gatherFacts(o: GatherOptions): Promise<HostFacts> {
  const addrs = await gatherAddrs();
  const iface = checkIfaceName(o.iface ?? (await pickIface(o.vip, addrs)));
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
  if ((o.probe ?? true) && ifaceState?.up) {
    const own = addrs.find((a) => a.dev === iface)?.addr ?? '0.0.0.0';
    facts.arpProbe = await probeArp({ iface, vip: o.vip, senderIp: own, count: o.probeCount, waitMs: o.probeWaitMs });
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
  const count = Math.min(Math.max(o.count ?? 3, 1), 10);
  const waitMs = Math.min(Math.max(o.waitMs ?? 1200, 100), 10_000);
  const vipN = parseIPv4(o.vip);
  const senderN = parseIPv4(o.senderIp);
  if (vipN === null || senderN === null) throw new DsrlbError('E_DOCTOR_ARGS', `bad address ${o.vip} / ${o.senderIp}`);
  const answers = new Map<string, number>();
  let cap;
  try {
    cap = await openCapture({ iface: o.iface, filter: 'arp', bufferSize: 1 << 20, prime: false });
  } catch (e) {
    return { sent: 0, senderIp: o.senderIp, answers: [], error: (e as Error).message };
  }
  try {
    cap.onFrame((frame, len) => {
      const r = parseFrame(frame.subarray(0, len));
      if (!r.ok || !r.frame.arp) return;
      const a = r.frame.arp;
      if (a.op === 2 && a.spa === o.vip) answers.set(a.sha, (answers.get(a.sha) ?? 0) + 1);
    });
    const req = arpRequest({ senderMac: cap.mac, senderIp: senderN, targetIp: vipN });
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
