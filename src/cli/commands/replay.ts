/**
 * dsrlb replay --config ldirectord.cf --in in.pcap --out out.pcap --self-mac MAC --neigh IP=MAC …
 *
 * Runs every frame of a capture (pcap or pcapng, a file or `-` for standard input) through the data
 * path, with the file's timestamps as time and every real server healthy, and writes the frames the
 * director would transmit as it goes (pcap or pcapng; `-` for standard output, the summary then
 * going to standard error). Input and output stream through fixed buffers: memory stays bounded
 * whatever the capture's size (the scheduling decisions are kept only with --choices or --json).
 */
import { loadLdirectordConfig } from '../../config/index.ts';
import { DROP_REASON_HELP } from '../../dataplane/index.ts';
import { dataplaneFromConfig, Replayer } from '../../engine/index.ts';
import { DsrlbError } from '../../errors/index.ts';
import { CAPTURE_FORMATS, CaptureReader, CaptureWriter, LINKTYPE_ETHERNET, type CaptureFormat } from '../../io/index.ts';
import { ipToString, ipv6ToHex, ipv6ToString, parseIPv4, parseIPv6, parseMac } from '../../model/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';
import { parseSysctls } from '../sysctl.ts';

const HELP = `Usage: dsrlb replay --config FILE --in IN.pcap --out OUT.pcap --self-mac MAC --neigh IP=MAC [--neigh …]
                    [--out-format pcap|pcapng] [--sysctl NAME=VALUE …] [--no-arp] [--choices] [--json]

  --config FILE      ldirectord.cf with the virtual services, virtual= and virtual6= (every real is
                     taken as healthy)
  --in FILE          pcap or pcapng of frames arriving at the director (- = standard input); frames
                     of interfaces that are not Ethernet are skipped and counted
  --out FILE         capture of the frames the director would send (forwards and ARP replies), in
                     order, written as the input is read (- = standard output; the summary then
                     goes to standard error)
  --out-format F     pcap (default) or pcapng
  --self-mac MAC     the director's MAC (frames to the VIP must be addressed to it)
  --neigh IP=MAC     the MAC of a real server, IPv4 or IPv6 (repeat for every real)
  --conn-capacity N  connection table size, entries (default 1048576, as dsrlb run; a table sized to
                     the capture's flows replays faster: fewer cache misses)
  --sysctl N=V       net.ipv4.vs switches: sloppy_tcp, expire_nodest_conn, expire_quiescent_template, conn_reuse_mode
  --no-arp           do not answer ARP requests for the VIPs
  --choices          also print every scheduling decision (client > real) in order
  --json             print the summary as JSON`;


export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    'self-mac': { type: 'string' },
    'out-format': { type: 'string' },
    'conn-capacity': { type: 'string' },
    neigh: { type: 'string', multiple: true },
    sysctl: { type: 'string', multiple: true },
    'no-arp': { type: 'boolean' },
    choices: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  for (const k of ['config', 'in', 'out', 'self-mac'] as const) {
    if (!values[k]) throw new DsrlbError('E_USAGE', `--${k} is required\n\n${HELP}`);
  }
  const selfMac = parseMac(values['self-mac']!);
  if (!selfMac) throw new DsrlbError('E_USAGE', `--self-mac: "${values['self-mac']}" is not a MAC address`);

  const sysctls = parseSysctls(values.sysctl ?? []);
  const format = (values['out-format'] ?? 'pcap') as CaptureFormat;
  if (!CAPTURE_FORMATS.includes(format)) throw new DsrlbError('E_USAGE', `--out-format: "${values['out-format']}" is not one of ${CAPTURE_FORMATS.join(', ')}`);

  const connCapacity = values['conn-capacity'] === undefined ? undefined : Number(values['conn-capacity']);
  if (connCapacity !== undefined && (!Number.isInteger(connCapacity) || connCapacity < 16)) {
    throw new DsrlbError('E_USAGE', `--conn-capacity: ${values['conn-capacity']} is not an entry count >= 16`);
  }
  const cfg = loadLdirectordConfig(values.config!);
  const dp = dataplaneFromConfig(cfg, { selfMac, answerArp: !values['no-arp'], sysctls, connCapacity });
  for (const n of values.neigh ?? []) {
    // IP=MAC; an IPv6 address may be bracketed ([2001:db8::21]=MAC). Split at the last '='.
    const eq = n.lastIndexOf('=');
    const ip = eq < 0 ? '' : n.slice(0, eq).replace(/^\[(.*)\]$/, '$1');
    const m = eq < 0 ? null : parseMac(n.slice(eq + 1));
    const addr = parseIPv4(ip);
    const addr6 = addr === null ? parseIPv6(ip) : null;
    if ((addr === null && addr6 === null) || !m) throw new DsrlbError('E_USAGE', `--neigh "${n}": expected IP=MAC (IPv4 or IPv6)`);
    if (addr6) dp.services.setNeighbour6(addr6, m);
    else dp.services.setNeighbour(addr!, m);
  }
  const missing = dp.services.realAddresses().filter((a) => !dp.services.neighbours.has(a | 0)).map(ipToString);
  const seen6 = new Set<string>();
  for (const svc of dp.services.services6) {
    for (const d of svc.dests) {
      const k = ipv6ToHex(d.addr6!);
      if (!dp.services.neighbours6.has(k) && !seen6.has(k)) {
        seen6.add(k);
        missing.push(ipv6ToString(d.addr6!));
      }
    }
  }
  if (missing.length) {
    throw new DsrlbError('E_USAGE', `no MAC for real server(s) ${missing.join(', ')}: give --neigh IP=MAC for each`);
  }

  const input = CaptureReader.open(values.in!);
  const writer = CaptureWriter.open(values.out!, format);
  const keep = Boolean(values.choices || values.json);
  const replayer = new Replayer(dp, (t, bytes, len) => writer.add(t, bytes, len), { choices: keep, notForwarded: Boolean(values.json) });
  const skipped = new Map<number, number>();
  try {
    for (let r = input.next(); r; r = input.next()) {
      if (r.linkType !== LINKTYPE_ETHERNET) {
        skipped.set(r.linkType, (skipped.get(r.linkType) ?? 0) + 1);
        continue;
      }
      replayer.feed(r.timeMs, r.data);
    }
  } finally {
    input.close();
    writer.close();
  }
  const summary = replayer.summary();
  // With the capture on standard output, the words go to standard error.
  const say = values.out === '-' ? io.err : io.out;
  if (skipped.size) {
    say(`skipped ${[...skipped].map(([lt, n]) => `${n} frame(s) of link type ${lt}`).join(', ')} (only Ethernet, link type 1, is replayed)`);
  }

  if (values.json) {
    say(JSON.stringify(summary, null, 2));
    return 0;
  }
  say(`${summary.frames} frames in, ${summary.forwarded} forwarded, ${summary.replies - summary.icmpReplies} ARP replies, ${summary.icmpReplies ? `${summary.icmpReplies} ICMP replies, ` : ''}` +
    `${summary.dropped} dropped, ${summary.passed} left to the host; ${writer.count} frames written to ${values.out}`);
  say('');
  say(`${'real server'.padEnd(22)} ${'flows'.padStart(8)} ${'packets'.padStart(9)} ${'bytes'.padStart(11)}`);
  for (const [real, r] of Object.entries(summary.reals)) {
    say(`${real.padEnd(22)} ${String(r.flows).padStart(8)} ${String(r.packets).padStart(9)} ${String(r.bytes).padStart(11)}`);
  }
  const reasons = Object.entries(summary.reasons);
  if (reasons.length) {
    say('');
    say(`${'not forwarded'.padEnd(22)} ${'frames'.padStart(8)}  why`);
    for (const [reason, n] of reasons) say(`${reason.padEnd(22)} ${String(n).padStart(8)}  ${DROP_REASON_HELP[reason] ?? ''}`);
  }
  if (values.choices) {
    say('');
    for (const c of summary.choices) say(`${c.client} > ${c.real}`);
  }
  return 0;
}
