/**
 * dsrlb doctor [--netns NS] --vip VIP [--vip6 VIP6] [--role director|real] [--iface IF] [--json] [--no-probe]
 *
 * Checks this host (or the network namespace NS) as a DSR director or real server and probes ARP
 * for the VIP (and NDP for the VIP6: the real servers' side of IPv6; --vip6 alone checks only that). Exit 0 only when every check is ok; 1 when one warns or fails; 2 on bad usage.
 * With --netns the doctor runs itself again inside NS (`ip netns exec NS …`), so that every
 * sysctl, rule, interface and the ARP probe are the namespace's own.
 */
import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsrlbError } from '../../errors/index.ts';
import { parseIPv4 } from '../../model/index.ts';
import { doctorOk, formatFindings, gatherFacts, runChecks, type DoctorRole } from '../../doctor/index.ts';
import { checkVip6, nsExists } from '../../testbed/index.ts';
import { parseCommandArgs } from '../args.ts';
import { processIO, type CliIO } from '../io.ts';

export const DOCTOR_HELP = `Usage: dsrlb doctor --vip VIP [--vip6 VIP6] [--role director|real] [--netns NS] [--iface IF] [--json] [--no-probe]
       dsrlb doctor --vip6 VIP6 [options]

Checks a host of a DSR setup and says, for each problem, the command that fixes it:
  interface        the wire interface exists, is up, has a usual MTU
  vip-on-lo        a real server holds the VIP on lo (and nowhere else)
  arp-suppression  a host holding the VIP neither answers nor announces ARP for it
                   (arp_ignore/arp_announce, the arptables rules or an nft arp table)
  rp-filter        no strict reverse-path filtering on the wire interface
  ip-forward       a director without the VIP does not forward in the kernel
  offloads         (director) gro/lro/tso/gso/tx checksumming off on the capture interface
  arp-probe        ARP requests for the VIP: every MAC that answers (more than one is the ARP problem)
 with --vip6 (IPv6: the real servers' side; dsrlb's packet path does not handle IPv6):
  vip6-on-lo       a real server holds the VIP6 on lo, not on the wire interface
  ndp-suppression  nothing makes its kernel answer Neighbor Solicitations for the VIP6
                   (the VIP6 on the wire interface, a proxy-NDP entry), or nft rules drop them
  ndp-probe        Neighbor Solicitations for the VIP6: every MAC that answers (more than one is the NDP problem)

Options:
  --vip VIP          the virtual IPv4 address (required unless --vip6 is given)
  --vip6 VIP6        an IPv6 virtual address (e.g. 2001:db8::10)
  --role R           real (default) or director
  --netns NS         look inside the network namespace NS (root)
  --iface IF         the wire interface (default: the one on the VIP's subnet)
  --no-probe         skip the ARP and NDP probes (they need CAP_NET_RAW)
  --json             print the findings as JSON

Exit: 0 all is well, 1 something to fix, 2 usage.`;

/** Runs the doctor again inside the namespace and relays its output and exit code. */
function inNamespace(ns: string, argv: string[], io: CliIO): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(ns)) throw new DsrlbError('E_USAGE', `bad namespace name ${JSON.stringify(ns)}`);
  if (!nsExists(ns)) throw new DsrlbError('E_DOCTOR_NO_NS', `network namespace ${ns} does not exist (ip netns list shows the ones there are)`);
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--netns') i++;
    else if (argv[i]!.startsWith('--netns=')) continue;
    else rest.push(argv[i]!);
  }
  return new Promise((resolve, reject) => {
    // This file runs itself (see the end): `dsrlb doctor` need not be wired into main.ts for it.
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), ...rest], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DSRLB_DOCTOR_NETNS: ns },
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new DsrlbError('E_DOCTOR_EXEC', `ip netns exec ${ns}: ${e.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (out) io.out(out.replace(/\n$/, ''));
      if (err) io.err(err.replace(/\n$/, ''));
      resolve(code ?? 1);
    });
  });
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    vip: { type: 'string' },
    vip6: { type: 'string' },
    role: { type: 'string' },
    netns: { type: 'string' },
    iface: { type: 'string' },
    json: { type: 'boolean' },
    'no-probe': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  if (values.vip6 === undefined && (!values.vip || parseIPv4(values.vip) === null)) {
    io.err(`dsrlb doctor: --vip must be an IPv4 address${values.vip?.includes(':') ? ' (an IPv6 VIP goes with --vip6)' : ''}\n\n${DOCTOR_HELP}`);
    return 2;
  }
  if (values.vip !== undefined && parseIPv4(values.vip) === null) {
    io.err(`dsrlb doctor: --vip must be an IPv4 address${values.vip.includes(':') ? ' (an IPv6 VIP goes with --vip6)' : ''}`);
    return 2;
  }
  let vip6: string | undefined;
  try {
    vip6 = values.vip6 === undefined ? undefined : checkVip6(values.vip6);
  } catch (e) {
    io.err(`dsrlb doctor: ${(e as Error).message}`);
    return 2;
  }
  const role = (values.role ?? 'real') as DoctorRole;
  if (role !== 'real' && role !== 'director') {
    io.err('dsrlb doctor: --role must be director or real');
    return 2;
  }
  if (values.netns !== undefined) return inNamespace(values.netns, argv, io);

  const ns = process.env.DSRLB_DOCTOR_NETNS;
  const facts = await gatherFacts({ vip: values.vip, vip6, iface: values.iface, probe: !values['no-probe'] });
  const findings = runChecks(facts, { vip: values.vip, vip6, role, fixPrefix: ns ? `ip netns exec ${ns} ` : '' });
  const ok = doctorOk(findings);
  if (values.json) {
    io.out(JSON.stringify({ namespace: ns ?? null, vip: values.vip ?? null, ...(vip6 ? { vip6, ndpProbe: facts.v6?.ndpProbe ?? null } : {}), role, iface: facts.iface, ok, findings, arpProbe: facts.arpProbe }, null, 2));
  } else {
    const where = ns ? `namespace ${ns}` : 'this host';
    io.out(`dsrlb doctor: ${where} as a ${role === 'real' ? 'real server' : 'director'} for ${[values.vip ? `VIP ${values.vip}` : '', vip6 ? `VIP6 ${vip6}` : ''].filter(Boolean).join(' and ')}, interface ${facts.iface}`);
    for (const l of formatFindings(findings)) io.out(l);
    const bad = findings.filter((f) => f.status === 'warn' || f.status === 'fail');
    io.out(ok ? 'all is well' : `${bad.length} thing(s) to fix: ${bad.map((f) => f.check).join(', ')}`);
  }
  return ok ? 0 : 1;
}

// Run directly (`node --import tsx doctor.ts …`, as inNamespace does): the doctor inside a namespace.
if (process.argv[1] !== undefined && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run(process.argv.slice(2), processIO).then(
    (code) => process.exit(code),
    (e: unknown) => {
      processIO.err(`dsrlb doctor: ${e instanceof DsrlbError ? `${e.code}: ${e.message}` : String(e)}`);
      process.exit(1);
    },
  );
}
