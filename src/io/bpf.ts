/**
 * The capture filter for the director (pure: builds a pcap-filter string, no I/O).
 *
 *   inbound and ((ip dst host VIP and (tcp dst port P or ...)) or ... or (arp host VIP) or ...)
 *
 * - `inbound`: only frames that arrive at the interface (kernel packet type != OUTGOING), so neither
 *   the frames the director's own kernel sends nor those of another process on the host are taken
 *   for client traffic. (A capture never sees the frames it sends itself; that is the kernel's doing,
 *   with or without `inbound`.) `inbound` cannot be evaluated by libpcap's userland filter, which
 *   cap.ts copes with by priming the ring.
 * - `ip dst host` + `tcp|udp dst port`: only the virtual services. libpcap's port tests match the
 *   first fragment only; later IPv4 fragments of a service are not captured (IPVS-DR in the kernel
 *   reassembles; dsrlb does not handle fragments).
 * - `arp host VIP` (ARP whose sender or target protocol address is a VIP): requests for the VIP to
 *   answer, and announcements for it from other hosts (a peer director, a misconfigured real).
 * - No 802.1Q: capture on the VLAN sub-interface (eth0.100) instead. In pcap-filter, `vlan` shifts the
 *   offsets of every test written after it, so a mixed expression must repeat the services after the
 *   `vlan` keyword, and a frame whose tag the NIC stripped must be matched through the kernel's
 *   ancillary data — easy to get subtly wrong for no gain when the kernel demultiplexes VLANs itself.
 */
import { DsrlbError } from '../errors/index.ts';
import { canonicalIPv6, compareIPv6AsLibipvs, ipToString, parseIPv4 } from '../model/index.ts';

export interface FilterService {
  proto: 'tcp' | 'udp';
  /** Dotted quad or u32 (host order, as in model/addr.ts); for an IPv6 service, its fold (unused here). */
  vip: string | number;
  port: number;
  /** An IPv6 service: its VIP6 (text). groupServices leaves these out; groupServices6 takes them. */
  vip6?: string;
}

export interface FilterOptions {
  /** Include ARP for the VIPs (default true). */
  arp?: boolean;
  /** Prefix the expression with `inbound` (default true). */
  inbound?: boolean;
}

function vipOf(s: FilterService): number {
  if (typeof s.vip === 'number') {
    if (!Number.isInteger(s.vip) || s.vip < 0 || s.vip > 0xffffffff) {
      throw new DsrlbError('E_FILTER_SERVICE', `VIP ${s.vip} is not a u32 IPv4 address`);
    }
    return s.vip >>> 0;
  }
  const n = parseIPv4(s.vip);
  if (n === null) throw new DsrlbError('E_FILTER_SERVICE', `VIP ${JSON.stringify(s.vip)} is not a dotted-quad IPv4 address`);
  return n;
}

/** Services grouped by VIP then protocol, ports sorted and de-duplicated; validates everything. */
export function groupServices(services: readonly FilterService[]): Map<number, Map<'tcp' | 'udp', number[]>> {
  const byVip = new Map<number, Map<'tcp' | 'udp', number[]>>();
  for (const s of services) {
    if (s.vip6 !== undefined) continue;
    if (s.proto !== 'tcp' && s.proto !== 'udp') {
      throw new DsrlbError('E_FILTER_SERVICE', `protocol ${JSON.stringify(s.proto)} is not tcp or udp`);
    }
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) {
      throw new DsrlbError('E_FILTER_SERVICE', `port ${s.port} is not 1..65535`);
    }
    const vip = vipOf(s);
    let byProto = byVip.get(vip);
    if (!byProto) byVip.set(vip, (byProto = new Map()));
    const ports = byProto.get(s.proto) ?? [];
    if (!ports.includes(s.port)) ports.push(s.port);
    byProto.set(s.proto, ports);
  }
  // Deterministic output: VIPs ascending, tcp before udp, ports ascending.
  const sorted = new Map([...byVip.entries()].sort((a, b) => a[0] - b[0]));
  for (const [vip, m] of sorted) {
    const out = new Map<'tcp' | 'udp', number[]>();
    for (const p of ['tcp', 'udp'] as const) {
      const ports = m.get(p);
      if (ports) out.set(p, [...ports].sort((a, b) => a - b));
    }
    sorted.set(vip, out);
  }
  return sorted;
}

export function buildCaptureFilter(services: readonly FilterService[], opts: FilterOptions = {}): string {
  const arp = opts.arp ?? true;
  const inbound = opts.inbound ?? true;
  const groups = groupServices(services);
  if (groups.size === 0) throw new DsrlbError('E_FILTER_EMPTY', 'no virtual service to capture');
  const terms: string[] = [];
  for (const [vip, byProto] of groups) {
    const portTests: string[] = [];
    for (const [proto, ports] of byProto) for (const p of ports) portTests.push(`${proto} dst port ${p}`);
    const ports = portTests.length === 1 ? portTests[0] : `(${portTests.join(' or ')})`;
    terms.push(`(ip dst host ${ipToString(vip)} and ${ports})`);
  }
  if (arp) for (const vip of groups.keys()) terms.push(`(arp host ${ipToString(vip)})`);
  const body = terms.length === 1 ? terms[0]! : `(${terms.join(' or ')})`;
  return inbound ? `inbound and ${body}` : body;
}

/**
 * The IPv6 services grouped by VIP6 (canonical text, libipvs order) then protocol, ports sorted
 * and de-duplicated, validated as groupServices validates the IPv4 ones.
 */
export function groupServices6(services: readonly FilterService[]): Map<string, Map<'tcp' | 'udp', number[]>> {
  const byVip = new Map<string, Map<'tcp' | 'udp', number[]>>();
  for (const s of services) {
    if (s.vip6 === undefined) continue;
    if (s.proto !== 'tcp' && s.proto !== 'udp') throw new DsrlbError('E_FILTER_SERVICE', `protocol ${JSON.stringify(s.proto)} is not tcp or udp`);
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new DsrlbError('E_FILTER_SERVICE', `port ${s.port} is not 1..65535`);
    const vip = canonicalIPv6(s.vip6);
    if (vip === null) throw new DsrlbError('E_FILTER_SERVICE', `VIP6 ${JSON.stringify(s.vip6)} is not an IPv6 address`);
    let byProto = byVip.get(vip);
    if (!byProto) byVip.set(vip, (byProto = new Map()));
    const ports = byProto.get(s.proto) ?? [];
    if (!ports.includes(s.port)) ports.push(s.port);
    byProto.set(s.proto, ports);
  }
  const out = new Map<string, Map<'tcp' | 'udp', number[]>>();
  for (const vip of [...byVip.keys()].sort(compareIPv6AsLibipvs)) {
    const m = new Map<'tcp' | 'udp', number[]>();
    for (const p of ['tcp', 'udp'] as const) {
      const ports = byVip.get(vip)!.get(p);
      if (ports) m.set(p, [...ports].sort((a, b) => a - b));
    }
    out.set(vip, m);
  }
  return out;
}
