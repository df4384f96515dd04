/**
 * explainCaptures: pcaps (as records) in, an Explanation out: the merged timeline, the roles, the
 * flows with their ladders, and the findings. The renderers (text.ts, svg.ts, html.ts) draw it.
 */
import { DsrlbError } from '../errors/index.ts';
import type { LdirectordConfig } from '../config/index.ts';
import { findProblems, type Finding } from './findings.ts';
import { buildFlows, type Flow } from './flows.ts';
import { mergeCaptures, type CaptureInput, type WireFrame } from './frames.ts';
import { inferRoles, type Roles } from './roles.ts';

export interface ExplainOptions {
  config?: LdirectordConfig;
  /** MAC -> display name (e.g. the testbed's host names). */
  names?: Readonly<Record<string, string>>;
  /** Link MTU for the frame-size check (default 1500). */
  mtu?: number;
}

export interface CaptureSummary {
  name: string;
  frames: number;
}

export interface OtherTraffic {
  /** Frames in no flow: description -> count. */
  kinds: Map<string, number>;
}

export interface Explanation {
  captures: CaptureSummary[];
  frames: WireFrame[];
  roles: Roles;
  flows: Flow[];
  findings: Finding[];
  other: OtherTraffic;
}

function otherKind(f: WireFrame, roles: Roles): string {
  if (f.error) return 'frames that do not decode';
  if (f.probe) return "dsrlb's capture priming probe (EtherType 0x88b5, sent to itself)";
  if (f.arp) {
    const dir = roles.directorMacs.has(f.arp.sha);
    if (f.arp.op === 'request' && dir && roles.realIps.includes(f.arp.tpa)) return 'ARP: the director resolving the real servers';
    if (f.arp.op === 'reply' && roles.directorMacs.has(f.dstMac) && roles.realIps.includes(f.arp.spa)) return 'ARP: the real servers answering the director';
    return 'other ARP';
  }
  if (f.ip && f.l4) return `other ${f.l4.proto.toUpperCase()} (not to a virtual service)`;
  if (f.ip) return `other IPv4 (protocol ${f.ip.proto})`;
  return `EtherType 0x${f.etherType.toString(16).padStart(4, '0')}`;
}

export function explainCaptures(captures: readonly CaptureInput[], o: ExplainOptions = {}): Explanation {
  if (captures.length === 0) throw new DsrlbError('E_TEACH_NO_CAPTURE', 'no capture to explain');
  const names = new Set<string>();
  for (const c of captures) {
    if (names.has(c.name)) throw new DsrlbError('E_TEACH_DUPLICATE', `two captures named ${c.name}: give each capture point its own file name`);
    names.add(c.name);
  }
  const frames = mergeCaptures(captures);
  const roles = inferRoles(frames, { config: o.config, names: o.names });
  const flows = buildFlows(frames, roles);
  const inFlow = new Set(flows.flatMap((fl) => fl.frames.map((f) => f.n)));
  const kinds = new Map<string, number>();
  for (const f of frames) {
    if (inFlow.has(f.n)) continue;
    const k = otherKind(f, roles);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const findings = findProblems(frames, roles, flows, { mtu: o.mtu });
  return {
    captures: captures.map((c) => ({ name: c.name, frames: c.records.length })),
    frames,
    roles,
    flows,
    findings,
    other: { kinds },
  };
}

/** The flow's verdict in a few words. */
export function flowVerdict(fl: Flow, findings: readonly Finding[]): { ok: boolean; text: string } {
  const mine = findings.filter((f) => f.severity === 'problem' && f.flows.includes(fl.id));
  if (mine.length) return { ok: false, text: mine.map((f) => f.code).join(', ') };
  if (fl.proto === 'tcp' && !fl.handshake) return { ok: false, text: 'no handshake seen' };
  return { ok: true, text: 'DSR as it should be' };
}
