/**
 * dsrlb config check [--json] FILE
 *
 * Parses an ldirectord.cf. Valid: prints the services as ipvsadm -L -n would list them plus the check
 * settings (or, with --json, the parsed model), warnings on stderr, exit 0. Invalid or unreadable:
 * one `file:line: code: message` line per error on stderr, exit 1. Bad usage: exit 2.
 */
import { formatServices, type KeepalivedConfig, type LdirectordConfig } from '../../config/index.ts';
import { loadCheckedConfig, loadCheckedKeepalived } from '../control-plane.ts';
import { formatVrrpInstances } from '../keepalived-format.ts';
import { CONVERT_HELP, runConvert } from './config-convert.ts';
import { ConfigErrors, type ConfigError } from '../../errors/index.ts';

interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
}

const HELP = `Usage: dsrlb config check [--json] FILE
       dsrlb config check [--json] --keepalived-conf FILE [--config-id ID]

Parses FILE as an ldirectord configuration (ldirectord.cf) and prints its virtual services the way
ipvsadm -L -n lists them, followed by each service's health-check settings.

With --keepalived-conf, FILE is a keepalived.conf (keepalived 2.2's grammar, includes followed):
its virtual_servers are listed the same way, then its vrrp_instances. --config-id ID is keepalived's
-i ID (which @ID lines apply).

  --json     print the parsed model as JSON instead
  -h, --help show this help

Exit status: 0 valid, 1 errors in the file (each printed as file:line: code: message), 2 bad usage.

${CONVERT_HELP}`;

/** The message of a ConfigError without its `file:line: ` prefix. */
function bare(e: ConfigError): string {
  const prefix = `${e.file}:${e.line}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

export async function run(argv: string[], io: IO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'convert') return runConvert(rest, io);
  if (sub !== 'check') {
    io.err(`dsrlb config: unknown subcommand "${sub}"\n\n${HELP}`);
    return 2;
  }
  let json = false;
  let keepalived = false;
  let configId: string | null = null;
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json') json = true;
    else if (a === '--keepalived-conf') keepalived = true;
    else if (a === '--config-id') {
      configId = rest[++i] ?? null;
      if (configId === null) {
        io.err(`dsrlb config check: --config-id needs an ID\n\n${HELP}`);
        return 2;
      }
    }
    else if (a === '-h' || a === '--help') {
      io.out(HELP);
      return 0;
    } else if (a.startsWith('-') && a.length > 1) {
      io.err(`dsrlb config check: unknown option "${a}"\n\n${HELP}`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    io.err(`dsrlb config check: expected one FILE, got ${files.length}\n\n${HELP}`);
    return 2;
  }

  let cfg: LdirectordConfig;
  let ka: KeepalivedConfig | null = null;
  try {
    if (keepalived) {
      ka = loadCheckedKeepalived(files[0]!, { configId });
      cfg = ka.lvs;
    } else cfg = loadCheckedConfig(files[0]!);
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    for (const ce of e.errors) io.err(`${ce.file}:${ce.line}: ${ce.code}: ${bare(ce)}`);
    const n = e.errors.length;
    io.err(`${files[0]}: ${n} error${n === 1 ? '' : 's'}`);
    return 1;
  }
  for (const w of cfg.warnings) io.err(`${w.file}:${w.line}: warning: ${w.code}: ${w.message}`);
  if (ka) io.out(json ? JSON.stringify(ka, null, 2) : formatServices(cfg) + formatVrrpInstances(ka));
  else io.out(json ? JSON.stringify(cfg, null, 2) : formatServices(cfg));
  return 0;
}
