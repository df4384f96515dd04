/**
 * dsrlb arp-rules --vip VIP --rip RIP --iface IF [--dialect jf|netfilter] [--format rules|save|nft] [--apply|--remove]
 * dsrlb arp-rules --vip6 VIP6 --iface IF [--apply|--remove]
 *
 * The ARP suppression rules of a real server that holds the VIP on lo (the seed's arptables file):
 * printed, or applied / removed on this host (idempotent: a rule is never added twice, removing an
 * absent rule is fine). Also used by `dsrlb ha` to lift and restore the suppression on takeover
 * and giveup.
 *
 * With --vip6 (alone or beside --vip): the IPv6 form, an nftables ip6 table that drops incoming
 * Neighbor Solicitations for the VIP6 and outgoing Neighbor Advertisements for it
 * (src/testbed/ndp-rules.ts; docs/arp-problem.md says when Linux needs them).
 */
import { execFile } from 'node:child_process';
import { DsrlbError } from '../../errors/index.ts';
import { parseIPv4 } from '../../model/index.ts';
import {
  NFT_NDP_TABLE, checkVip6, nftArpCommands, nftNdpCommands, renderArptablesRules, renderArptablesSave, renderNftArpRuleset, renderNftNdpRuleset,
  type ArptablesDialect, type NdpRuleParams,
} from '../../testbed/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';

export type ArpSuppressionStyle = 'arptables' | 'nft';

export interface ArpSuppression {
  style: ArpSuppressionStyle;
  dialect: ArptablesDialect;
  vip: string;
  rip: string;
  iface: string;
}

/** The commands that put the suppression in place (run in order; each argv[0] is the program). */
export function applyCommands(s: ArpSuppression): Array<{ argv: string[]; mayFail: boolean }> {
  if (s.style === 'nft') {
    return [
      { argv: ['nft', 'delete', 'table', 'arp', 'dsrlb_noarp'], mayFail: true },
      ...nftArpCommands(s).map((a) => ({ argv: ['nft', ...a], mayFail: false })),
    ];
  }
  const rules = renderArptablesRules(s).map((l) => l.split(/\s+/));
  // Delete first (a copy left by a crash), then add: exactly one copy of each rule.
  return [
    ...rules.map((r) => ({ argv: ['arptables', '-D', ...r.slice(1)], mayFail: true })),
    ...rules.map((r) => ({ argv: ['arptables', ...r], mayFail: false })),
  ];
}

/** The commands that lift it (every one may fail: absent is fine). */
export function removeCommands(s: ArpSuppression): Array<{ argv: string[]; mayFail: boolean }> {
  if (s.style === 'nft') return [{ argv: ['nft', 'delete', 'table', 'arp', 'dsrlb_noarp'], mayFail: true }];
  const rules = renderArptablesRules(s).map((l) => l.split(/\s+/));
  // Twice per rule: a crashed run followed by a manual add could have left two copies.
  return [...rules, ...rules].map((r) => ({ argv: ['arptables', '-D', ...r.slice(1)], mayFail: true }));
}

/** The commands that put the NDP suppression (nft table ip6 dsrlb_nondp) in place: any old copy deleted first. */
export function ndpApplyCommands(p: NdpRuleParams): Array<{ argv: string[]; mayFail: boolean }> {
  return [...ndpRemoveCommands(), ...nftNdpCommands(p).map((a) => ({ argv: ['nft', ...a], mayFail: false }))];
}

/** The command that lifts it (absent is fine). */
export function ndpRemoveCommands(): Array<{ argv: string[]; mayFail: boolean }> {
  return [{ argv: ['nft', 'delete', 'table', 'ip6', NFT_NDP_TABLE], mayFail: true }];
}

function exec(argv: string[]): Promise<{ ok: boolean; err: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 10_000, killSignal: 'SIGKILL' }, (e, _o, stderr) => {
      if (e && (e as NodeJS.ErrnoException).code === 'ENOENT') resolve({ ok: false, err: `${argv[0]} not found (Debian package ${argv[0] === 'nft' ? 'nftables' : 'arptables'})` });
      else resolve({ ok: !e, err: String(stderr).trim() || (e?.message ?? '') });
    });
  });
}

export async function runCommands(cmds: Array<{ argv: string[]; mayFail: boolean }>): Promise<void> {
  for (const c of cmds) {
    const r = await exec(c.argv);
    if (!r.ok && (!c.mayFail || /not found \(Debian/.test(r.err))) throw new DsrlbError('E_ARP_RULES', `${c.argv.join(' ')}: ${r.err}`);
  }
}

/** Checks before use that the tool is there and knows the dialect's chains (a clear error, not a failed takeover). */
export async function checkArpSuppressionTool(s: ArpSuppression): Promise<void> {
  if (s.style === 'nft') {
    const r = await exec(['nft', 'list', 'tables', 'arp']);
    if (!r.ok) throw new DsrlbError('E_ARP_RULES', `nft: ${r.err} (or use --arp-suppression arptables|none)`);
    return;
  }
  const chain = s.dialect === 'jf' ? 'IN' : 'INPUT';
  const r = await exec(['arptables', '-L', chain, '-n']);
  if (r.ok) return;
  if (/not found \(Debian/.test(r.err)) throw new DsrlbError('E_ARP_RULES', `${r.err}; or use --arp-suppression nft|none`);
  throw new DsrlbError('E_ARP_RULES', `arptables has no chain ${chain} (${r.err}): use --arptables-dialect ${s.dialect === 'jf' ? 'netfilter' : 'jf'}`);
}

export const applyArpSuppression = (s: ArpSuppression) => runCommands(applyCommands(s));
export const removeArpSuppression = (s: ArpSuppression) => runCommands(removeCommands(s));

const HELP = `Usage: dsrlb arp-rules --vip VIP --rip RIP --iface IF [options]
       dsrlb arp-rules --vip6 VIP6 --iface IF [--apply|--remove]

Prints (or applies) the ARP suppression rules of a real server holding VIP on lo, as the seed's
arptables file: incoming ARP for VIP dropped, outgoing ARP from VIP rewritten to RIP.
With --vip6 (alone or beside --vip): the IPv6 form, an nftables table ip6 ${NFT_NDP_TABLE} dropping
incoming Neighbor Solicitations for VIP6 and outgoing Neighbor Advertisements for it on IF. Linux
does not answer them for a VIP6 on lo (docs/arp-problem.md, "The NDP problem"); the rules guard
against a VIP6 on IF or a proxy-NDP entry for it.

  --dialect jf|netfilter   chain names: jf = IN/OUT (Red Hat arptables_jf, the seed; default when printing),
                           netfilter = INPUT/OUTPUT (Debian's arptables; default with --apply/--remove)
  --format rules|save|nft  rule lines (default), an arptables-save file, or the nftables arp-family equivalent
                           (IPv4; the IPv6 rules are always printed as an nft file)
  --nft                    with --apply/--remove: use an nftables arp table instead of arptables
  --apply                  put the rules in place on this host (idempotent)
  --remove                 take them away (absent rules are fine)`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    vip: { type: 'string' },
    vip6: { type: 'string' },
    rip: { type: 'string' },
    iface: { type: 'string' },
    dialect: { type: 'string' },
    format: { type: 'string' },
    nft: { type: 'boolean' },
    apply: { type: 'boolean' },
    remove: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const v4 = values.vip !== undefined || values.rip !== undefined || values.vip6 === undefined;
  for (const k of v4 ? (['vip', 'rip', 'iface'] as const) : (['iface'] as const)) if (!values[k]) throw new DsrlbError('E_USAGE', `--${k} is required\n\n${HELP}`);
  if (v4) for (const k of ['vip', 'rip'] as const) if (parseIPv4(values[k]!) === null) throw new DsrlbError('E_USAGE', `--${k}: ${values[k]} is not an IPv4 address${values[k]!.includes(':') ? ' (an IPv6 VIP goes with --vip6)' : ''}`);
  const vip6 = values.vip6 === undefined ? null : checkVip6(values.vip6);
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(values.iface!)) throw new DsrlbError('E_USAGE', `--iface: ${JSON.stringify(values.iface)} is not an interface name`);
  if (values.apply && values.remove) throw new DsrlbError('E_USAGE', '--apply and --remove exclude each other');
  const acting = values.apply || values.remove;
  const dialect = (values.dialect ?? (acting ? 'netfilter' : 'jf')) as ArptablesDialect;
  if (dialect !== 'jf' && dialect !== 'netfilter') throw new DsrlbError('E_USAGE', `--dialect: expected jf or netfilter, not ${values.dialect}`);
  const format = values.format ?? 'rules';
  if (format !== 'rules' && format !== 'save' && format !== 'nft') throw new DsrlbError('E_USAGE', `--format: expected rules, save or nft, not ${format}`);
  if (!v4 && values.format !== undefined && format !== 'nft') throw new DsrlbError('E_USAGE', `--format ${format}: arptables has no IPv6; the --vip6 rules are an nft file only`);
  const ndp: NdpRuleParams | null = vip6 === null ? null : { vip6, iface: values.iface! };
  const s: ArpSuppression | null = v4 ? { style: values.nft ? 'nft' : 'arptables', dialect, vip: values.vip!, rip: values.rip!, iface: values.iface! } : null;
  if (acting) {
    if (s) {
      if (values.apply) await applyArpSuppression(s);
      else await removeArpSuppression(s);
      io.out(`${values.apply ? 'applied' : 'removed'}: ARP suppression for ${s.vip} (${s.style === 'nft' ? 'nft table arp dsrlb_noarp' : `arptables, ${dialect} chains`})`);
    }
    if (ndp) {
      await runCommands(values.apply ? ndpApplyCommands(ndp) : ndpRemoveCommands());
      io.out(`${values.apply ? 'applied' : 'removed'}: NDP suppression for ${ndp.vip6} (nft table ip6 ${NFT_NDP_TABLE})`);
    }
    return 0;
  }
  // IPv4 alone prints exactly what it always did; the IPv6 file follows after a blank line.
  if (s) io.out(format === 'rules' ? renderArptablesRules(s).join('\n') : format === 'save' ? renderArptablesSave(s) : renderNftArpRuleset(s));
  if (s && ndp) io.out('');
  if (ndp) io.out(renderNftNdpRuleset(ndp));
  return 0;
}
