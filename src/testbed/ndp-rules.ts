/**
 * NDP suppression rules for a real server that holds an IPv6 VIP (VIP6): the IPv6 form of the ARP
 * rules in arp-rules.ts, as an nftables `ip6` table (pure: strings in, strings out).
 *
 * What was measured on Linux 6.18 (docs/arp-problem.md, "The NDP problem"): with the VIP6 on `lo`
 * the kernel answers no Neighbor Solicitation for it arriving on eth0, so these rules change nothing
 * there; they are the guard for the cases where it does answer (the VIP6 on the wire interface, or a
 * proxy-NDP entry for it). Two rules:
 *   - incoming NS whose target is the VIP6 is dropped (the kernel never sees the question);
 *   - outgoing NA whose target is the VIP6 is dropped on the wire interface (answers, the answer to
 *     a duplicate-address probe, unsolicited advertisements).
 * nft 1.0.6 (Debian 12) has no name for the NS/NA target field: it is matched as raw transport
 * payload, bits 64..191 of the ICMPv6 message (`@th,64,128`), and nft takes the value only as a
 * hexadecimal number, not in address form (checked: `nft -c` refuses `@th,64,128 2001:db8::10`).
 */
import { DsrlbError } from '../errors/index.ts';
import { ipv6ToHex, ipv6ToString, parseIPv6 } from '../model/index.ts';

/** Name of the nftables table (family ip6) that holds the NDP suppression rules. */
export const NFT_NDP_TABLE = 'dsrlb_nondp';

export interface NdpRuleParams {
  /** The VIP6 (any text form; rendered canonical). */
  vip6: string;
  /** The LAN interface. */
  iface: string;
}

/**
 * Checks a VIP6 given on the command line and returns its canonical text. A VIP6 is a unicast
 * address a client can reach: not unspecified, loopback, multicast, link-local or IPv4-mapped.
 */
export function checkVip6(text: string, what = '--vip6'): string {
  const b = parseIPv6(text);
  if (!b) throw new DsrlbError('E_USAGE', `${what}: ${JSON.stringify(text)} is not an IPv6 address (e.g. 2001:db8::10; no prefix length, no %zone)`);
  const canon = ipv6ToString(b);
  const bad = (why: string): never => {
    throw new DsrlbError('E_USAGE', `${what}: ${canon} is ${why}, not a VIP6`);
  };
  if (b.every((x) => x === 0)) bad('the unspecified address');
  if (canon === '::1') bad('the loopback address');
  if (b[0] === 0xff) bad('a multicast address');
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) bad('a link-local address');
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) bad('an IPv4-mapped address (give the IPv4 VIP with --vip)');
  return canon;
}

/** The raw-payload match of the NS/NA target field for this address. */
export function targetMatch(vip6: string): string {
  const b = parseIPv6(vip6);
  if (!b) throw new DsrlbError('E_USAGE', `not an IPv6 address: ${vip6}`);
  return `@th,64,128 0x${ipv6ToHex(b)}`;
}

function ruleLines(p: NdpRuleParams): { in: string; out: string } {
  const m = targetMatch(p.vip6);
  return {
    in: `icmpv6 type nd-neighbor-solicit ${m} drop`,
    out: `oifname "${p.iface}" icmpv6 type nd-neighbor-advert ${m} drop`,
  };
}

/** The rules as `nft` argv lists to run in order. Undo: `nft delete table ip6 dsrlb_nondp`. */
export function nftNdpCommands(p: NdpRuleParams): string[][] {
  const t = NFT_NDP_TABLE;
  const r = ruleLines(p);
  return [
    ['add', 'table', 'ip6', t],
    ['add', 'chain', 'ip6', t, 'in', '{ type filter hook input priority 0; }'],
    ['add', 'rule', 'ip6', t, 'in', ...r.in.split(' ')],
    ['add', 'chain', 'ip6', t, 'out', '{ type filter hook output priority 0; }'],
    ['add', 'rule', 'ip6', t, 'out', ...r.out.split(' ')],
  ];
}

/** The same as an `nft -f` file, each rule with a comment naming the VIP6 in address form. */
export function renderNftNdpRuleset(p: NdpRuleParams): string {
  const r = ruleLines(p);
  const v = ipv6ToString(parseIPv6(p.vip6)!);
  return [
    `table ip6 ${NFT_NDP_TABLE} {`,
    '\tchain in {',
    '\t\ttype filter hook input priority 0; policy accept;',
    `\t\t# Neighbor Solicitations asking for ${v}`,
    `\t\t${r.in}`,
    '\t}',
    '\tchain out {',
    '\t\ttype filter hook output priority 0; policy accept;',
    `\t\t# Neighbor Advertisements for ${v}`,
    `\t\t${r.out}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/**
 * What a `nft list ruleset` listing holds against NDP for the VIP6, in any table of family ip6 or
 * inet: a rule dropping incoming NS for it, one dropping outgoing NA for it (as nft 1.0.6 lists
 * the rules above back; the `oifname` part may be absent or name another interface).
 */
export function nftNdpRules(listing: string | null, vip6: string): { inDrop: boolean; outDrop: boolean } {
  if (!listing) return { inDrop: false, outDrop: false };
  const b = parseIPv6(vip6);
  if (!b) return { inDrop: false, outDrop: false };
  const hex = ipv6ToHex(b);
  let inDrop = false;
  let outDrop = false;
  for (const raw of listing.split('\n')) {
    const l = raw.trim();
    if (!new RegExp(`@th,64,128 0x0*${hex.replace(/^0+/, '')}\\b`, 'i').test(l) || !/\bdrop$/.test(l)) continue;
    if (/nd-neighbor-solicit/.test(l)) inDrop = true;
    if (/nd-neighbor-advert/.test(l)) outDrop = true;
  }
  return { inDrop, outDrop };
}
