/**
 * dsrlb ipvsadm [--control PATH] IPVSADM-ARGUMENTS
 *
 * ipvsadm against a running dsrlb director: the same arguments, the same listings byte for byte,
 * the same messages and exit codes, so that tools written for ipvsadm (ldirectord, keepalived-style
 * scripts, ipvsadm-save/restore) drive dsrlb unchanged. The director is found through its control
 * socket: --control PATH, else $DSRLB_CONTROL, else the one director of this network namespace.
 */
import { readFileSync } from 'node:fs';
import { DsrlbError, isDsrlbError } from '../../errors/index.ts';
import { CONTROL_DIR, controlRequest, liveControlSockets, netnsId } from '../../io/index.ts';
import {
  formatConnections, formatList, formatOneService, formatSave, IPVSADM_VERSION_TEXT, IpvsadmUsageError, namesFromFiles,
  parseIpvsadmArgs, TRY_HELP, type IpvsadmCommand, type Lookup, type Names, type RateReport, type ServiceId, type TableSnapshot,
} from '../../obs/index.ts';
import type { CliIO } from '../io.ts';
import { formatSyncDaemons } from '../peer-sync.ts';

const HELP = `Usage: dsrlb ipvsadm [--control PATH] ARGUMENTS

ipvsadm for a running dsrlb director (dsrlb run). ARGUMENTS are ipvsadm's:

  -A|-E -t|-u VIP[:PORT] [-s SCHED] [-p [SECS]] [-M NETMASK] [-b FLAGS]   add / edit a virtual service
  -D -t|-u VIP[:PORT]                                                    delete a virtual service
  -C                                                                     delete every service
  -a|-e -t|-u VIP[:PORT] -r RIP[:PORT] [-g] [-w WEIGHT] [-x UPPER] [-y LOWER]   add / edit a real server
  -d -t|-u VIP[:PORT] -r RIP[:PORT]                                      delete a real server
  -L|-l [-t|-u VIP[:PORT]] [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact] [--nosort]
  -L -c [-n] [--persistent-conn]                                         list connections
  -S [-n]                                                                save the table as commands
  -R                                                                     restore commands from stdin
  -Z [-t|-u VIP[:PORT]]                                                  zero the counters
  -h, -v

  schedulers: rr wrr lc wlc sed nq sh dh mh (default wlc); -b: sh-fallback,sh-port,mh-fallback,mh-port
  forwarding: direct routing (-g) only; TCP and UDP services, IPv4 or IPv6 ([2001:db8::10]:80),
  the reals in the service's family.

  --control PATH   the director's control socket. Default: $DSRLB_CONTROL, else the one director
                   running in this network namespace (${CONTROL_DIR}/net<netns>-<IF>.sock).

Without -n, names come from /etc/hosts and /etc/services only (never DNS).`;

/** The ipvs_strerror texts ipvsadm prints for the director's refusals. */
function ipvsError(e: unknown, cmd: IpvsadmCommand['cmd']): string {
  const code = isDsrlbError(e) ? e.code : 'E_INTERNAL';
  const msg = (e as Error).message ?? String(e);
  const onService = cmd === 'edit-service' || cmd === 'delete-service' || cmd === 'zero' || cmd === 'list';
  switch (code) {
    case 'E_SERVICE_EXISTS':
      return 'Service already exists';
    case 'E_NO_SERVICE':
      return onService ? 'No such service' : 'Service not defined';
    case 'E_REAL_EXISTS':
      return 'Destination already exists';
    case 'E_NO_REAL':
      return 'No such destination';
    case 'E_SCHED_UNKNOWN':
      return 'Scheduler or persistence engine not found';
  }
  // The packet path reports a missing real with a plain Error whose message says so.
  if (/^no real /.test(msg)) return 'No such destination';
  return `dsrlb: ${code}: ${msg}`;
}

interface Env {
  request(req: Record<string, unknown>): Promise<unknown>;
  stdin(): Promise<string>;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let namesCache: (Names & Lookup) | null = null;
function systemNames(): Names & Lookup {
  namesCache ??= namesFromFiles(readText('/etc/hosts'), readText('/etc/services'));
  return namesCache;
}

function svcMsg(s: ServiceId): Record<string, unknown> {
  return s.vip6 !== undefined ? { proto: s.proto, vip: s.vip, port: s.port, vip6: s.vip6 } : { proto: s.proto, vip: s.vip, port: s.port };
}

/** Splits one line of ipvsadm-save output into words (double or single quotes group). */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Runs one parsed command against the director; returns the exit status. */
async function execute(c: IpvsadmCommand, env: Env, io: CliIO, nested: boolean): Promise<number> {
  const ask = async (req: Record<string, unknown>) => env.request({ id: 0, ...req });
  const snapshot = async (conns = false) => (await ask({ op: 'snapshot', conns })) as TableSnapshot;
  const print = (s: string) => {
    if (s !== '') io.out(s);
  };
  switch (c.cmd) {
    case 'help':
      io.out(HELP);
      return 0;
    case 'version':
      io.out(IPVSADM_VERSION_TEXT);
      return 0;
    case 'list': {
      if (c.daemon) {
        // Connection sync among active directors (dsrlb run --sync-peer); none (or a director that
        // does not know the request, as dsrlb ha): nothing, as ipvsadm prints without a daemon.
        const s = await ask({ op: 'syncStatus' }).catch(() => null);
        print(formatSyncDaemons((s ?? null) as Parameters<typeof formatSyncDaemons>[0]));
        return 0;
      }
      if (c.timeout) {
        const t = ((await snapshot()) as TableSnapshot & { timeouts?: { tcp: number; tcpfin: number; udp: number } }).timeouts;
        if (!t) {
          io.err('dsrlb ipvsadm: --timeout: this director does not report its connection timeouts');
          return 2;
        }
        io.out(`Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`);
        return 0;
      }
      const names = c.flags.numeric ? undefined : systemNames();
      if (c.connections) {
        const snap = await snapshot(true);
        print(formatConnections(snap.conns ?? [], { numeric: c.flags.numeric, names, persistentConn: c.flags.persistentConn }));
        return 0;
      }
      const snap = await snapshot();
      let rates: RateReport | null = null;
      if (c.flags.rate && !c.flags.stats) {
        try {
          rates = (await ask({ op: 'rate' })) as RateReport;
        } catch (e) {
          if (isDsrlbError(e) && e.code === 'E_CONTROL_REQUEST') {
            io.err('dsrlb ipvsadm: --rate: this director does not estimate rates (it has no "rate" control request)');
            return 2;
          }
          throw e;
        }
      }
      const f = { ...c.flags, names, rates };
      if (c.service) {
        const text = formatOneService(snap, c.service, f);
        if (text === null) {
          io.err('No such service');
          return 1;
        }
        print(text);
      } else {
        print(formatList(snap, f));
      }
      return 0;
    }
    case 'save':
      print(formatSave(await snapshot(), { numeric: c.numeric, names: c.numeric ? undefined : systemNames() }));
      return 0;
    case 'restore': {
      if (nested) {
        io.err(TRY_HELP);
        return 255;
      }
      for (const line of (await env.stdin()).split('\n')) {
        const words = splitWords(line);
        if (words.length === 0) continue;
        // ipvsadm-restore feeds ipvsadm its own lines; the program name may lead them.
        const args = words[0] === 'ipvsadm' ? words.slice(1) : words;
        const status = await runParsed(args, env, io, true);
        if (status !== 0) return status;
      }
      return 0;
    }
    case 'flush':
      await ask({ op: 'flush' });
      return 0;
    case 'zero':
      try {
        await ask(c.service ? { op: 'zero', svc: svcMsg(c.service) } : { op: 'zero' });
      } catch (e) {
        if (isDsrlbError(e) && e.code === 'E_CONTROL_REQUEST') {
          io.err('dsrlb ipvsadm: -Z: this director cannot zero its counters (it has no "zero" control request)');
          return 2;
        }
        throw e;
      }
      return 0;
    case 'add-service':
      if (c.vip6 !== undefined) {
        const { proto, port, scheduler, schedFlags } = c.spec;
        await ask({ op: 'addService6', spec: { proto, vip6: c.vip6, port, scheduler, schedFlags } });
      } else {
        await ask({ op: 'addService', spec: c.spec });
      }
      return 0;
    case 'edit-service': {
      // ipvsadm -E sends the whole service: what is not given returns to its default.
      const { scheduler, schedFlags, persistent, netmask } = c.spec;
      if (c.vip6 !== undefined) await ask({ op: 'editService', svc: svcMsg({ ...c.spec, vip6: c.vip6 }), changes: { scheduler, schedFlags } });
      else await ask({ op: 'editService', svc: svcMsg(c.spec), changes: { scheduler, schedFlags, persistent, netmask } });
      return 0;
    }
    case 'delete-service':
      await ask({ op: 'deleteService', svc: svcMsg(c.service) });
      return 0;
    case 'add-server':
    case 'edit-server': {
      const r = c.real;
      // The kernel refuses a lower threshold above the upper one (ERANGE).
      if (r.lThreshold > r.uThreshold) {
        io.err('Numerical result out of range');
        return 255;
      }
      const changes = { weight: r.weight, uThreshold: r.uThreshold, lThreshold: r.lThreshold };
      if (c.cmd === 'add-server') {
        if (r.addr6 !== undefined) await ask({ op: 'addReal6', svc: svcMsg(c.service), real: { addr6: r.addr6, port: r.port, ...changes } });
        else await ask({ op: 'addReal', svc: svcMsg(c.service), real: r });
      } else {
        await ask({ op: 'editReal', svc: svcMsg(c.service), addr: r.addr, ...(r.addr6 !== undefined ? { addr6: r.addr6 } : {}), port: r.port, changes });
      }
      return 0;
    }
    case 'delete-server':
      await ask({ op: 'deleteReal', svc: svcMsg(c.service), addr: c.addr, ...(c.addr6 !== undefined ? { addr6: c.addr6 } : {}), port: c.port });
      return 0;
  }
}

async function runParsed(argv: string[], env: Env, io: CliIO, nested: boolean): Promise<number> {
  let c: IpvsadmCommand;
  try {
    c = parseIpvsadmArgs(argv, systemNames());
  } catch (e) {
    if (e instanceof IpvsadmUsageError) {
      io.err(e.message);
      return e.exitCode;
    }
    throw e;
  }
  try {
    return await execute(c, env, io, nested);
  } catch (e) {
    if (isDsrlbError(e) && (e.code === 'E_CONTROL_CONNECT' || e.code === 'E_CONTROL_TIMEOUT' || e.code === 'E_IPVSADM_DIRECTOR')) {
      io.err(`dsrlb ipvsadm: ${e.message}`);
      return 2;
    }
    io.err(ipvsError(e, c.cmd));
    return 255;
  }
}

/** Takes dsrlb's own --control option out of ipvsadm's arguments. */
export function extractControl(argv: readonly string[]): { control: string | null; rest: string[] } {
  let control: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--control') {
      if (i + 1 >= argv.length) throw new DsrlbError('E_USAGE', '--control needs a socket path');
      control = argv[++i]!;
    } else if (a.startsWith('--control=')) {
      control = a.slice('--control='.length);
    } else {
      rest.push(a);
    }
  }
  return { control, rest };
}

/**
 * The control socket to talk to, or a DsrlbError saying why there is none. Each socket file is
 * probed first: one left behind by a killed process is not a running director.
 */
export async function chooseControlSocket(explicit: string | null, env: NodeJS.ProcessEnv = process.env, find: () => Promise<string[]> = () => liveControlSockets()): Promise<string> {
  if (explicit) return explicit;
  if (env.DSRLB_CONTROL) return env.DSRLB_CONTROL;
  const found = await find();
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new DsrlbError('E_IPVSADM_DIRECTOR',
      `no dsrlb director is running in this network namespace (no ${CONTROL_DIR}/net${netnsId()}-*.sock).\n` +
      'Start one with "dsrlb run --iface IF", or name its socket with --control PATH.');
  }
  throw new DsrlbError('E_IPVSADM_DIRECTOR',
    `${found.length} dsrlb directors are running in this network namespace; choose one with --control PATH:\n` +
    found.map((p) => `  ${p}`).join('\n'));
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => (s += c));
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', reject);
  });
}

/** `deps.stdin` replaces standard input for -R (tests). */
export async function run(argv: string[], io: CliIO, deps: { stdin?: () => Promise<string> } = {}): Promise<number> {
  let control: string | null;
  let rest: string[];
  try {
    ({ control, rest } = extractControl(argv));
  } catch (e) {
    io.err(`dsrlb ipvsadm: ${(e as Error).message}`);
    return 2;
  }
  let socket: string | null = null;
  const env: Env = {
    async request(req) {
      socket ??= await chooseControlSocket(control);
      return controlRequest(socket, req);
    },
    stdin: deps.stdin ?? readStdin,
  };
  return runParsed(rest, env, io, false);
}
