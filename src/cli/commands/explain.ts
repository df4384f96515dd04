/**
 * dsrlb explain CAPTURE.pcap… [--config ldirectord.cf] [--svg OUT.svg] [--html OUT.html]
 *   Reads pcaps taken at the client, the director and the real servers (files, or folders of
 *   *.pcap), finds the roles, draws every connection to a virtual service as a ladder diagram and
 *   names what is wrong. Exit 0 when no problem is found, 1 when one is, 2 on bad usage.
 *
 * dsrlb explain --record DIR [--scenario S] [--prefix P] [--requests N]
 *   Records a teaching run on the namespace testbed first (root), then explains it.
 *
 * runTestbedCapture (dsrlb testbed capture): records at every host of a running testbed.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DsrlbError } from '../../errors/index.ts';
import { loadLdirectordConfig } from '../../config/index.ts';
import { readPcapFile } from '../../io/index.ts';
import {
  endpoint, explainSources, renderHtml, renderSvg, renderText, type CaptureInput, type Explanation,
} from '../../teach/index.ts';
import { HOST_NAMES, hostMac, DEFAULT_PREFIX, type HostName } from '../../testbed/index.ts';
import { recordScenario, SCENARIOS, startTestbedCapture, type Scenario } from '../../doctor/index.ts';
import { parseCommandArgs } from '../args.ts';
import { captureFiles, fileSource } from '../capture-sources.ts';
import type { CliIO } from '../io.ts';

export const EXPLAIN_HELP = `Usage: dsrlb explain CAPTURE.pcap|DIR … [options]
       dsrlb explain --record DIR [--scenario healthy|arp-problem|offload] [--prefix P] [--requests N] [options]

Explains captures of a DSR setup: the roles (client, director, real servers, VIP), every connection
to a virtual service as a ladder diagram (ARP for the VIP, the SYN to the director, the same frame
forwarded to a real, the real's answer straight to the client), and what is wrong. Give the pcaps
taken at the client, the director and the reals together, pcap or pcapng (a folder is read for its
*.pcap and *.pcapng files; a pcapng with several interfaces gives one capture point per interface);
each file's name (without .pcap) names its capture point. IPv6 captures are read the same way:
Neighbor Solicitations and Advertisements in place of ARP, the hop limit in place of the TTL.

Options:
  --config FILE        the ldirectord.cf: VIPs, ports and reals from it instead of inferred
  --svg OUT.svg        write the ladder(s) as SVG
  --html OUT.html      write a self-contained HTML page (summary, findings, ladders)
  --json               print the roles, flows and findings as JSON instead of text
  --flow N             only flow N (repeatable)
  --highlight N,M      highlight these frame numbers in the SVG/HTML ladders
  --max-arrows N       draw at most N frames per flow (default 60)
  --max-flows N        keep at most N flows in detail, the first ones (default 100); later flows
                       are counted. The captures are read as streams: memory stays bounded
                       whatever their size
  --mtu N              link MTU for the frame-size check (default 1500)
  --no-names           do not name the testbed's hosts (www1 … by their fixed MACs)
  -q, --quiet          no text on the terminal (only files and the exit code)
  --record DIR         (root) build the testbed, run a director on www1, record client.pcap,
                       www1.pcap, www2.pcap, www3.pcap in DIR while the client sends requests
  --scenario S         with --record: healthy (default), arp-problem (www3 answers ARP for the
                       VIP), offload (the client's tx checksum offload on)
  --prefix P           with --record: testbed prefix (default "dsrrec")
  --requests N         with --record: HTTP requests (default 3)

Exit: 0 no problem found, 1 problems found (or an error), 2 usage.`;

export const CAPTURE_HELP = `Usage: dsrlb testbed capture --out DIR [--prefix P] [--seconds N] [--hosts client,www1,…]

Records what each host of a running testbed sees on its eth0 (client.pcap, www1.pcap, www2.pcap,
www3.pcap in DIR) for N seconds (default 30) or until Ctrl-C; then "dsrlb explain DIR".`;

/** The testbed's hosts by their fixed MACs. */
export function testbedNames(): Record<string, string> {
  return Object.fromEntries(HOST_NAMES.map((h) => [hostMac(h), h]));
}

/** Files and folders (their *.pcap) -> captures named after the files, read whole into memory
 *  (explain itself streams them: capture-sources.ts). */
export function loadCaptures(paths: readonly string[]): CaptureInput[] {
  const files = captureFiles(paths);
  return files.flatMap((f) => {
    const pc = readPcapFile(f);
    const name = basename(f).replace(/\.(pcapng|pcap|cap)$/i, '');
    if (pc.interfaces.length <= 1) return [{ name, linkType: pc.linkType, records: pc.records }];
    // A pcapng with several interfaces: one capture point per interface, named after it.
    return pc.interfaces.map((ifc, i) => ({
      name: `${name}.${ifc.name ?? `if${i}`}`,
      linkType: ifc.linkType,
      records: pc.records.filter((r) => r.iface === i),
    })).filter((c) => c.records.length > 0);
  });
}

function numberList(s: string | undefined, what: string): number[] | undefined {
  if (s === undefined) return undefined;
  const xs = s.split(',').map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) throw new DsrlbError('E_USAGE', `${what}: expected numbers like 3,4,5`);
  return xs;
}

function toJson(ex: Explanation): unknown {
  return {
    captures: ex.captures,
    ...(ex.totalFlows !== undefined && ex.totalFlows > ex.flows.length ? { totalFlows: ex.totalFlows } : {}),
    roles: {
      source: ex.roles.source,
      vips: ex.roles.vips,
      services: ex.roles.services,
      hosts: ex.roles.hosts,
      realIps: ex.roles.realIps,
      directors: [...ex.roles.directorMacs],
    },
    flows: ex.flows.map((fl) => ({
      id: fl.id, proto: fl.proto, client: endpoint(fl.clientIp, fl.clientPort), vip: endpoint(fl.vip, fl.port), realMacs: fl.realMacs, local: fl.local,
      handshake: fl.handshake, ...(fl.omitted ? { framesNotKept: fl.omitted } : {}),
      arrows: fl.arrows.map((a) => ({ frame: a.frame.n, from: a.from, to: a.to, kind: a.kind, label: a.label, detail: a.detail, notes: a.notes, problem: a.problem, seenAt: a.frame.seenAt })),
    })),
    findings: ex.findings,
    other: Object.fromEntries(ex.other.kinds),
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' },
    svg: { type: 'string' },
    html: { type: 'string' },
    json: { type: 'boolean' },
    flow: { type: 'string', multiple: true },
    highlight: { type: 'string' },
    'max-arrows': { type: 'string' },
    'max-flows': { type: 'string' },
    mtu: { type: 'string' },
    'no-names': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    record: { type: 'string' },
    scenario: { type: 'string' },
    prefix: { type: 'string' },
    requests: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    io.out(EXPLAIN_HELP);
    return 0;
  }
  const paths = [...positionals];
  let config = values.config ? loadLdirectordConfig(values.config) : undefined;
  if (values.record !== undefined) {
    const scenario = (values.scenario ?? 'healthy') as Scenario;
    if (!SCENARIOS.includes(scenario)) throw new DsrlbError('E_USAGE', `--scenario must be one of ${SCENARIOS.join(', ')}`);
    const requests = values.requests === undefined ? 3 : Number(values.requests);
    const r = await recordScenario({
      prefix: values.prefix ?? 'dsrrec', dir: values.record, scenario, requests,
      arpEachRequest: scenario === 'arp-problem', onProgress: values.quiet ? undefined : (l) => io.out(`record: ${l}`),
    });
    paths.push(...r.files.values());
    config ??= loadLdirectordConfig(r.config);
  } else if (values.scenario || values.requests || values.prefix) {
    throw new DsrlbError('E_USAGE', '--scenario, --prefix and --requests go with --record');
  }
  if (paths.length === 0) {
    io.err(EXPLAIN_HELP);
    return 2;
  }
  const mtu = values.mtu === undefined ? undefined : Number(values.mtu);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) throw new DsrlbError('E_USAGE', '--mtu must be an integer from 68 to 65535');
  const maxArrows = values['max-arrows'] === undefined ? undefined : Number(values['max-arrows']);
  if (maxArrows !== undefined && (!Number.isInteger(maxArrows) || maxArrows < 1)) throw new DsrlbError('E_USAGE', '--max-arrows must be a positive integer');
  const maxFlows = values['max-flows'] === undefined ? undefined : Number(values['max-flows']);
  if (maxFlows !== undefined && (!Number.isInteger(maxFlows) || maxFlows < 1)) throw new DsrlbError('E_USAGE', '--max-flows must be a positive integer');
  const flows = values.flow?.flatMap((f) => numberList(f, '--flow')!);
  const highlight = numberList(values.highlight, '--highlight');

  const ex = explainSources(captureFiles(paths).map(fileSource), { config, names: values['no-names'] ? undefined : testbedNames(), mtu, maxFlows });
  if (flows) {
    const total = ex.totalFlows ?? ex.flows.length;
    const missing = flows.filter((id) => !ex.flows.some((fl) => fl.id === id));
    const undrawn = missing.filter((id) => id <= total);
    if (undrawn.length) throw new DsrlbError('E_USAGE', `flow ${undrawn.join(', ')} is not kept in detail: only the first ${ex.flows.length} are (--max-flows)`);
    if (missing.length) throw new DsrlbError('E_USAGE', `no flow ${missing.join(', ')} (the captures have ${total})`);
  }
  if (values.svg) {
    writeOut(values.svg, renderSvg(ex, { flows, highlight, maxArrows }));
    if (!values.quiet) io.out(`wrote ${values.svg}`);
  }
  if (values.html) {
    writeOut(values.html, renderHtml(ex, { flows, highlight, maxArrows }));
    if (!values.quiet) io.out(`wrote ${values.html}`);
  }
  if (values.json) io.out(JSON.stringify(toJson(ex), null, 2));
  else if (!values.quiet) io.out(renderText(ex, { flows, maxArrows }));
  return ex.findings.some((f) => f.severity === 'problem') ? 1 : 0;
}

function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new DsrlbError('E_TEACH_WRITE', `${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** dsrlb testbed capture: tcpdump at every host of a running testbed for a while. */
export async function runTestbedCapture(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    out: { type: 'string' },
    prefix: { type: 'string' },
    seconds: { type: 'string' },
    hosts: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(CAPTURE_HELP);
    return 0;
  }
  if (!values.out) {
    io.err(CAPTURE_HELP);
    return 2;
  }
  const seconds = Number(values.seconds ?? 30);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new DsrlbError('E_USAGE', '--seconds must be from 0 to 3600');
  const hosts = values.hosts?.split(',').map((h) => h.trim()) as HostName[] | undefined;
  if (hosts?.some((h) => !HOST_NAMES.includes(h))) throw new DsrlbError('E_USAGE', `--hosts: choose among ${HOST_NAMES.join(', ')}`);
  const prefix = values.prefix ?? DEFAULT_PREFIX;
  const cap = await startTestbedCapture({ prefix, dir: values.out, hosts });
  io.out(`recording at ${[...cap.files.keys()].join(', ')} of testbed ${prefix} for ${seconds} s (Ctrl-C stops earlier)`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    process.once('SIGINT', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await cap.stop();
  for (const [h, f] of cap.files) io.out(`${h}: ${f}`);
  io.out(`next: dsrlb explain ${values.out}`);
  return 0;
}
