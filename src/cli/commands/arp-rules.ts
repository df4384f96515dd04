/**
 * dsrlb arp-rules --vip VIP --rip RIP --iface IF [--dialect jf|netfilter] [--format rules|save|nft] [--apply|--remove]
 *
 * The ARP suppression rules of a real server that holds the VIP on lo (the seed's arptables file):
 * printed, or applied / removed on this host (idempotent: a rule is never added twice, removing an
 * absent rule is fine). Also used by `dsrlb ha` to lift and restore the suppression on takeover
 * and giveup.
 */
import { execFile } from 'node:child_process';
import { DsrlbError } from '../../errors/index.ts';
import { parseIPv4 } from '../../model/index.ts';
import { nftArpCommands, renderArptablesRules, renderArptablesSave, renderNftArpRuleset, type ArptablesDialect } from '../../testbed/index.ts';
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

Prints (or applies) the ARP suppression rules of a real server holding VIP on lo, as the seed's
arptables file: incoming ARP for VIP dropped, outgoing ARP from VIP rewritten to RIP.

  --dialect jf|netfilter   chain names: jf = IN/OUT (Red Hat arptables_jf, the seed; default when printing),
                           netfilter = INPUT/OUTPUT (Debian's arptables; default with --apply/--remove)
  --format rules|save|nft  rule lines (default), an arptables-save file, or the nftables arp-family equivalent
  --nft                    with --apply/--remove: use an nftables arp table instead of arptables
  --apply                  put the rules in place on this host (idempotent)
  --remove                 take them away (absent rules are fine)`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    vip: { type: 'string' },
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
  for (const k of ['vip', 'rip', 'iface'] as const) if (!values[k]) throw new DsrlbError('E_USAGE', `--${k} is required\n\n${HELP}`);
  for (const k of ['vip', 'rip'] as const) if (parseIPv4(values[k]!) === null) throw new DsrlbError('E_USAGE', `--${k}: ${values[k]} is not an IPv4 address`);
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(values.iface!)) throw new DsrlbError('E_USAGE', `--iface: ${JSON.stringify(values.iface)} is not an interface name`);
  if (values.apply && values.remove) throw new DsrlbError('E_USAGE', '--apply and --remove exclude each other');
  const acting = values.apply || values.remove;
  const dialect = (values.dialect ?? (acting ? 'netfilter' : 'jf')) as ArptablesDialect;
  if (dialect !== 'jf' && dialect !== 'netfilter') throw new DsrlbError('E_USAGE', `--dialect: expected jf or netfilter, not ${values.dialect}`);
  const s: ArpSuppression = { style: values.nft ? 'nft' : 'arptables', dialect, vip: values.vip!, rip: values.rip!, iface: values.iface! };
  if (acting) {
    if (values.apply) await applyArpSuppression(s);
    else await removeArpSuppression(s);
    io.out(`${values.apply ? 'applied' : 'removed'}: ARP suppression for ${s.vip} (${s.style === 'nft' ? 'nft table arp dsrlb_noarp' : `arptables, ${dialect} chains`})`);
    return 0;
  }
  const format = values.format ?? 'rules';
  if (format === 'rules') io.out(renderArptablesRules(s).join('\n'));
  else if (format === 'save') io.out(renderArptablesSave(s));
  else if (format === 'nft') io.out(renderNftArpRuleset(s));
  else throw new DsrlbError('E_USAGE', `--format: expected rules, save or nft, not ${format}`);
  return 0;
}
