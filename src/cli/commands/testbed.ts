/**
 * `dsrlb testbed up|down|status [--prefix P] [--arp-style arptables|sysctl|nft]`: the namespace testbed
 * (docs/testbed.md). Exit codes: 0 done / complete; 1 failed / partial; 2 usage; 3 absent (status).
 */

import { parseArgs } from 'node:util';
import { isDsrlbError } from '../../errors/index.ts';
import {
  ARP_STYLES,
  DEFAULT_PREFIX,
  StepFailure,
  describeSteps,
  formatStatus,
  planSteps,
  testbedDown,
  testbedStatus,
  testbedTopology,
  testbedUp,
  testbedKind,
  ecmpUp,
  ecmpDown,
  ecmpStatus,
  formatEcmpStatus,
  planEcmpSteps,
  ecmpTopologyFor,
  type ArpStyle,
} from '../../testbed/index.ts';

export const TESTBED_USAGE = `Usage: dsrlb testbed <up|down|status|capture> [options]

  up       build the reference topology in network namespaces <prefix>-lan, -client, -www1..3
           (kept when already complete; rebuilt when partial; rolled back when a step fails)
  down     stop the web servers, delete the namespaces and the state directory
  status   say what exists; exit 0 when complete, 1 when partial, 3 when absent
  capture  record pcaps at the client, the director and each real server during a run, for
           \`dsrlb explain\` (see \`dsrlb testbed capture --help\`)

Options:
  --prefix P                  namespace prefix (default "${DEFAULT_PREFIX}"; 1-12 chars a-z0-9)
  --arp-style S               ARP suppression on the reals (up): arptables (the seed's rules;
                              default for a new testbed), sysctl (arp_ignore=1 arp_announce=2)
                              or nft (nft arp table). Without it, up keeps a complete testbed's style
  --ipv6                      up: dual-stack: 2001:db8::/64 (documentation prefix, inside the
                              namespaces only), VIP6 2001:db8::10 on the reals' lo with an nft
                              ip6 table dropping NDP for it, reals 2001:db8::7/8/9, client
                              2001:db8::100, no DAD; the web servers answer on IPv6 too.
                              Without it, up keeps a complete testbed's choice (new: IPv4 only)
  --topology T                up: reference (default) or ecmp: a router running BIRD between a client
                              subnet and the server segment, N directors announcing the VIP over
                              BGP, Linux ECMP on the router (docs/scale-out.md)
  --directors N               with --topology ecmp: 2..4 directors (default 3)
  --dry-run                   up: print the steps, run nothing
  --json                      status: print the status as JSON
  -q, --quiet                 up/down: no progress lines
  -h, --help                  this text`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'capture') return (await import('./explain.ts')).runTestbedCapture(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        prefix: { type: 'string' },
        'arp-style': { type: 'string' },
        'dry-run': { type: 'boolean' },
        ipv6: { type: 'boolean' },
        topology: { type: 'string' },
        directors: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`dsrlb testbed: ${(e as Error).message}\n\n${TESTBED_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(TESTBED_USAGE);
    return 0;
  }
  const sub = positionals[0];
  if (positionals.length !== 1 || (sub !== 'up' && sub !== 'down' && sub !== 'status')) {
    io.err(`dsrlb testbed: expected one of up, down, status\n\n${TESTBED_USAGE}`);
    return 2;
  }
  const style = values['arp-style'];
  if (style !== undefined && !(ARP_STYLES as readonly string[]).includes(style)) {
    io.err(`dsrlb testbed: --arp-style must be one of ${ARP_STYLES.join(', ')}`);
    return 2;
  }
  const prefix = values.prefix ?? DEFAULT_PREFIX;
  const onProgress = values.quiet ? undefined : (l: string): void => io.out(l);
  if (values.topology !== undefined && values.topology !== 'reference' && values.topology !== 'ecmp') {
    io.err('dsrlb testbed: --topology must be reference or ecmp');
    return 2;
  }
  if (values.ipv6 && values.topology === 'ecmp') {
    io.err('dsrlb testbed: --ipv6 is for the reference topology (the ECMP one is IPv4 only)');
    return 2;
  }
  const directors = Number(values.directors ?? 3);
  if (!Number.isInteger(directors) || directors < 2 || directors > 4) {
    io.err('dsrlb testbed: --directors must be 2, 3 or 4');
    return 2;
  }
  if (values.topology === 'ecmp' || (values.topology === undefined && sub === 'status' && testbedKind({ prefix }).topology === 'ecmp')) {
    try {
      if (sub === 'up') {
        if (values['dry-run']) {
          for (const l of describeSteps(planEcmpSteps(ecmpTopologyFor({ prefix, directors })))) io.out(l);
          return 0;
        }
        const r = await ecmpUp({ prefix, directors, onProgress });
        io.out(`testbed ${prefix}: created (ecmp, ${directors} directors) in ${r.elapsedMs} ms`);
        for (const l of formatEcmpStatus(r.status)) io.out(l);
        return 0;
      }
      if (sub === 'down') {
        // Every director namespace an ECMP testbed can have (1..4), also when its state is lost.
        const r = await ecmpDown({ prefix, directors: 4, onProgress });
        io.out(`testbed ${prefix}: removed ${r.removedNamespaces.length} namespace(s), stopped ${r.stoppedPids.length} process(es)`);
        return 0;
      }
      if (sub === 'status') {
        const s = await ecmpStatus({ prefix, directors: testbedKind({ prefix }).directors || directors });
        if (values.json) io.out(JSON.stringify(s, null, 2));
        else for (const l of formatEcmpStatus(s)) io.out(l);
        return s.state === 'complete' ? 0 : s.state === 'partial' ? 1 : 3;
      }
    } catch (e) {
      if (isDsrlbError(e)) {
        io.err(`dsrlb testbed ${sub}: ${e.code}: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }

  try {
    if (sub === 'up') {
      const arpStyle = style as ArpStyle | undefined;
      if (values['dry-run']) {
        for (const l of describeSteps(planSteps(testbedTopology({ prefix, arpStyle: arpStyle ?? 'arptables', ipv6: values.ipv6 === true })))) io.out(l);
        return 0;
      }
      const r = await testbedUp({ prefix, arpStyle, onProgress, ...(values.ipv6 ? { ipv6: true } : {}) });
      io.out(`testbed ${prefix}: ${r.action} in ${r.elapsedMs} ms`);
      for (const l of formatStatus(r.status)) io.out(l);
      return 0;
    }
    if (sub === 'down') {
      const r = await testbedDown({ prefix, onProgress });
      io.out(
        r.existed
          ? `testbed ${prefix}: removed ${r.removedNamespaces.length} namespace(s), stopped ${r.stoppedPids.length} web server(s) in ${r.elapsedMs} ms`
          : `testbed ${prefix}: nothing to remove`,
      );
      return 0;
    }
    const s = await testbedStatus({ prefix });
    if (values.json) io.out(JSON.stringify(s, null, 2));
    else for (const l of formatStatus(s)) io.out(l);
    return s.state === 'complete' ? 0 : s.state === 'partial' ? 1 : 3;
  } catch (e) {
    if (e instanceof StepFailure) {
      io.err(`dsrlb testbed ${sub}: ${e.code}: ${e.message}`);
      io.err(`rolled back ${e.undone} step(s)${e.undoErrors.length ? `; undo failures:\n  ${e.undoErrors.join('\n  ')}` : ''}`);
      return 1;
    }
    if (isDsrlbError(e)) {
      io.err(`dsrlb testbed ${sub}: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
