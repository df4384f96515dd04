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

/** "192.168.0.10:80", "[2001:db8::10]:80". */
export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function short(mac: string): string {
  return mac;
}

export function serviceOf(services: readonly Service[], ip: string, port: number, proto: string): Service | undefined {
  return services.find((s) => s.vip === ip && s.port === port && s.proto === proto);
}

function tcpLabel(f: WireFrame): string {
  const l4 = f.l4!;
  if (l4.proto === 'udp') return `UDP len ${l4.payloadLength}`;
  return `${flagText(l4.flags)}${l4.payloadLength ? ` len ${l4.payloadLength}` : ''}`;
}

/** Fills a flow's real servers, handshake, arrows and lanes from its frames (the roles final). */
export function finishFlow(flow: Flow, roles: Roles): void {
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
    arpArrow(a, f, roles, name);
    return a;
  }
  if (f.icmp) return icmpArrow(a, f, flow, roles, name);
  const ip = f.ip!;
  const l4 = f.l4!;
  a.label = tcpLabel(f);
  a.detail = ip.v6 ? `[${ip.src}]:${l4.srcPort} → [${ip.dst}]:${l4.dstPort} hlim ${ip.ttl}` : `${ip.src}:${l4.srcPort} → ${ip.dst}:${l4.dstPort} ttl ${ip.ttl}`;
  const inN = roles.forwardOf.get(f.n);
  const toVip = ip.dst === flow.vip;
  if (toVip) {
    if (inN !== undefined) {
      const inF = byN.get(inN);
      a.kind = 'forwarded';
      const hop = ip.v6 ? 'the hop limit' : 'the TTL';
      a.notes.push(`frame ${inN} re-sent to ${name(f.dstMac)}: only the MACs changed${inF ? ` and ${hop} (${inF.ip!.ttl} → ${ip.ttl})` : ''}; IPs and ports untouched`);
    } else if (dirs.has(f.dstMac)) {
      a.kind = 'to-director';
      if (flow.local && l4.flags.includes('SYN')) a.notes.push('the director is also a real: it hands this flow to its own stack (not on the wire)');
    } else {
      a.kind = 'bypass';
      if (dirs.size > 0) {
        a.problem = true;
        a.notes.push(`sent straight to ${name(f.dstMac)}: the client's ${ip.v6 ? 'neighbour (NDP)' : 'ARP'} entry for the VIP points at a real, the director never sees it`);
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

/** An ARP or NDP frame: the question for an address, its answer, an announcement. */
function arpArrow(a: Arrow, f: WireFrame, roles: Roles, name: (mac: string) => string): void {
  const x = f.arp!;
  const dirs = roles.directorMacs;
  // NDP asks with a Neighbor Solicitation and answers with an Advertisement; the roles are ARP's.
  const [ask, tell] = x.ndp ? ['NS who-has', 'NA'] : ['ARP who-has', 'ARP'];
  if (x.gratuitous) {
    a.kind = 'garp';
    a.label = x.ndp ? `unsolicited NA: ${x.spa} is-at ${x.sha}` : `gratuitous ARP: ${x.spa} is-at ${x.sha}`;
    a.detail = x.ndp ? `advertisement announcing ${x.spa}` : `${x.op} announcing ${x.spa}`;
    a.notes.push('the director announces that it holds the VIP (takeover): neighbours update their cache');
  } else if (x.op === 'request') {
    a.kind = 'arp-request';
    a.label = `${ask} ${x.tpa}?`;
    a.detail = `tell ${x.spa}`;
    if (roles.vips.includes(x.tpa)) a.notes.push(`which MAC has the VIP? Only the director should answer${x.ndp ? ' (sent to the solicited-node group: every host whose address ends the same hears it)' : ''}`);
  } else {
    a.kind = 'arp-reply';
    a.label = `${tell} ${x.spa} is-at ${x.sha}`;
    a.detail = `to ${x.tpa}`;
    if (roles.vips.includes(x.spa)) {
      if (dirs.has(x.sha)) a.notes.push('the director answers for the VIP');
      else {
        a.notes.push(`${name(x.sha)} answers for the VIP: it is not the director (${x.ndp ? 'the VIP6 is on an interface that hears the solicitations, not on lo' : 'ARP not suppressed there'})`);
        a.problem = true;
      }
    }
  }
}

/** An ICMP error about the flow: to the director (the VIP's owner), and on to the flow's real. */
function icmpArrow(a: Arrow, f: WireFrame, flow: Flow, roles: Roles, name: (mac: string) => string): Arrow {
  const i = f.icmp!;
  const ip = f.ip!;
  a.label = icmpText(i);
  a.detail = `${ip.src} → ${ip.dst} about ${endpoint(flow.vip, flow.port)} → ${endpoint(flow.clientIp, flow.clientPort)}`;
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
