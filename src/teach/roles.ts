/**
 * Who is who in a capture of a DSR setup: the VIP(s), the client(s), the director(s) and the real
 * servers, each host known by its MAC (one lane of the ladder diagram).
 *
 * With an ldirectord.cf the VIPs, ports and real addresses come from it; without one they are
 * inferred from what DSR does on the wire:
 * - the director re-sends a client's packet unchanged but for the Ethernet addresses and the TTL
 *   (one less): the same IPv4 packet seen twice, with the second frame's source MAC being the
 *   first frame's destination MAC. That MAC forwards: it is a director, and the destination
 *   address of such packets is a VIP;
 * - an address claimed by ARP from more than one MAC, or by a MAC that also claims another
 *   address and receives connections for it, is a VIP;
 * - a MAC that sends packets from a VIP is a real server; a MAC that announces a VIP with a
 *   gratuitous ARP is a director (takeover);
 * - the sender of connections to a VIP is a client.
 */
import { ipToString, parseIPv4, parseIPv6 } from '../model/index.ts';
import type { LdirectordConfig } from '../config/index.ts';
import { BROADCAST_MAC, type WireFrame } from './frames.ts';
import { isLinkLocal6 } from './frames6.ts';

export type Role = 'client' | 'director' | 'real';

export interface Host {
  mac: string;
  /** The host's own address (never a VIP), when the capture tells it. */
  ip: string | null;
  roles: Role[];
  /** A name given by the caller (e.g. the testbed's www1). */
  name: string | null;
}

export interface Service {
  vip: string;
  port: number;
  proto: 'tcp' | 'udp';
}

export interface Roles {
  source: 'config' | 'inferred';
  vips: string[];
  services: Service[];
  /** Ordered: clients, directors, real servers (by address), the rest. */
  hosts: Host[];
  byMac: Map<string, Host>;
  directorMacs: Set<string>;
  /** Real server addresses (from the config, or the hosts found to answer from a VIP). */
  realIps: string[];
  /** Frame number of a forwarded frame -> frame number of the frame it re-sent. */
  forwardOf: Map<number, number>;
}

export interface RoleOptions {
  config?: LdirectordConfig;
  /** MAC -> display name. */
  names?: Readonly<Record<string, string>>;
}

export function isMulticastMac(mac: string): boolean {
  return mac === BROADCAST_MAC || (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** Orders addresses: IPv4 by value, then IPv6 by value, then none. */
function ipKey(ip: string | null): string {
  if (ip === null) return 'z';
  const v4 = parseIPv4(ip);
  if (v4 !== null) return `4${v4.toString(16).padStart(8, '0')}`;
  const v6 = parseIPv6(ip);
  return v6 ? `6${Buffer.from(v6).toString('hex')}` : 'z';
}

const byIp = (a: string | null, b: string | null): number => {
  const x = ipKey(a);
  const y = ipKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** An address that says who the sender is: not "unspecified" (ARP probe, DAD). */
const specified = (ip: string): boolean => ip !== '0.0.0.0' && ip !== '::';

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Finds the forwarded frames: the same IPv4 packet re-sent by the MAC it was sent to. */
export function findForwards(frames: readonly WireFrame[]): Map<number, number> {
  const groups = new Map<string, WireFrame[]>();
  for (const f of frames) {
    if (f.l3Key === '') continue;
    const g = groups.get(f.l3Key);
    if (g) g.push(f);
    else groups.set(f.l3Key, [f]);
  }
  const out = new Map<number, number>();
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    for (let i = 1; i < g.length; i++) {
      const f = g[i]!;
      const prev = g.slice(0, i).reverse().find((p) => p.dstMac === f.srcMac && p.srcMac !== f.srcMac && p.ip!.ttl >= f.ip!.ttl);
      if (prev) out.set(f.n, prev.n);
    }
  }
  return out;
}

export function inferRoles(frames: readonly WireFrame[], o: RoleOptions = {}): Roles {
  const forwardOf = findForwards(frames);
  const facts = new RoleFacts();
  for (const f of frames) {
    const inN = forwardOf.get(f.n);
    facts.add(f, inN === undefined ? null : frames[inN - 1]!);
  }
  const marks = facts.base(o);
  for (const f of frames) marks.add(f, forwardOf.has(f.n));
  return marks.finish(forwardOf);
}

const addTo = <K, V>(m: Map<K, Set<V>>, k: K, v: V): void => {
  const s = m.get(k);
  if (s) s.add(v);
  else m.set(k, new Set([v]));
};

/**
 * What role inference needs from the frames, gathered in one streaming pass: counts and sets per
 * MAC and address (bounded by the hosts on the LAN, not by the frames), and the first SYN to each
 * server endpoint (at most `maxServiceKeys`).
 */
export class RoleFacts {
  /** ARP claims: MAC -> addresses it said it has (sender fields), with counts. */
  readonly claims = new Map<string, Map<string, number>>();
  readonly claimers = new Map<string, Set<string>>();
  readonly connTargets = new Set<string>();
  /** Forwarded frames with L4 whose sender did not send them back where they came from: dst -> srcs. */
  readonly fwdPairs = new Map<string, Set<string>>();
  /** Forwarded IPv4 frames: sender MAC -> addresses (src and dst). */
  readonly fwdSenders = new Map<string, Set<string>>();
  /** Gratuitous ARP: address -> MACs announcing it. */
  readonly garp = new Map<string, Set<string>>();
  /** IPv4 + L4 frames: source address -> source MACs, destination address -> destination MACs. */
  readonly l4From = new Map<string, string | Set<string>>();
  /** "address|MAC" of IPv4 + L4 frames' destinations, in first-seen order. */
  readonly l4To = new Set<string>();
  /** "address|MAC" of gratuitous ARP, in first-seen order. */
  readonly garpPairs = new Set<string>();
  /** First SYN (or UDP datagram) to each endpoint, in order. */
  readonly synKeys = new Map<string, Service>();
  /** Unicast MACs in first-seen order. */
  readonly macs = new Set<string>();
  /** Non-forwarded IPv4 frames: source MAC -> source address -> count. */
  readonly ipFrames = new Map<string, Map<string, number>>();
  /** ARP requests (not gratuitous): sender MAC -> target addresses. */
  readonly arpAsks = new Map<string, Set<string>>();

  constructor(readonly maxServiceKeys = 4096) {}

  /** The MACs that sent IPv4 + L4 frames from `ip`. */
  sendersOf(ip: string): string[] {
    const m = this.l4From.get(ip);
    return m === undefined ? [] : typeof m === 'string' ? [m] : [...m];
  }

  add(f: WireFrame, fwdOf: WireFrame | null): void {
    if (f.srcMac && !isMulticastMac(f.srcMac)) this.macs.add(f.srcMac);
    if (f.dstMac && !isMulticastMac(f.dstMac)) this.macs.add(f.dstMac);
    if (f.arp && specified(f.arp.spa)) {
      const m = this.claims.get(f.arp.sha) ?? this.claims.set(f.arp.sha, new Map()).get(f.arp.sha)!;
      bump(m, f.arp.spa);
      addTo(this.claimers, f.arp.spa, f.arp.sha);
    }
    if (f.arp?.gratuitous) {
      addTo(this.garp, f.arp.spa, f.arp.sha);
      this.garpPairs.add(`${f.arp.spa}|${f.arp.sha}`);
    }
    if (f.arp?.op === 'request' && !f.arp.gratuitous) addTo(this.arpAsks, f.arp.sha, f.arp.tpa);
    if (f.ip && f.l4) {
      const syn = f.l4.proto === 'udp' || (f.l4.flags.includes('SYN') && !f.l4.flags.includes('ACK'));
      if (syn) {
        this.connTargets.add(f.ip.dst);
        const key = `${f.l4.proto}/${f.ip.dst}:${f.l4.dstPort}`;
        if (!this.synKeys.has(key) && this.synKeys.size < this.maxServiceKeys) this.synKeys.set(key, { vip: f.ip.dst, port: f.l4.dstPort, proto: f.l4.proto });
      }
      const had = this.l4From.get(f.ip.src);
      // One MAC per address, as a rule: a string until there is a second.
      if (had === undefined) this.l4From.set(f.ip.src, f.srcMac);
      else if (typeof had === 'string') {
        if (had !== f.srcMac) this.l4From.set(f.ip.src, new Set([had, f.srcMac]));
      } else had.add(f.srcMac);
      this.l4To.add(`${f.ip.dst}|${f.dstMac}`);
    }
    if (fwdOf && f.ip) {
      if (f.l4 && fwdOf.srcMac !== f.dstMac) addTo(this.fwdPairs, f.ip.dst, f.ip.src);
      const s = this.fwdSenders.get(f.srcMac) ?? this.fwdSenders.set(f.srcMac, new Set()).get(f.srcMac)!;
      s.add(f.ip.dst);
      s.add(f.ip.src);
    }
    if (f.ip && !fwdOf && specified(f.ip.src) && !isMulticastMac(f.srcMac)) {
      bump(this.ipFrames.get(f.srcMac) ?? this.ipFrames.set(f.srcMac, new Map()).get(f.srcMac)!, f.ip.src);
    }
  }

  /** VIPs, services, directors and the hosts' addresses; the clients and reals need a second pass. */
  base(o: RoleOptions = {}): RoleMarks {
    const { claims, claimers, connTargets } = this;
    const vips = new Set<string>();
    const services: Service[] = [];
    const realIps = new Set<string>();
    let source: Roles['source'] = 'inferred';
    if (o.config) {
      source = 'config';
      for (const v of o.config.virtuals) {
        if (v.protocol === 'fwm') continue;
        // An IPv6 service (virtual6=) has its VIP6 and its reals' addresses as canonical text.
        const vip = v.address !== null ? ipToString(v.address) : v.address6;
        if (vip === undefined) continue;
        vips.add(vip);
        services.push({ vip, port: v.port, proto: v.protocol });
        for (const r of v.reals) realIps.add(r.address6 ?? ipToString(r.address));
      }
    } else {
      // A forwarded request goes to the VIP; a forwarded reply (not DSR) comes from it.
      for (const [dst, srcs] of this.fwdPairs) {
        if (connTargets.has(dst)) vips.add(dst);
        else for (const s of srcs) vips.add(s);
      }
      for (const [ip, macs] of claimers) {
        if (macs.size >= 2 && connTargets.has(ip)) vips.add(ip);
      }
      for (const [, m] of claims) {
        if (m.size < 2) continue;
        // A MAC that claims two addresses: the one that receives connections and that other MACs
        // send replies from is a VIP; so is one it announces gratuitously.
        for (const ip of m.keys()) {
          const garp = this.garp.has(ip);
          const repliedFromElsewhere = this.sendersOf(ip).some((mac) => !claimers.get(ip)?.has(mac));
          if (connTargets.has(ip) && (garp || repliedFromElsewhere)) vips.add(ip);
        }
      }
      for (const s of this.synKeys.values()) if (vips.has(s.vip)) services.push(s);
    }

    // Directors.
    const directorMacs = new Set<string>();
    for (const [mac, ips] of this.fwdSenders) if ([...ips].some((ip) => vips.has(ip))) directorMacs.add(mac);
    if (directorMacs.size === 0) {
      for (const p of this.garpPairs) {
        const [ip, mac] = p.split('|') as [string, string];
        if (vips.has(ip)) directorMacs.add(mac);
      }
    }
    if (directorMacs.size === 0) {
      const toVip = new Set<string>();
      const fromVip = new Set<string>();
      for (const p of this.l4To) {
        const [ip, mac] = p.split('|') as [string, string];
        if (vips.has(ip)) toVip.add(mac);
      }
      for (const v of vips) for (const m of this.sendersOf(v)) fromVip.add(m);
      for (const m of toVip) if (!fromVip.has(m) && !isMulticastMac(m)) directorMacs.add(m);
    }

    // Hosts and their own addresses.
    const byMac = new Map<string, Host>();
    for (const mac of this.macs) byMac.set(mac, { mac, ip: null, roles: [], name: o.names?.[mac] ?? null });
    const ipVotes = new Map<string, Map<string, number>>();
    for (const [mac, m] of claims) {
      for (const [ip, c] of m) if (!vips.has(ip)) ipVotes.set(mac, ipVotes.get(mac) ?? new Map()).get(mac)!.set(ip, c * 100);
    }
    for (const [mac, m] of this.ipFrames) {
      for (const [ip, c] of m) {
        if (vips.has(ip)) continue;
        const v = ipVotes.get(mac) ?? ipVotes.set(mac, new Map()).get(mac)!;
        v.set(ip, (v.get(ip) ?? 0) + c);
      }
    }
    for (const [mac, m] of ipVotes) {
      // A link-local address (NDP between neighbours) names the host only when it has no other.
      const score = (ip: string, c: number): number => (isLinkLocal6(ip) ? c / 1e6 : c);
      const best = [...m].sort((a, b) => score(b[0], b[1]) - score(a[0], a[1]))[0];
      if (best && byMac.has(mac)) byMac.get(mac)!.ip = best[0];
    }
    return new RoleMarks({ source, vips, services, realIps, directorMacs, byMac, arpAsks: this.arpAsks, config: !!o.config, names: o.names });
  }
}

interface BaseRoles {
  source: Roles['source'];
  vips: Set<string>;
  services: Service[];
  realIps: Set<string>;
  directorMacs: Set<string>;
  byMac: Map<string, Host>;
  arpAsks: Map<string, Set<string>>;
  config: boolean;
  names?: Readonly<Record<string, string>>;
}

/** The second pass: who sends connections to a service (clients) and who answers them (reals). */
export class RoleMarks {
  private readonly marks: Array<[string, Role]> = [];
  private readonly seen = new Set<string>();
  constructor(readonly b: BaseRoles) {}

  isService(ip: string, port: number, proto: string): boolean {
    return this.b.services.some((s) => s.vip === ip && s.port === port && s.proto === proto);
  }

  private mark(mac: string, r: Role): void {
    const k = `${r}|${mac}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.marks.push([mac, r]);
  }

  add(f: WireFrame, forwarded: boolean): void {
    if (!f.ip || !f.l4) return;
    const { vips } = this.b;
    if (vips.has(f.ip.src) && !forwarded && this.isService(f.ip.src, f.l4.srcPort, f.l4.proto)) {
      // Replies from the VIP (not re-sent by a director): the sender is a real server.
      this.mark(f.srcMac, 'real');
    }
    if (vips.has(f.ip.dst) && this.isService(f.ip.dst, f.l4.dstPort, f.l4.proto)) {
      if (forwarded) this.mark(f.dstMac, 'real');
      else if (!isMulticastMac(f.srcMac)) this.mark(f.srcMac, 'client');
    }
  }

  finish(forwardOf: Map<number, number>): Roles {
    const { vips, services, realIps, directorMacs, byMac, source } = this.b;
    const host = (mac: string): Host => {
      let h = byMac.get(mac);
      if (!h) {
        h = { mac, ip: null, roles: [], name: this.b.names?.[mac] ?? null };
        byMac.set(mac, h);
      }
      return h;
    };
    const addRole = (mac: string, r: Role): void => {
      const h = host(mac);
      if (!h.roles.includes(r)) h.roles.push(r);
    };
    for (const mac of directorMacs) addRole(mac, 'director');
    for (const [mac, r] of this.marks) addRole(mac, r);
    // Without a configuration, the addresses the director resolves (other than clients) are its reals.
    if (!this.b.config) {
      const clientIps = new Set([...byMac.values()].filter((h) => h.roles.includes('client')).map((h) => h.ip));
      for (const [sha, tpas] of this.b.arpAsks) {
        if (!directorMacs.has(sha)) continue;
        for (const tpa of tpas) {
          if (vips.has(tpa) || clientIps.has(tpa)) continue;
          if ([...byMac.values()].some((x) => x.ip === tpa && !x.roles.includes('client'))) realIps.add(tpa);
        }
      }
    }
    for (const h of byMac.values()) {
      if (h.ip && realIps.has(h.ip)) {
        if (!h.roles.includes('real')) h.roles.push('real');
      }
      if (h.roles.includes('real') && h.ip) realIps.add(h.ip);
    }
    const rank = (h: Host): number =>
      h.roles.includes('client') ? 0 : h.roles.includes('director') ? 1 : h.roles.includes('real') ? 2 : 3;
    const hosts = [...byMac.values()].sort((a, b) => rank(a) - rank(b) || byIp(a.ip, b.ip) || a.mac.localeCompare(b.mac));
    for (const h of hosts) h.roles.sort((a, b) => ['client', 'director', 'real'].indexOf(a) - ['client', 'director', 'real'].indexOf(b));
    return {
      source,
      vips: [...vips].sort(byIp),
      services,
      hosts,
      byMac,
      directorMacs,
      realIps: [...realIps].sort(byIp),
      forwardOf,
    };
  }
}

/** "director + real", "client", "real", or "host". */
export function roleText(h: Host): string {
  return h.roles.length ? h.roles.join(' + ') : 'host';
}

/** The short name of a lane: the given name, else the address, else the MAC. */
export function hostLabel(h: Host): string {
  return h.name ?? h.ip ?? h.mac;
}
