/**
 * dsrlb service install|uninstall|print: the systemd units shipped in src/service/, rendered for
 * this installation (node binary, dsrlb's path, configuration paths, user, control group, unit
 * name prefix) and written to the unit directory. Every file written carries a marker line, and
 * uninstall removes only files that carry it. Nothing is started: the commands to run are printed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsrlbError } from '../../errors/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';

const UNITS_DIR = fileURLToPath(new URL('../../service/', import.meta.url));
const PKG_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../dsrlb.mjs', import.meta.url));
export const MARKER = '# Written by `dsrlb service install`; `dsrlb service uninstall` removes it.';

/** What the shipped units say, replaced by install's options. */
const SHIPPED = {
  node: '/usr/bin/node',
  bin: '/usr/local/lib/node_modules/dsrlb/src/cli/dsrlb.mjs',
  root: '/usr/local/lib/node_modules/dsrlb/',
  config: '/etc/ha.d/ldirectord.cf',
  configDir: '/etc/ha.d',
  user: 'dsrlb',
};

export type UnitKind = 'director' | 'ha';

export interface RenderOptions {
  node: string;
  bin: string;
  root: string;
  config: string;
  configDir: string;
  user: string;
  controlGroup: string | null;
  /** Unit name prefix: PREFIX-director@.service, PREFIX-ha.service. */
  name: string;
}

export const shippedUnitFile = (kind: UnitKind) => join(UNITS_DIR, kind === 'director' ? 'dsrlb-director@.service' : 'dsrlb-ha.service');
export const unitName = (kind: UnitKind, name: string) => (kind === 'director' ? `${name}-director@.service` : `${name}-ha.service`);

function safe(what: string, v: string): string {
  // Unit files split ExecStart on spaces and expand % and $: keep paths plain.
  if (!/^[A-Za-z0-9_./@:+,=-]+$/.test(v)) throw new DsrlbError('E_USAGE', `${what}: "${v}" has characters a unit file would reinterpret (spaces, %, $, quotes)`);
  return v;
}

/** One unit, rendered from the shipped file. Pure apart from reading the shipped file. */
export function renderUnit(kind: UnitKind, o: RenderOptions, shipped = readFileSync(shippedUnitFile(kind), 'utf8')): string {
  const lines = shipped.split('\n').map((l) => {
    if (l.startsWith('ExecStart=')) {
      let cmd = l.replace(SHIPPED.node, safe('--node', o.node)).replace(SHIPPED.bin, safe('--bin', o.bin));
      cmd = kind === 'director' ? cmd.replace(` --config ${SHIPPED.config}`, ` --config ${safe('--config', o.config)}`)
        : cmd.replace(` --config-dir ${SHIPPED.configDir}`, ` --config-dir ${safe('--config-dir', o.configDir)}`);
      return o.controlGroup ? `${cmd} --control-group ${safe('--control-group', o.controlGroup)}` : cmd;
    }
    if (l.startsWith('Documentation=')) return l.replace(SHIPPED.root, safe('the package directory', o.root));
    if (l === `User=${SHIPPED.user}`) {
      const user = `User=${safe('--user', o.user)}`;
      // The process must belong to the group to give the socket to it.
      return o.controlGroup ? `${user}\nSupplementaryGroups=${o.controlGroup}` : user;
    }
    return l;
  });
  return `${MARKER}\n${lines.join('\n')}`;
}

function exists(db: 'passwd' | 'group', name: string): boolean {
  try {
    execFileSync('getent', [db, name], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const HELP = `Usage: dsrlb service install [options]     write the systemd units (prints what it writes)
       dsrlb service uninstall [options]   remove the units install wrote (and only those)
       dsrlb service print director|ha     print one unit as install would write it

  --dry-run             print what would be written or removed, change nothing
  --unit-dir DIR        where the units go (default /etc/systemd/system)
  --name PREFIX         unit names PREFIX-director@.service and PREFIX-ha.service (default dsrlb)
  --only director|ha    one of the two units (default both)
  --config FILE         the director's ldirectord.cf (default /etc/ha.d/ldirectord.cf)
  --config-dir DIR      the HA node's heartbeat directory (default /etc/ha.d)
  --user NAME           the user the units run as, with capabilities instead of root (default
                        dsrlb; install creates it as a system user when it does not exist)
  --control-group NAME  the group that may use the control socket (dsrlb ipvsadm without root):
                        socket mode 0660; install creates the group when it does not exist
  --node PATH           the node binary (default: the one running this command)
  --bin PATH            dsrlb's entry point (default: this installation's src/cli/dsrlb.mjs)

The director unit is a template: its instance is the interface, e.g. dsrlb-director@eth0.
The units are described in docs/service.md.`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, {
    'dry-run': { type: 'boolean' },
    'unit-dir': { type: 'string' },
    name: { type: 'string' },
    only: { type: 'string' },
    config: { type: 'string' },
    'config-dir': { type: 'string' },
    user: { type: 'string' },
    'control-group': { type: 'string' },
    node: { type: 'string' },
    bin: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help || sub === '--help' || sub === '-h' || sub === undefined) {
    io.out(HELP);
    return sub === undefined ? 2 : 0;
  }
  const name = safe('--name', values.name ?? 'dsrlb');
  const unitDir = values['unit-dir'] ?? '/etc/systemd/system';
  const only = values.only ?? (sub === 'print' ? positionals[0] : undefined);
  if (only !== undefined && only !== 'director' && only !== 'ha') throw new DsrlbError('E_USAGE', `director or ha, not "${only}"`);
  const kinds: UnitKind[] = only ? [only] : ['director', 'ha'];
  const opts: RenderOptions = {
    node: values.node ?? process.execPath,
    bin: values.bin ?? realpathSync(BIN),
    root: `${realpathSync(PKG_ROOT)}/`,
    config: values.config ?? SHIPPED.config,
    configDir: values['config-dir'] ?? SHIPPED.configDir,
    user: values.user ?? SHIPPED.user,
    controlGroup: values['control-group'] ?? null,
    name,
  };
  const dry = values['dry-run'] === true;

  if (sub === 'print') {
    if (!only) throw new DsrlbError('E_USAGE', 'service print director|ha');
    io.out(renderUnit(only, opts));
    return 0;
  }

  if (sub === 'install') {
    const units = kinds.map((k) => ({ kind: k, path: join(unitDir, unitName(k, name)), text: renderUnit(k, opts) }));
    for (const u of units) {
      if (existsSync(u.path) && !readFileSync(u.path, 'utf8').startsWith(MARKER)) {
        throw new DsrlbError('E_SERVICE_FILE', `${u.path} exists and was not written by dsrlb service install: not overwritten (remove it, or use --name PREFIX)`);
      }
    }
    const prefix = dry ? '[dry-run] would ' : '';
    if (opts.user !== 'root' && !exists('passwd', opts.user)) {
      const cmd = ['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', opts.user];
      io.out(`${prefix}run: ${cmd.join(' ')}`);
      if (!dry) execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', timeout: 30_000 });
    }
    if (opts.controlGroup && !exists('group', opts.controlGroup)) {
      const cmd = ['groupadd', '--system', opts.controlGroup];
      io.out(`${prefix}run: ${cmd.join(' ')}`);
      if (!dry) execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', timeout: 30_000 });
    }
    for (const u of units) {
      io.out(`${prefix}write ${u.path}:\n${u.text}`);
      if (!dry) writeFileSync(u.path, u.text, { mode: 0o644 });
    }
    io.out([
      dry ? 'Nothing was changed (--dry-run).' : 'Installed. Next:',
      '  systemctl daemon-reload',
      ...(kinds.includes('director') ? [`  systemctl enable --now ${name}-director@IFACE    # e.g. ${name}-director@eth0`] : []),
      ...(kinds.includes('ha') ? [`  systemctl enable --now ${name}-ha`] : []),
      ...(opts.controlGroup ? [`  usermod -aG ${opts.controlGroup} OPERATOR        # who may run dsrlb ipvsadm without root`] : []),
    ].join('\n'));
    return 0;
  }

  if (sub === 'uninstall') {
    let removed = 0;
    for (const k of kinds) {
      const path = join(unitDir, unitName(k, name));
      if (!existsSync(path)) continue;
      if (!readFileSync(path, 'utf8').startsWith(MARKER)) {
        throw new DsrlbError('E_SERVICE_FILE', `${path} was not written by dsrlb service install: left alone`);
      }
      io.out(`${dry ? '[dry-run] would remove' : 'removed'} ${path}`);
      if (!dry) rmSync(path);
      removed++;
    }
    io.out(removed === 0 ? `no unit of ${name} in ${unitDir}` : `If they were enabled: systemctl disable --now ${name}-ha ${name}-director@IFACE; then: systemctl daemon-reload`);
    return 0;
  }
  throw new DsrlbError('E_USAGE', `unknown subcommand "${sub}"\n\n${HELP}`);
}
