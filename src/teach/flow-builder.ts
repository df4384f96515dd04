/**
 * Flows from a stream of frames, bounded: the first flows kept in detail (their frames, up to a
 * bound each), the later ones only counted, with what their findings need. buildFlows is the same
 * over an array of frames, every flow kept.
 */
import type { WireFrame } from './frames.ts';
import { finishFlow, serviceOf, type Flow } from './flows.ts';
import type { Roles, Service } from './roles.ts';

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
  /** Connections tracked at once to tell a new one from a running one (default 20000; least recently seen forgotten; the flows in detail never are). */
  maxOpenFlows?: number;
}

export const DEFAULT_MAX_FLOWS = 100;
export const DEFAULT_MAX_FLOW_FRAMES = 300;
export const DEFAULT_MAX_OPEN_FLOWS = 20000;
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
  light: { tcp: boolean; syns: number; anySyn: boolean; synNoAck: boolean; synAck: boolean; real: string; split: boolean; bypass: boolean; tallied: boolean } | null;
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
  /** The flows in detail by key, never forgotten (at most maxFlows): a long one stays one flow. */
  private readonly pinned = new Map<string, Track>();
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

  private find(key: string): Track | undefined {
    return this.current.get(key) ?? this.pinned.get(key);
  }

  private touch(key: string, t: Track): void {
    const was = this.find(key);
    if (was && was !== t) {
      this.tally(was);
      this.pinned.delete(key);
    }
    if (t.flow) this.pinned.set(key, t);
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
      if (l.real === '') l.real = f.dstMac;
      else if (l.real !== f.dstMac && !l.split) {
        l.split = true;
        this.undrawn.splitFlows++;
      }
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
      const t = key ? this.find(key) : undefined;
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
    let t = this.find(key);
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
      t = { id, closed: false, flow, light: flow ? null : { tcp: svc.proto === 'tcp', syns: 0, anySyn: false, synNoAck: false, synAck: false, real: '', split: false, bypass: false, tallied: false } };
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
