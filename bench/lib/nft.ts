/**
 * nftables pieces of the benchmark: the kernel DSR forwarder (the `nft` path), the counters at the
 * reals (what was delivered) and at the director (frames FROM the VIP, which DSR must never bring
 * there). Rendering is pure; applying runs `nft` inside the namespace.
 */
import { mustRunInNs } from './exec.ts';

/** The kernel DSR path: netdev ingress on the director, per-flow hash over the reals, then fwd. */
export const NFT_FWD_TABLE = 'dsrbnft';
/** Counters on each real: UDP datagrams and TCP SYNs of the services, at ingress. */
export const REAL_COUNTER_TABLE = 'dsrbench';
/** Counter on the director: frames whose source is the VIP (replies that came through it). */
export const DIRECTOR_COUNTER_TABLE = 'dsrbdir';
/** The cref path's ingress drop on the director (what dsrlb's own dsrlb_<iface> table does for dsrlb). */
export const CREF_DROP_TABLE = 'dsrbcref';

export interface FwdSpec {
  iface: string;
  /** The VIP, or the VIP6 with `family: 'ip6'`. */
  vip: string;
  /** nft's name of the network header: ip (default) or ip6 (the nft6 path). */
  family?: 'ip' | 'ip6';
  directorMac: string;
  realMacs: readonly string[];
  services: ReadonlyArray<{ proto: 'tcp' | 'udp'; port: number }>;
}

/**
 * `ip daddr VIP tcp dport 80 ether saddr set DIRMAC ether daddr set jhash ip saddr . tcp sport mod N
 * map { 0 : MAC0, … } fwd to IF`: the source MAC must be the director's (or the bridge learns the
 * client's MAC on the director's port), and the choice is per flow (per packet would break TCP).
 * The IPv6 form is the same rule with `ip6 daddr VIP6` and `jhash ip6 saddr . …`: the frame goes on
 * unchanged but for its MACs (a netdev fwd does not touch the hop limit).
 */
export function nftFwdRuleset(s: FwdSpec): string {
  if (s.realMacs.length === 0) throw new Error('nft fwd needs at least one real');
  const fam = s.family ?? 'ip';
  const map = s.realMacs.map((m, i) => `${i} : ${m}`).join(', ');
  const rules = s.services.map(
    (v) =>
      `    ${fam} daddr ${s.vip} ${v.proto} dport ${v.port} ether saddr set ${s.directorMac} ` +
      `ether daddr set jhash ${fam} saddr . ${v.proto} sport mod ${s.realMacs.length} map { ${map} } fwd to "${s.iface}"`,
  );
  return [
    `table netdev ${NFT_FWD_TABLE} {`,
    `  chain in {`,
    `    type filter hook ingress device "${s.iface}" priority 0;`,
    ...rules,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** `addrs6` (the real's own IPv6 address and the VIP6) adds the same counts for IPv6 frames. */
export function realCountersRuleset(s: { iface: string; addrs: readonly string[]; addrs6?: readonly string[]; udpPort: number; tcpPort: number }): string {
  const set = `{ ${s.addrs.join(', ')} }`;
  const v6 = s.addrs6?.length
    ? [
      `    ip6 daddr { ${s.addrs6.join(', ')} } udp dport ${s.udpPort} counter name "udp_in" drop`,
      `    ip6 daddr { ${s.addrs6.join(', ')} } tcp dport ${s.tcpPort} tcp flags & (syn | ack) == syn counter name "syn_in"`,
    ]
    : [];
  return [
    `table netdev ${REAL_COUNTER_TABLE} {`,
    `  counter udp_in { }`,
    `  counter syn_in { }`,
    `  chain in {`,
    `    type filter hook ingress device "${s.iface}" priority -500;`,
    `    ip daddr ${set} udp dport ${s.udpPort} counter name "udp_in" drop`,
    `    ip daddr ${set} tcp dport ${s.tcpPort} tcp flags & (syn | ack) == syn counter name "syn_in"`,
    ...v6,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** `vip6` counts frames from the VIP6 too (the IPv6 paths' replies must not come through either). */
export function directorCounterRuleset(s: { iface: string; vip: string; vip6?: string }): string {
  return [
    `table netdev ${DIRECTOR_COUNTER_TABLE} {`,
    `  counter from_vip { }`,
    `  chain in {`,
    `    type filter hook ingress device "${s.iface}" priority -500;`,
    `    ip saddr ${s.vip} counter name "from_vip"`,
    ...(s.vip6 ? [`    ip6 saddr ${s.vip6} counter name "from_vip"`] : []),
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/**
 * The cref path: the director's own stack (which holds the VIP on lo) must not see the services'
 * frames, which cref forwards from its AF_PACKET socket (taps see a frame before netdev ingress).
 */
export function crefDropRuleset(s: { iface: string; vip: string; services: ReadonlyArray<{ proto: 'tcp' | 'udp'; port: number }> }): string {
  return [
    `table netdev ${CREF_DROP_TABLE} {`,
    `  chain in {`,
    `    type filter hook ingress device "${s.iface}" priority 0;`,
    ...s.services.map((v) => `    ip daddr ${s.vip} ${v.proto} dport ${v.port} drop`),
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** Named counters' packet counts from `nft -j list counters table …`. */
export function parseCounters(json: string): Record<string, number> {
  const out: Record<string, number> = {};
  const doc = JSON.parse(json) as { nftables?: Array<{ counter?: { name: string; packets: number } }> };
  for (const o of doc.nftables ?? []) if (o.counter) out[o.counter.name] = o.counter.packets;
  return out;
}

/** Table names (family netdev) from `nft -j list tables`. */
export function parseTables(json: string): string[] {
  const doc = JSON.parse(json) as { nftables?: Array<{ table?: { family: string; name: string } }> };
  return (doc.nftables ?? []).flatMap((o) => (o.table ? [`${o.table.family} ${o.table.name}`] : []));
}

export async function nftApply(ns: string, ruleset: string): Promise<void> {
  await mustRunInNs(ns, ['nft', '-f', '-'], { input: ruleset });
}

export async function nftTables(ns: string): Promise<string[]> {
  return parseTables(await mustRunInNs(ns, ['nft', '-j', 'list', 'tables']));
}

/** Deletes a netdev table when present. */
export async function nftDeleteTable(ns: string, table: string): Promise<void> {
  if ((await nftTables(ns)).includes(`netdev ${table}`)) await mustRunInNs(ns, ['nft', 'delete', 'table', 'netdev', table]);
}

export async function nftCounters(ns: string, table: string): Promise<Record<string, number>> {
  return parseCounters(await mustRunInNs(ns, ['nft', '-j', 'list', 'counters', 'table', 'netdev', table]));
}
