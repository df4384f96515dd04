/**
 * dsrlb command line: dispatches to one module per command. Commands return an exit code; typed
 * errors (DsrlbError) become one clear line on stderr, anything else is a bug and shows its stack.
 */
import { isDsrlbError } from '../errors/index.ts';
import { processIO, type CliIO, type Command } from './io.ts';

export const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: Command }> }> = {
  demo: { summary: 'the main job: testbed, director on www1, 30 HTTP + 30 HTTPS requests, proof of DSR', load: () => import('./commands/demo.ts') },
  ha: { summary: "ha --config-dir DIR [--node N]: one director of a failover pair from heartbeat's files; ha status", load: () => import('./commands/ha.ts') },
  'arp-rules': { summary: 'arp-rules --vip V --rip R --iface IF: ARP suppression rules of a real server (print, --apply, --remove)', load: () => import('./commands/arp-rules.ts') },
  explain: { summary: 'explain pcaps of a DSR setup: roles, ladder diagrams (text/SVG/HTML), what is wrong', load: () => import('./commands/explain.ts') },
  doctor: { summary: 'check a director or real server (VIP on lo, ARP suppression, offloads…) and probe ARP for the VIP', load: () => import('./commands/doctor.ts') },
  replay: { summary: 'run a pcap through the data path offline, write what the director would send', load: () => import('./commands/replay.ts') },
  run: { summary: 'run a live director on an interface (services from an ldirectord.cf, or an empty table for ipvsadm)', load: () => import('./commands/run.ts') },
  testbed: { summary: 'testbed up|down|status|capture: the reference topology in network namespaces', load: () => import('./commands/testbed.ts') },
  config: { summary: 'config check FILE | --keepalived-conf FILE; config convert --keepalived-conf FILE: parse and print services, convert', load: () => import('./commands/config.ts') },
  ipvsadm: { summary: "ipvsadm's commands and listings against the running director (a drop-in for ipvsadm)", load: () => import('./commands/ipvsadm.ts') },
  service: { summary: 'service install|uninstall|print: the systemd units (director, HA node), rendered for this installation', load: () => import('./commands/service.ts') },
};

export const USAGE = `dsrlb — a userspace IPVS-DR (direct server return) load balancer

Usage: dsrlb <command> [options]

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}

Run "dsrlb <command> --help" for the options of one command; "dsrlb --version" for the version.`;

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    io.out((await import('./version.ts')).versionLine());
    return 0;
  }
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`dsrlb: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest, io);
  } catch (e) {
    // Standard output closed under us (a pipe's reader left): nothing to say, nobody to say it to.
    if (isDsrlbError(e) && e.code === 'E_OUTPUT_CLOSED') return 0;
    if (isDsrlbError(e)) {
      io.err(`dsrlb ${name}: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
