/**
 * Flows and their ladder: every connection to a virtual service (client address and port <-> VIP
 * and port) with its frames in time order, each frame an arrow from the lane of its source MAC to
 * the lane of its destination MAC, classified by what it means in DSR (to the director, forwarded
 * by it, straight back from a real, …), plus the ARP exchanges that led to it.
 */
import { flagText, icmpText, type WireFrame } from './frames.ts';
import { hostLabel, isMulticastMac, type Roles, type Service } from './roles.ts';

export type ArrowKind =
  | 'arp-request'
  | 'arp-reply'
  | 'garp'
  | 'to-director'
  | 'forwarded'
  | 'dsr-reply'
  | 'reply-via-director'
  | 'bypass'
  | 'icmp-error'
  | 'other';

export interface Arrow {
  frame: WireFrame;
  from: string;
  /** A MAC, or 'broadcast'. */
  to: string;
  kind: ArrowKind;
  /** Short text on the arrow: flags or the ARP question/answer. */
  label: string;
  /** Addresses: "192.168.0.100:58382 → 192.168.0.10:80 ttl 64". */
  detail: string;
  /** "02:d5:00:00:00:64 → 02:d5:00:00:00:07". */
  macs: string;
  /** Explanations and warnings attached to this arrow. */
  notes: string[];
  problem: boolean;
}

export interface Flow {
  id: number;
  proto: 'tcp' | 'udp';
  clientIp: string;
  clientPort: number;
  vip: string;
  port: number;
  startMs: number;
  endMs: number;
  frames: WireFrame[];
  arrows: Arrow[];
  /** MACs of the real server(s) that got or answered this flow. */
  realMacs: string[];
  /** The real is the director itself (its frames go to its own stack, not on the wire). */
  local: boolean;
  handshake: boolean;
  /** Lanes (MACs) in display order: the hosts this flow's arrows touch. */
  lanes: string[];
  /** Frames of this flow not kept in detail (beyond FlowBounds.maxFlowFrames); absent when none. */
  omitted?: number;
}

function short(mac: string): string {
  return mac;
}

function serviceOf(services: readonly Service[], ip: string, port: number, proto: string): Service | undefined {
  return services.find((s) => s.vip === ip && s.port === port && s.proto === proto);
}

/** Groups the frames of each connection to a virtual service. Frames are ordered by time. */
export function buildFlows(frames: readonly WireFrame[], roles: Roles): Flow[] {
  const skeleton = new FlowBuilder(roles.services, roles.vips, UNBOUNDED, null);
  for (const f of frames) skeleton.add(f, roles.forwardOf.has(f.n));
  const b = new FlowBuilder(roles.services, roles.vips, UNBOUNDED, skeleton.spans());
  for (const f of frames) b.add(f, roles.forwardOf.has(f.n));
  return b.finish(roles);
}

/** How much of the flows is kept in detail: the rest is counted. */
export interface FlowBounds {
  /** Flows kept (and drawn) in detail, the first ones (default 100). */
  maxFlows?: number;
  /** Frames kept per flow (default 300; its ladder draws --max-arrows of them). */
  maxFlowFrames?: number;
  /** Connections tracked at once to tell a new one from a running one (default 100000; least recently seen forgotten). */
  maxOpenFlows?: number;
}

export const DEFAULT_MAX_FLOWS = 100;
export const DEFAULT_MAX_FLOW_FRAMES = 300;
export const DEFAULT_MAX_OPEN_FLOWS = 100000;
export const UNBOUNDED: Required<FlowBounds> = { maxFlows: Infinity, maxFlowFrames: Infinity, maxOpenFlows: Infinity };

/** What a first pass tells of the flows kept in detail: where and when they are (for their ARP). */
export interface FlowSpans {
  flows: ReadonlyArray<Pick<Flow, 'id' | 'vip' | 'port' | 'clientIp' | 'clientPort' | 'startMs' | 'endMs'>>;
  /** Start of the first flow not kept in detail, when there is one. */
  undrawnFromMs: number | null;
}

interface Track {
  id: number;
  /** A FIN or RST seen: a new SYN starts a new flow. */
  closed: boolean;
  /** The flow in detail, or null for one only counted. */
  flow: Flow | null;
  /** For a flow only counted: what its findings need. */
  light: { tcp: boolean; syns: number; anySyn: boolean; synNoAck: boolean; synAck: boolean; reals: Set<string>; bypass: boolean; tallied: boolean } | null;
}

/** Problems of the flows not kept in detail, counted (the findings add them to theirs). */
export interface UndrawnCounts {
  stuckFlows: number;
  stuckSyns: number;
  splitFlows: number;
  bypassFlows: number;
}

/**
 * Flows from a stream of frames. The first `maxFlows` flows are kept with up to `maxFlowFrames`
 * frames each; later ones are only counted. With the spans of a previous pass, ARP frames join the
 * flow they belong to (the question for the VIP before the flow, the real resolving the client
 * during it).
 */
export class FlowBuilder {
  /** The flows kept in detail, in order. */
  readonly flows: Flow[] = [];
  /** All flows seen. */
  count = 0;
  private undrawnFromMs: number | null = null;
  private readonly current = new Map<string, Track>();
  private readonly bounds: Required<FlowBounds>;
  private readonly vips: Set<string>;
  private readonly arpFor = new Map<number, WireFrame[]>();
  private readonly flowOfRequest = new Map<string, number>();
  /** Problems of the flows only counted (needs the directors: give them to the constructor). */
  readonly undrawn: UndrawnCounts = { stuckFlows: 0, stuckSyns: 0, splitFlows: 0, bypassFlows: 0 };

  constructor(private readonly services: readonly Service[], vips: readonly string[], b: FlowBounds = {}, private readonly given: FlowSpans | null = null, private readonly keepFrames = true, private readonly directors: ReadonlySet<string> = new Set()) {
    this.bounds = { maxFlows: b.maxFlows ?? DEFAULT_MAX_FLOWS, maxFlowFrames: b.maxFlowFrames ?? DEFAULT_MAX_FLOW_FRAMES, maxOpenFlows: b.maxOpenFlows ?? DEFAULT_MAX_OPEN_FLOWS };
    this.vips = new Set(vips);
  }

  private touch(key: string, t: Track): void {
    const was = this.current.get(key);
    if (was && was !== t) this.tally(was);
    this.current.delete(key);
    this.current.set(key, t);
    if (this.current.size > this.bounds.maxOpenFlows) {
      const old = this.current.keys().next().value!;
      this.tally(this.current.get(old)!);
      this.current.delete(old);
    }
  }

  /** A flow only counted is over (forgotten, replaced, or the end): count its handshake. */
  private tally(t: Track): void {
    const l = t.light;
    if (!l || l.tallied) return;
    l.tallied = true;
    // As for a flow in detail: TCP, a SYN seen, no handshake (SYN and SYN-ACK) seen.
    if (l.tcp && l.anySyn && !(l.synNoAck && l.synAck)) {
      this.undrawn.stuckFlows++;
      this.undrawn.stuckSyns += l.syns;
    }
  }

  private lightFrame(t: Track, f: WireFrame, vip: string, forwarded: boolean): void {
    const l = t.light!;
    const flags = f.l4!.flags;
    if (f.l4!.proto === 'tcp' && flags.includes('SYN')) {
      l.anySyn = true;
      if (flags.includes('ACK')) l.synAck = true;
      else l.synNoAck = true;
      if (!forwarded) l.syns++;
    }
    if (f.ip!.dst !== vip) return;
    if (forwarded) {
      l.reals.add(f.dstMac);
      if (l.reals.size === 2) this.undrawn.splitFlows++;
    } else if (!this.directors.has(f.dstMac) && this.directors.size > 0 && !l.bypass) {
      l.bypass = true;
      this.undrawn.bypassFlows++;
    }
  }

  private keep(flow: Flow, f: WireFrame): void {
    if (this.keepFrames && flow.frames.length < this.bounds.maxFlowFrames) flow.frames.push(f);
    else flow.omitted = (flow.omitted ?? 0) + 1;
  }

  /** 'kept' when the frame is kept in a flow in detail, 'counted' when it belongs to another flow, else null. */
  add(f: WireFrame, forwarded: boolean): 'kept' | 'counted' | null {
    if (f.arp) return this.addArp(f);
    // An ICMP error about a flow (a router telling the VIP, i.e. the director, that a reply of the
    // flow did not get through) joins that flow's ladder.
    const q = f.ip && f.icmp?.quoted;
    if (q) {
      const svc = serviceOf(this.services, q.src, q.srcPort, q.proto);
      const key = svc && `${svc.proto}|${q.dst}:${q.dstPort}|${svc.vip}:${svc.port}`;
      const t = key ? this.current.get(key) : undefined;
      if (!t) return null;
      this.touch(key!, t);
      if (!t.flow) return 'counted';
      this.keep(t.flow, f);
      t.flow.endMs = f.timeMs;
      return 'kept';
    }
    if (!f.ip || !f.l4) return null;
    let svc: Service | undefined;
    let client = '';
    let cport = 0;
    if ((svc = serviceOf(this.services, f.ip.dst, f.l4.dstPort, f.l4.proto))) {
      client = f.ip.src;
      cport = f.l4.srcPort;
    } else if ((svc = serviceOf(this.services, f.ip.src, f.l4.srcPort, f.l4.proto))) {
      client = f.ip.dst;
      cport = f.l4.dstPort;
    }
    if (!svc) return null;
    const key = `${svc.proto}|${client}:${cport}|${svc.vip}:${svc.port}`;
    let t = this.current.get(key);
    // A new SYN on a finished connection with the same ports starts a new flow.
    const syn = f.l4.flags.includes('SYN') && !f.l4.flags.includes('ACK') && f.ip.dst === svc.vip;
    if (t && syn && t.closed && !forwarded) t = undefined;
    if (!t) {
      const id = ++this.count;
      let flow: Flow | null = null;
      if (this.flows.length < this.bounds.maxFlows) {
        flow = {
          id, proto: svc.proto, clientIp: client, clientPort: cport, vip: svc.vip, port: svc.port,
          startMs: f.timeMs, endMs: f.timeMs, frames: [], arrows: [], realMacs: [], local: false, handshake: false, lanes: [],
        };
        this.flows.push(flow);
      } else this.undrawnFromMs ??= f.timeMs;
      t = { id, closed: false, flow, light: flow ? null : { tcp: svc.proto === 'tcp', syns: 0, anySyn: false, synNoAck: false, synAck: false, reals: new Set(), bypass: false, tallied: false } };
    }
    this.touch(key, t);
    if (f.l4.flags.includes('FIN') || f.l4.flags.includes('RST')) t.closed = true;
    if (!t.flow) {
      this.lightFrame(t, f, svc.vip, forwarded);
      return 'counted';
    }
    this.keep(t.flow, f);
    t.flow.endMs = f.timeMs;
    return 'kept';
  }

  /** The ARP frames that belong to a flow: the question for the VIP and its answers, and the real
   *  server or director resolving the client during the flow. */
  private addArp(f: WireFrame): 'kept' | null {
    const spans = this.given;
    if (!spans || spans.flows.length === 0) return null;
    const a = f.arp!;
    let target: number | undefined;
    if (a.op === 'reply' && !a.gratuitous) target = this.flowOfRequest.get(`${a.spa}|${a.tha}`);
    if (target === undefined) {
      const rel = spans.flows.filter((fl) => fl.vip === a.tpa || fl.clientIp === a.tpa || fl.vip === a.spa || fl.clientIp === a.spa);
      if (rel.length === 0) return null;
      // The flow in progress (the real resolving the client), else the next flow, else the last
      // (unless flows not kept in detail come after it).
      const t =
        rel.find((fl) => fl.startMs <= f.timeMs && f.timeMs <= fl.endMs && !this.vips.has(a.tpa)) ??
        rel.find((fl) => fl.startMs >= f.timeMs) ??
        (spans.undrawnFromMs !== null && f.timeMs >= spans.undrawnFromMs ? undefined : rel[rel.length - 1]);
      target = t?.id;
    }
    if (target === undefined) {
      // It belongs to a flow not kept in detail: so do the answers to it.
      if (a.op === 'request') this.flowOfRequest.delete(`${a.tpa}|${a.sha}`);
      return null;
    }
    if (a.op === 'request') this.flowOfRequest.set(`${a.tpa}|${a.sha}`, target);
    const list = this.arpFor.get(target) ?? this.arpFor.set(target, []).get(target)!;
    if (list.length < this.bounds.maxFlowFrames) list.push(f);
    else {
      const fl = this.flows.find((x) => x.id === target);
      if (fl) fl.omitted = (fl.omitted ?? 0) + 1;
    }
    return 'kept';
  }

  /** Start and end of the flows kept in detail, for a later pass's ARP. */
  spans(): FlowSpans {
    return { flows: this.flows.map((fl) => ({ id: fl.id, vip: fl.vip, port: fl.port, clientIp: fl.clientIp, clientPort: fl.clientPort, startMs: fl.startMs, endMs: fl.endMs })), undrawnFromMs: this.undrawnFromMs };
  }

  /** The flows kept in detail with their ladders (the roles final). */
  finish(roles: Roles): Flow[] {
    for (const t of this.current.values()) this.tally(t);
    for (const fl of this.flows) {
      const arp = this.arpFor.get(fl.id);
      if (arp) {
        fl.frames.push(...arp);
        fl.frames.sort((x, y) => x.timeMs - y.timeMs || x.n - y.n);
      }
      finishFlow(fl, roles);
    }
    return this.flows;
  }
}

function tcpLabel(f: WireFrame): string {
  const l4 = f.l4!;
  if (l4.proto === 'udp') return `UDP len ${l4.payloadLength}`;
  return `${flagText(l4.flags)}${l4.payloadLength ? ` len ${l4.payloadLength}` : ''}`;
}

function finishFlow(flow: Flow, roles: Roles): void {
  const dirs = roles.directorMacs;
  const forwardOf = roles.forwardOf;
  const byN = new Map(flow.frames.map((f) => [f.n, f]));
  const realMacs = new Set<string>();
  for (const f of flow.frames) {
    if (!f.ip || !f.l4) continue;
    if (f.ip.dst === flow.vip && forwardOf.has(f.n)) realMacs.add(f.dstMac);
    if (f.ip.src === flow.vip && !forwardOf.has(f.n) && !dirs.has(f.dstMac)) realMacs.add(f.srcMac);
    if (f.ip.dst === flow.vip && !forwardOf.has(f.n) && !dirs.has(f.dstMac) && dirs.size > 0) realMacs.add(f.dstMac);
  }
  flow.realMacs = [...realMacs];
  flow.local = flow.realMacs.length > 0 && flow.realMacs.every((m) => dirs.has(m));
  const flags = flow.frames.filter((f) => f.l4?.proto === 'tcp').map((f) => f.l4!.flags);
  flow.handshake =
    flow.proto === 'udp' ||
    (flags.some((x) => x.includes('SYN') && !x.includes('ACK')) && flags.some((x) => x.includes('SYN') && x.includes('ACK')));

  for (const f of flow.frames) flow.arrows.push(arrowFor(f, flow, roles, byN));

  const lanes = new Set<string>();
  for (const a of flow.arrows) {
    lanes.add(a.from);
    if (a.to !== 'broadcast') lanes.add(a.to);
  }
  const pos = new Map(roles.hosts.map((h, i) => [h.mac, i]));
  flow.lanes = [...lanes].filter((m) => m !== '').sort((a, b) => (pos.get(a) ?? 999) - (pos.get(b) ?? 999));
}

function arrowFor(f: WireFrame, flow: Flow, roles: Roles, byN: Map<number, WireFrame>): Arrow {
  const dirs = roles.directorMacs;
  const to = isMulticastMac(f.dstMac) ? 'broadcast' : f.dstMac;
  const a: Arrow = { frame: f, from: f.srcMac, to, kind: 'other', label: '', detail: '', macs: `${short(f.srcMac)} → ${f.dstMac === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : short(f.dstMac)}`, notes: [], problem: false };
  const name = (mac: string): string => {
    const h = roles.byMac.get(mac);
    return h ? hostLabel(h) : mac;
  };
  if (f.arp) {
    const x = f.arp;
    if (x.gratuitous) {
      a.kind = 'garp';
      a.label = `gratuitous ARP: ${x.spa} is-at ${x.sha}`;
      a.detail = `${x.op} announcing ${x.spa}`;
      a.notes.push('the director announces that it holds the VIP (takeover): neighbours update their cache');
    } else if (x.op === 'request') {
      a.kind = 'arp-request';
      a.label = `ARP who-has ${x.tpa}?`;
      a.detail = `tell ${x.spa}`;
      if (roles.vips.includes(x.tpa)) a.notes.push('which MAC has the VIP? Only the director should answer');
    } else {
      a.kind = 'arp-reply';
      a.label = `ARP ${x.spa} is-at ${x.sha}`;
      a.detail = `to ${x.tpa}`;
      if (roles.vips.includes(x.spa)) {
        if (dirs.has(x.sha)) a.notes.push('the director answers for the VIP');
        else {
          a.notes.push(`${name(x.sha)} answers for the VIP: it is not the director (ARP not suppressed there)`);
          a.problem = true;
        }
      }
    }
    return a;
  }
  if (f.icmp) return icmpArrow(a, f, flow, roles, name);
  const ip = f.ip!;
  const l4 = f.l4!;
  a.label = tcpLabel(f);
  a.detail = `${ip.src}:${l4.srcPort} → ${ip.dst}:${l4.dstPort} ttl ${ip.ttl}`;
  const inN = roles.forwardOf.get(f.n);
  const toVip = ip.dst === flow.vip;
  if (toVip) {
    if (inN !== undefined) {
      const inF = byN.get(inN);
      a.kind = 'forwarded';
      a.notes.push(`frame ${inN} re-sent to ${name(f.dstMac)}: only the MACs changed${inF ? ` and the TTL (${inF.ip!.ttl} → ${ip.ttl})` : ''}; IPs and ports untouched`);
    } else if (dirs.has(f.dstMac)) {
      a.kind = 'to-director';
      if (flow.local && l4.flags.includes('SYN')) a.notes.push('the director is also a real: it hands this flow to its own stack (not on the wire)');
    } else {
      a.kind = 'bypass';
      if (dirs.size > 0) {
        a.problem = true;
        a.notes.push(`sent straight to ${name(f.dstMac)}: the client's ARP entry for the VIP points at a real, the director never sees it`);
      }
    }
  } else {
    if (inN !== undefined || dirs.has(f.dstMac)) {
      a.kind = 'reply-via-director';
      a.problem = true;
      a.notes.push(inN !== undefined ? 'a reply re-sent by the director: not DSR' : 'the real sends its reply to the director: not DSR');
    } else if (dirs.has(f.srcMac) && !flow.local) {
      a.kind = 'reply-via-director';
      a.problem = true;
      a.notes.push('a reply leaves the director although another real serves this flow: not DSR');
    } else {
      a.kind = 'dsr-reply';
      if (l4.flags.includes('SYN')) a.notes.push(`DSR: ${name(f.srcMac)} answers the client directly, from the VIP`);
    }
  }
  if (l4.checksumOk === false) {
    if (a.kind === 'forwarded') {
      a.problem = true;
      a.notes.push(`bad ${l4.proto.toUpperCase()} checksum after forwarding: the receiver drops it`);
    } else {
      a.notes.push(`unfinished ${l4.proto.toUpperCase()} checksum (the sender's checksum offload)`);
    }
  }
  if (!ip.headerChecksumOk) {
    a.problem = true;
    a.notes.push('bad IPv4 header checksum');
  }
  if (l4.flags.includes('RST')) a.notes.push('reset');
  return a;
}

/** An ICMP error about the flow: to the director (the VIP's owner), and on to the flow's real. */
function icmpArrow(a: Arrow, f: WireFrame, flow: Flow, roles: Roles, name: (mac: string) => string): Arrow {
  const i = f.icmp!;
  const ip = f.ip!;
  a.label = icmpText(i);
  a.detail = `${ip.src} → ${ip.dst} about ${flow.vip}:${flow.port} → ${flow.clientIp}:${flow.clientPort}`;
  const inN = roles.forwardOf.get(f.n);
  if (inN !== undefined) {
    a.kind = 'forwarded';
    a.notes.push(`the director sends the error on to ${name(f.dstMac)}, the flow's real (as IPVS does): ${i.type === 3 && i.code === 4 ? 'it learns the path MTU and sends smaller segments' : 'its stack learns about the failure'}`);
  } else if (roles.directorMacs.has(f.dstMac)) {
    a.kind = 'icmp-error';
    a.notes.push(`${ip.src} reports that a reply of this flow, sent from the VIP, did not get through; the VIP's MAC is the director's, so the director must pass this on to the real`);
  } else {
    a.kind = 'icmp-error';
  }
  return a;
}
