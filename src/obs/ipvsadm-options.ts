/**
 * ipvsadm 1.31's option table (its columns, the commands, which options each command takes) and
 * popt's tokenizer for it: bundles (-Ln), attached values (-w5, --weight=5), `--`, optional
 * arguments. ipvsadm-grammar.ts turns the tokens into a command.
 */
/** An ipvsadm usage error: `message` goes to stderr as it is; `exitCode` as ipvsadm would exit. */
export class IpvsadmUsageError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'IpvsadmUsageError';
  }
}

export const TRY_HELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

/* ipvsadm's option columns, in its order (the error messages name them so). */
export const OPT_NAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon',
  'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe',
  'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type',
  'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;
export type OptName = (typeof OPT_NAMES)[number];
export const OPT = Object.fromEntries(OPT_NAMES.map((n, i) => [n, i])) as Record<OptName, number>;

export const CMD_NAMES = [
  'add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server', 'delete-server',
  'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero',
] as const;
export type CmdName = (typeof CMD_NAMES)[number];

/**
 * Which options each command takes, one character per column of OPT_NAMES:
 * '+' required, 'x' illegal, '1' at most one of the '1's, ' ' optional (ipvsadm's commands_v_options).
 */
export const LEGAL: Record<CmdName, string> = {
  'add-service': 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'edit-service': 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'delete-service': 'xx+' + 'x'.repeat(31),
  flush: 'x'.repeat(34),
  list: ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  'add-server': 'xx+xxx+    ' + 'x'.repeat(18) + '     ',
  'delete-server': 'xx+xxx+' + 'x'.repeat(27),
  'edit-server': 'xx+xxx+    ' + 'x'.repeat(18) + '     ',
  set: 'x'.repeat(34),
  'start-daemon': 'x'.repeat(11) + ' ' + 'x'.repeat(7) + ' xxxx    ' + 'x'.repeat(6),
  'stop-daemon': 'x'.repeat(19) + ' ' + 'x'.repeat(14),
  restore: 'x'.repeat(34),
  save: ' ' + 'x'.repeat(33),
  zero: 'xx ' + 'x'.repeat(31),
};

export type ArgKind = 'none' | 'required' | 'optional';
export interface OptDef {
  long: string;
  short?: string;
  arg: ArgKind;
  /** Command options (the first option) or plain options. */
  command?: CmdName | 'help' | 'version';
}

export const OPTIONS: OptDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', command: 'edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', command: 'delete-service' },
  { long: 'clear', short: 'C', arg: 'none', command: 'flush' },
  { long: 'list', short: 'L', arg: 'none', command: 'list' },
  { long: 'list', short: 'l', arg: 'none', command: 'list' },
  { long: 'zero', short: 'Z', arg: 'none', command: 'zero' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', command: 'edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', command: 'delete-server' },
  { long: 'set', arg: 'none', command: 'set' },
  { long: 'help', short: 'h', arg: 'none', command: 'help' },
  { long: 'version', short: 'v', arg: 'none', command: 'version' },
  { long: 'restore', short: 'R', arg: 'none', command: 'restore' },
  { long: 'save', short: 'S', arg: 'none', command: 'save' },
  { long: 'start-daemon', arg: 'required', command: 'start-daemon' },
  { long: 'stop-daemon', arg: 'required', command: 'stop-daemon' },
  { long: 'tcp-service', short: 't', arg: 'required' },
  { long: 'udp-service', short: 'u', arg: 'required' },
  { long: 'sctp-service', arg: 'required' },
  { long: 'fwmark-service', short: 'f', arg: 'required' },
  { long: 'scheduler', short: 's', arg: 'required' },
  { long: 'persistent', short: 'p', arg: 'optional' },
  { long: 'netmask', short: 'M', arg: 'required' },
  { long: 'real-server', short: 'r', arg: 'required' },
  { long: 'masquerading', short: 'm', arg: 'none' },
  { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'gatewaying', short: 'g', arg: 'none' },
  { long: 'weight', short: 'w', arg: 'required' },
  { long: 'u-threshold', short: 'x', arg: 'required' },
  { long: 'l-threshold', short: 'y', arg: 'required' },
  { long: 'numeric', short: 'n', arg: 'none' },
  { long: 'connection', short: 'c', arg: 'none' },
  { long: 'mcast-interface', arg: 'required' },
  { long: 'syncid', arg: 'required' },
  { long: 'timeout', arg: 'none' },
  { long: 'daemon', arg: 'none' },
  { long: 'stats', arg: 'none' },
  { long: 'rate', arg: 'none' },
  { long: 'thresholds', arg: 'none' },
  { long: 'persistent-conn', arg: 'none' },
  { long: 'nosort', arg: 'none' },
  { long: 'sort', arg: 'none' },
  { long: 'exact', short: 'X', arg: 'none' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'ops', short: 'o', arg: 'none' },
  { long: 'pe', arg: 'required' },
  { long: 'sched-flags', short: 'b', arg: 'required' },
  { long: 'mcast-group', arg: 'required' },
  { long: 'mcast-port', arg: 'required' },
  { long: 'mcast-ttl', arg: 'required' },
  { long: 'sync-maxlen', arg: 'required' },
  { long: 'tun-info', arg: 'none' },
  { long: 'tun-type', arg: 'required' },
  { long: 'tun-port', arg: 'required' },
  { long: 'tun-nocsum', arg: 'none' },
  { long: 'tun-csum', arg: 'none' },
  { long: 'tun-remcsum', arg: 'none' },
];

export const BY_LONG = new Map(OPTIONS.map((o) => [o.long, o]));
export const BY_SHORT = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

/** One option as popt hands it out: the definition, its text as written, and its value. */
export interface Token {
  def: OptDef;
  text: string;
  value: string | null;
}

/** popt's tokenizer for this table: bundles, attached values, `--`, optional arguments. */
export function tokenize(argv: readonly string[]): { tokens: Token[]; args: string[] } {
  const tokens: Token[] = [];
  const args: string[] = [];
  const bad = (text: string, what: string) => new IpvsadmUsageError(`${text}: ${what}`, 255);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const def = BY_LONG.get(name);
      if (!def) throw Object.assign(bad(a, 'unknown option'), { first: tokens.length === 0 });
      let value: string | null = eq < 0 ? null : a.slice(eq + 1);
      if (def.arg === 'required' && value === null) {
        if (i + 1 >= argv.length) throw Object.assign(bad(a, 'missing argument'), { first: tokens.length === 0 });
        value = argv[++i]!;
      } else if (def.arg === 'optional' && value === null && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
        value = argv[++i]!;
      }
      tokens.push({ def, text: a, value });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const def = BY_SHORT.get(a[k]!);
        if (!def) throw Object.assign(bad(`-${a[k]}`, 'unknown option'), { first: tokens.length === 0 });
        const rest = a.slice(k + 1);
        if (def.arg === 'none') {
          tokens.push({ def, text: `-${a[k]}`, value: null });
          continue;
        }
        let value: string | null = rest === '' ? null : rest;
        if (value === null && def.arg === 'required') {
          if (i + 1 >= argv.length) throw Object.assign(bad(`-${a[k]}`, 'missing argument'), { first: tokens.length === 0 });
          value = argv[++i]!;
        } else if (value === null && def.arg === 'optional' && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
          value = argv[++i]!;
        }
        tokens.push({ def, text: `-${a[k]}`, value });
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { tokens, args };
}

