/**
 * dsrlb config convert --keepalived-conf FILE [--out DIR] [--node NAME] [--peer NAME] [--config-id ID]
 *
 * Writes the Ultra Monkey equivalent of a keepalived.conf: ldirectord.cf, and for a vrrp_instance
 * ha.cf, haresources and authkeys (into DIR, or all to stdout with a header per file), then lists on
 * stderr everything the target files cannot express. Exit 0; 1 when the keepalived.conf has errors.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertKeepalived } from '../../config/index.ts';
import { ConfigErrors } from '../../errors/index.ts';
import { loadCheckedKeepalived } from '../control-plane.ts';

interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const CONVERT_HELP = `Usage: dsrlb config convert --keepalived-conf FILE [--out DIR] [--node NAME] [--peer NAME] [--config-id ID]

Writes the ldirectord.cf (and, for a vrrp_instance, ha.cf, haresources and authkeys) equivalent to a
keepalived.conf, into DIR or to stdout, and lists on stderr what those files cannot express.

  --out DIR     write the files into DIR (created if needed; authkeys with mode 600)
  --node NAME   this node's uname -n (default: global_defs router_id)
  --peer NAME   the peer's uname -n (default PEER-NODE, to replace)
  --config-id ID  keepalived's -i ID`;

export function runConvert(args: string[], io: IO): number {
  const opt: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      io.out(CONVERT_HELP);
      return 0;
    }
    const known = ['--keepalived-conf', '--out', '--node', '--peer', '--config-id'];
    if (!known.includes(a) || args[i + 1] === undefined) {
      io.err(`dsrlb config convert: ${known.includes(a) ? `${a} needs a value` : `unknown argument "${a}"`}\n\n${CONVERT_HELP}`);
      return 2;
    }
    opt[a.slice(2)] = args[++i]!;
  }
  if (!opt['keepalived-conf']) {
    io.err(`dsrlb config convert: --keepalived-conf FILE is required\n\n${CONVERT_HELP}`);
    return 2;
  }
  let cfg;
  try {
    cfg = loadCheckedKeepalived(opt['keepalived-conf'], { configId: opt['config-id'] ?? null });
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    for (const ce of e.errors) io.err(`${ce.message.replace(/^(\S+?:\d+): /, `$1: ${ce.code}: `)}`);
    io.err(`${opt['keepalived-conf']}: ${e.errors.length} error${e.errors.length === 1 ? '' : 's'}`);
    return 1;
  }
  const c = convertKeepalived(cfg, { node: opt.node, peer: opt.peer });
  const files: [string, string | null, number][] = [
    ['ldirectord.cf', c.ldirectordCf, 0o644], ['ha.cf', c.haCf, 0o644], ['haresources', c.haresources, 0o644], ['authkeys', c.authkeys, 0o600],
  ];
  if (opt.out) {
    mkdirSync(opt.out, { recursive: true });
    for (const [name, text, mode] of files) if (text !== null) writeFileSync(join(opt.out, name), text, { mode });
    io.out(`wrote ${files.filter((f) => f[1] !== null).map((f) => join(opt.out!, f[0])).join(', ')}`);
  } else {
    for (const [name, text] of files) if (text !== null) io.out(`==> ${name} <==\n${text}`);
  }
  if (c.notes.length) {
    io.err(`Not expressed in the converted files (${c.notes.length}):`);
    for (const n of c.notes) io.err(`  ${n}`);
  }
  return 0;
}
