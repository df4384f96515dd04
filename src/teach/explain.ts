/**
 * explainCaptures: pcaps (as records) in, an Explanation out: the merged timeline, the roles, the
 * flows with their ladders, and the findings. The renderers (text.ts, svg.ts, html.ts) draw it.
 */
import { DsrlbError } from '../errors/index.ts';
import type { LdirectordConfig } from '../config/index.ts';
import { Evidence } from './evidence.ts';
import { findProblems, type Finding } from './findings.ts';
import { FlowBuilder, UNBOUNDED, type FlowBounds } from './flow-builder.ts';
import type { Flow } from './flows.ts';
import { icmpText, LINKTYPE_ETHERNET, type CaptureInput, type WireFrame } from './frames.ts';
import { RoleFacts, type Roles } from './roles.ts';
import { FrameMerger, memorySources, wireFrames, type CaptureSource, type StreamBounds } from './stream.ts';

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
  /** Every frame when explained in memory; empty when streamed (see distinctFrames). */
  frames: WireFrame[];
  /** Distinct frames on the wire (sightings at several points joined). */
  distinctFrames?: number;
  /** Connections to a virtual service, including those not kept in detail (flows has the first ones). */
  totalFlows?: number;
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
    const p = f.arp.ndp ? 'NDP' : 'ARP';
    if (f.arp.op === 'request' && dir && roles.realIps.includes(f.arp.tpa)) return `${p}: the director resolving the real servers`;
    if (f.arp.op === 'reply' && roles.directorMacs.has(f.dstMac) && roles.realIps.includes(f.arp.spa)) return `${p}: the real servers answering the director`;
    return `other ${p}`;
  }
  if (f.ip && f.l4) return `other ${f.l4.proto.toUpperCase()} (not to a virtual service)`;
  if (f.ip?.v6 && f.icmp) return `other ICMPv6 (${icmpText(f.icmp)})`;
  if (f.ip) return f.ip.v6 ? `other IPv6 (next header ${f.ip.proto})` : `other IPv4 (protocol ${f.ip.proto})`;
  return `EtherType 0x${f.etherType.toString(16).padStart(4, '0')}`;
}

export function explainCaptures(captures: readonly CaptureInput[], o: ExplainOptions = {}): Explanation {
  if (captures.length === 0) throw new DsrlbError('E_TEACH_NO_CAPTURE', 'no capture to explain');
  const names = new Set<string>();
  for (const c of captures) {
    if (names.has(c.name)) throw new DsrlbError('E_TEACH_DUPLICATE', `two captures named ${c.name}: give each capture point its own file name`);
    names.add(c.name);
  }
  for (const c of captures) {
    if (c.linkType !== LINKTYPE_ETHERNET) {
      throw new DsrlbError('E_TEACH_LINKTYPE', `${c.name}: link type ${c.linkType} is not Ethernet (capture on the Ethernet interface, not "any")`);
    }
  }
  // In memory already: keep every frame and every flow (the bounds are for streamed files).
  const ex = explainSources(memorySources(captures), { ...o, keepFrames: true, ...UNBOUNDED, windowFrames: Infinity });
  return { ...ex, captures: captures.map((c) => ({ name: c.name, frames: c.records.length })) };
}

export interface StreamExplainOptions extends ExplainOptions, StreamBounds, FlowBounds {
  /** Keep every frame (Explanation.frames, every forward, findings over all frames): in-memory input only. */
  keepFrames?: boolean;
  /** Frames kept per finding as evidence (default 1000); the counts cover all. */
  maxSamples?: number;
}

/**
 * Explains captures read as streams, in three passes over them: the roles' facts (per MAC and
 * address), then who is client and real (and where the flows kept in detail start and end), then
 * the flows, the findings and the other traffic. Memory is bounded by the options, not by the
 * captures: see StreamBounds, FlowBounds and maxSamples.
 */
export function explainSources(sources: readonly CaptureSource[], o: StreamExplainOptions = {}): Explanation {
  if (sources.length === 0) throw new DsrlbError('E_TEACH_NO_CAPTURE', 'no capture to explain');
  // Pass 1: the roles' facts, the capture points.
  const facts = new RoleFacts();
  const m1 = new FrameMerger(o);
  for (const { frame, fwdOf } of wireFrames(sources, o, m1)) facts.add(frame, fwdOf);
  const marks = facts.base({ config: o.config, names: o.names });
  const points = sources.flatMap((s) => s.points?.() ?? []);
  for (const p of m1.perPoint.keys()) if (!points.includes(p)) points.push(p);
  const dup = points.find((p, i) => points.indexOf(p) !== i);
  if (dup !== undefined) throw new DsrlbError('E_TEACH_DUPLICATE', `two captures named ${dup}: give each capture point its own file name`);
  const vips = [...marks.b.vips];
  // Pass 2: clients and reals; the flows' spans.
  const skeleton = new FlowBuilder(marks.b.services, vips, o, null, false);
  for (const { frame, fwdOf } of wireFrames(sources, o)) {
    marks.add(frame, fwdOf !== null);
    skeleton.add(frame, fwdOf !== null);
  }
  const forwardOf = new Map<number, number>();
  const roles = marks.finish(forwardOf);
  // Pass 3: the flows in detail, the evidence for the findings, the other traffic.
  const spans = skeleton.spans();
  const builder = new FlowBuilder(roles.services, roles.vips, o, spans, true, roles.directorMacs);
  const evidence = new Evidence(roles, spans, o);
  const kinds = new Map<string, number>();
  const all: WireFrame[] = [];
  const m3 = new FrameMerger(o);
  for (const { frame: f, fwdOf } of wireFrames(sources, o, m3)) {
    const inFlow = builder.add(f, fwdOf !== null);
    const kept = evidence.add(f, fwdOf);
    if (o.keepFrames) all.push(f);
    if (fwdOf && (o.keepFrames || inFlow === 'kept' || kept)) forwardOf.set(f.n, fwdOf.n);
    if (inFlow === null) {
      const k = otherKind(f, roles);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
  }
  const flows = builder.finish(roles);
  const totals = o.keepFrames ? undefined : { ...evidence.totals, undrawn: builder.undrawn };
  const findings = findProblems(o.keepFrames ? all : evidence.frames(), roles, flows, { mtu: o.mtu, totals });
  return {
    captures: points.map((name) => ({ name, frames: m1.perPoint.get(name) ?? 0 })),
    frames: all,
    distinctFrames: m3.count,
    totalFlows: builder.count,
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
