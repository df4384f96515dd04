/**
 * ARP suppression rules for a real server that holds the VIP on `lo` (pure: strings in, strings out).
 *
 * Two rules, as in shared/seed-configs/arptables:
 *   - incoming ARP asking for the VIP is dropped (only the active director answers for it);
 *   - outgoing ARP that would carry the VIP as sender address (the kernel picks the packet's source,
 *     which is the VIP when the host answers a client through DSR) is rewritten to carry the host's
 *     own address, so no neighbour ever learns "VIP is at this host's MAC".
 *
 * Chain names differ between implementations: Red Hat's arptables_jf (the seed, CentOS 4) calls the
 * chains IN and OUT; the netfilter arptables 0.0.x (Debian's `arptables` package, "arptables-legacy")
 * and arptables-nft call them INPUT and OUTPUT and reject IN/OUT ("No chain/target/match by that name").
 */

export type ArptablesDialect = 'jf' | 'netfilter';

export interface ArpRuleParams {
  vip: string;
  /** The host's own (real) address that outgoing ARP should carry instead of the VIP. */
  rip: string;
  /** The LAN interface, `eth0` in the seed. */
  iface: string;
  /** 'jf' (default, as in the seed file: IN/OUT) or 'netfilter' (INPUT/OUTPUT, Debian 12). */
  dialect?: ArptablesDialect;
}

function chains(dialect: ArptablesDialect): { input: string; output: string } {
  return dialect === 'jf' ? { input: 'IN', output: 'OUT' } : { input: 'INPUT', output: 'OUTPUT' };
}

/**
 * The rule lines, in order, e.g.
 *   -A IN -d 192.168.0.10 -j DROP
 *   -A OUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.7
 */
export function renderArptablesRules(p: ArpRuleParams): string[] {
  const c = chains(p.dialect ?? 'jf');
  return [
    `-A ${c.input} -d ${p.vip} -j DROP`,
    `-A ${c.output} -s ${p.vip} -o ${p.iface} -j mangle --mangle-ip-s ${p.rip}`,
  ];
}

/** A whole arptables-save/-restore file, as the seed's (without the packet counters). */
export function renderArptablesSave(p: ArpRuleParams): string {
  const c = chains(p.dialect ?? 'jf');
  return ['*filter', `:${c.input} ACCEPT`, `:${c.output} ACCEPT`, ':FORWARD ACCEPT', ...renderArptablesRules(p), 'COMMIT', ''].join(
    '\n',
  );
}

/** A rule line as an argv for the arptables binary (the lines hold no quoting, so split on blanks). */
export function ruleToArgv(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** The same rule with `-A` turned into `-D` (delete), for undo. */
export function deleteArgv(line: string): string[] {
  const argv = ruleToArgv(line);
  if (argv[0] === '-A') argv[0] = '-D';
  return argv;
}

/**
 * A canonical key for a rule, independent of option order and of the counters arptables-save
 * prints (`[6:168]`): the chain, then the sorted "option value" pairs. `-i *`/`-o *` (any) are dropped.
 * Returns null for lines that are not rules.
 */
export function ruleKey(line: string): string | null {
  const toks = ruleToArgv(line.replace(/^\[\d+:\d+\]\s*/, '').replace(/,\s*pcnt=.*$/, ''));
  if (toks[0] !== '-A' || toks.length < 2) return null;
  const chain = toks[1]!;
  const pairs: string[] = [];
  for (let i = 2; i < toks.length; i += 2) {
    const k = toks[i]!;
    const v = toks[i + 1] ?? '';
    if ((k === '-i' || k === '-o') && v === '*') continue;
    pairs.push(`${k} ${v}`);
  }
  pairs.sort();
  return `${chain}|${pairs.join('|')}`;
}

/** Which of `expected` rule lines are missing from an arptables-save listing. */
export function missingRules(expected: readonly string[], saveOutput: string): string[] {
  const have = new Set<string>();
  for (const l of saveOutput.split('\n')) {
    const k = ruleKey(l);
    if (k) have.add(k);
  }
  return expected.filter((e) => !have.has(ruleKey(e) ?? e));
}

/**
 * Turns `arptables -L -n` output (a "Chain NAME (policy …)" header, then one rule per line) into
 * `-A NAME …` lines that ruleKey() understands.
 */
export function listingToRules(listing: string): string[] {
  const out: string[] = [];
  let chain = '';
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    const m = /^Chain\s+(\S+)/.exec(line);
    if (m) {
      chain = m[1]!;
      continue;
    }
    if (line && chain && line.startsWith('-')) out.push(`-A ${chain} ${line}`);
  }
  return out;
}

/** Name of the nftables table that holds the ARP suppression rules (`--arp-style nft`). */
export const NFT_ARP_TABLE = 'dsrlb_noarp';

/**
 * The same two rules for nftables' `arp` family (no arptables binary needed; works on kernels
 * with CONFIG_NF_TABLES_ARP), as `nft` argv lists to run in order. Undo: `nft delete table arp dsrlb_noarp`.
 */
export function nftArpCommands(p: Omit<ArpRuleParams, 'dialect'>): string[][] {
  const t = NFT_ARP_TABLE;
  return [
    ['add', 'table', 'arp', t],
    ['add', 'chain', 'arp', t, 'in', '{ type filter hook input priority 0; }'],
    ['add', 'rule', 'arp', t, 'in', 'arp', 'daddr', 'ip', p.vip, 'drop'],
    ['add', 'chain', 'arp', t, 'out', '{ type filter hook output priority 0; }'],
    ['add', 'rule', 'arp', t, 'out', 'oifname', p.iface, 'arp', 'saddr', 'ip', p.vip, 'arp', 'saddr', 'ip', 'set', p.rip],
  ];
}

/** The same as an `nft -f` file. */
export function renderNftArpRuleset(p: Omit<ArpRuleParams, 'dialect'>): string {
  return [
    `table arp ${NFT_ARP_TABLE} {`,
    '\tchain in {',
    '\t\ttype filter hook input priority 0; policy accept;',
    `\t\tarp daddr ip ${p.vip} drop`,
    '\t}',
    '\tchain out {',
    '\t\ttype filter hook output priority 0; policy accept;',
    `\t\toifname "${p.iface}" arp saddr ip ${p.vip} arp saddr ip set ${p.rip}`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** Which of the two nft rules are missing from `nft list table arp dsrlb_noarp` output. */
export function missingNftRules(p: Omit<ArpRuleParams, 'dialect'>, listing: string): string[] {
  const want = [
    `arp daddr ip ${p.vip} drop`,
    `oifname "${p.iface}" arp saddr ip ${p.vip} arp saddr ip set ${p.rip}`,
  ];
  const lines = listing.split('\n').map((l) => l.trim());
  return want.filter((w) => !lines.includes(w));
}
