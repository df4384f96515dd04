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
import { ipToString, parseIPv4 } from '../model/index.ts';
import type { LdirectordConfig } from '../config/index.ts';
import { BROADCAST_MAC, type WireFrame } from './frames.ts';

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

function ipNum(ip: string | null): number {
  return ip === null ? Number.MAX_SAFE_INTEGER : (parseIPv4(ip) ?? Number.MAX_SAFE_INTEGER);
}

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
  const forwarded = new Set(forwardOf.keys());

  // ARP claims: MAC -> addresses it said it has (sender fields), with counts.
  const claims = new Map<string, Map<string, number>>();
  const claimers = new Map<string, Set<string>>();
  for (const f of frames) {
    if (!f.arp || f.arp.spa === '0.0.0.0') continue;
    const m = claims.get(f.arp.sha) ?? claims.set(f.arp.sha, new Map()).get(f.arp.sha)!;
    bump(m, f.arp.spa);
    (claimers.get(f.arp.spa) ?? claimers.set(f.arp.spa, new Set()).get(f.arp.spa)!).add(f.arp.sha);
  }
  const connTargets = new Set<string>();
  for (const f of frames) {
    if (!f.ip || !f.l4) continue;
    if ((f.l4.proto === 'tcp' && f.l4.flags.includes('SYN') && !f.l4.flags.includes('ACK')) || f.l4.proto === 'udp') connTargets.add(f.ip.dst);
  }

  // VIPs and services.
  const vips = new Set<string>();
  const services: Service[] = [];
  const realIps = new Set<string>();
  let source: Roles['source'] = 'inferred';
  if (o.config) {
    source = 'config';
    for (const v of o.config.virtuals) {
      if (v.address === null || v.protocol === 'fwm') continue;
      const vip = ipToString(v.address);
      vips.add(vip);
      services.push({ vip, port: v.port, proto: v.protocol });
      for (const r of v.reals) realIps.add(ipToString(r.address));
    }
  } else {
    for (const n of forwarded) {
      const f = frames[n - 1]!;
      const inF = frames[forwardOf.get(n)! - 1]!;
      // A forwarded request goes to the VIP; a forwarded reply (not DSR) comes from it.
      if (f.l4 && inF.srcMac !== f.dstMac) vips.add(connTargets.has(f.ip!.dst) ? f.ip!.dst : f.ip!.src);
    }
    for (const [ip, macs] of claimers) {
      if (macs.size >= 2 && connTargets.has(ip)) vips.add(ip);
    }
    for (const [, m] of claims) {
      if (m.size < 2) continue;
      // A MAC that claims two addresses: the one that receives connections and that other MACs
      // send replies from is a VIP; so is one it announces gratuitously.
      for (const ip of m.keys()) {
        const garp = frames.some((f) => f.arp?.gratuitous && f.arp.spa === ip);
        const repliedFromElsewhere = frames.some((f) => f.ip?.src === ip && f.l4 && !claimers.get(ip)?.has(f.srcMac));
        if (connTargets.has(ip) && (garp || repliedFromElsewhere)) vips.add(ip);
      }
    }
    const seen = new Set<string>();
    for (const f of frames) {
      if (!f.ip || !f.l4 || !vips.has(f.ip.dst)) continue;
      const syn = f.l4.proto === 'udp' || (f.l4.flags.includes('SYN') && !f.l4.flags.includes('ACK'));
      const key = `${f.l4.proto}/${f.ip.dst}:${f.l4.dstPort}`;
      if (syn && !seen.has(key)) {
        seen.add(key);
        services.push({ vip: f.ip.dst, port: f.l4.dstPort, proto: f.l4.proto });
      }
    }
  }
  const isService = (ip: string, port: number, proto: string): boolean =>
    services.some((s) => s.vip === ip && s.port === port && s.proto === proto);

  // Directors.
  const directorMacs = new Set<string>();
  for (const n of forwarded) {
    const f = frames[n - 1]!;
    if (f.ip && (vips.has(f.ip.dst) || vips.has(f.ip.src))) directorMacs.add(f.srcMac);
  }
  if (directorMacs.size === 0) {
    for (const f of frames) if (f.arp?.gratuitous && vips.has(f.arp.spa)) directorMacs.add(f.arp.sha);
  }
  if (directorMacs.size === 0) {
    const toVip = new Set<string>();
    const fromVip = new Set<string>();
    for (const f of frames) {
      if (!f.ip || !f.l4) continue;
      if (vips.has(f.ip.dst)) toVip.add(f.dstMac);
      if (vips.has(f.ip.src)) fromVip.add(f.srcMac);
    }
    for (const m of toVip) if (!fromVip.has(m) && !isMulticastMac(m)) directorMacs.add(m);
  }

  // Hosts and their own addresses.
  const byMac = new Map<string, Host>();
  const host = (mac: string): Host => {
    let h = byMac.get(mac);
    if (!h) {
      h = { mac, ip: null, roles: [], name: o.names?.[mac] ?? null };
      byMac.set(mac, h);
    }
    return h;
  };
  const addRole = (mac: string, r: Role): void => {
    const h = host(mac);
    if (!h.roles.includes(r)) h.roles.push(r);
  };
  for (const f of frames) {
    if (f.srcMac && !isMulticastMac(f.srcMac)) host(f.srcMac);
    if (f.dstMac && !isMulticastMac(f.dstMac)) host(f.dstMac);
  }
  const ipVotes = new Map<string, Map<string, number>>();
  for (const [mac, m] of claims) {
    for (const [ip, c] of m) if (!vips.has(ip)) ipVotes.set(mac, ipVotes.get(mac) ?? new Map()).get(mac)!.set(ip, c * 100);
  }
  for (const f of frames) {
    if (!f.ip || forwarded.has(f.n) || vips.has(f.ip.src) || f.ip.src === '0.0.0.0' || isMulticastMac(f.srcMac)) continue;
    const m = ipVotes.get(f.srcMac) ?? ipVotes.set(f.srcMac, new Map()).get(f.srcMac)!;
    bump(m, f.ip.src);
  }
  for (const [mac, m] of ipVotes) {
    const best = [...m].sort((a, b) => b[1] - a[1])[0];
    if (best && byMac.has(mac)) byMac.get(mac)!.ip = best[0];
  }
  for (const mac of directorMacs) addRole(mac, 'director');
  for (const f of frames) {
    if (!f.ip || !f.l4) continue;
    if (vips.has(f.ip.src) && isService(f.ip.src, f.l4.srcPort, f.l4.proto) && !forwarded.has(f.n)) {
      // Replies from the VIP (not re-sent by a director): the sender is a real server.
      addRole(f.srcMac, 'real');
    }
    if (vips.has(f.ip.dst) && isService(f.ip.dst, f.l4.dstPort, f.l4.proto)) {
      if (forwarded.has(f.n)) addRole(f.dstMac, 'real');
      else if (!isMulticastMac(f.srcMac)) addRole(f.srcMac, 'client');
    }
  }
  // Without a configuration, the addresses the director resolves (other than clients) are its reals.
  if (!o.config) {
    const clientIps = new Set([...byMac.values()].filter((h) => h.roles.includes('client')).map((h) => h.ip));
    for (const f of frames) {
      if (f.arp?.op !== 'request' || !directorMacs.has(f.arp.sha) || f.arp.gratuitous) continue;
      if (vips.has(f.arp.tpa) || clientIps.has(f.arp.tpa)) continue;
      const h = [...byMac.values()].find((x) => x.ip === f.arp!.tpa && !x.roles.includes('client'));
      if (h) realIps.add(f.arp.tpa);
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
  const hosts = [...byMac.values()].sort((a, b) => rank(a) - rank(b) || ipNum(a.ip) - ipNum(b.ip) || a.mac.localeCompare(b.mac));
  for (const h of hosts) h.roles.sort((a, b) => ['client', 'director', 'real'].indexOf(a) - ['client', 'director', 'real'].indexOf(b));
  return {
    source,
    vips: [...vips].sort((a, b) => ipNum(a) - ipNum(b)),
    services,
    hosts,
    byMac,
    directorMacs,
    realIps: [...realIps].sort((a, b) => ipNum(a) - ipNum(b)),
    forwardOf,
  };
}

/** "director + real", "client", "real", or "host". */
export function roleText(h: Host): string {
  return h.roles.length ? h.roles.join(' + ') : 'host';
}

/** The short name of a lane: the given name, else the address, else the MAC. */
export function hostLabel(h: Host): string {
  return h.name ?? h.ip ?? h.mac;
}
