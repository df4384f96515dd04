/**
 * What a capture shows to be wrong, each finding with the frames that prove it and what fixes it:
 *
 *   arp-multiple-macs      more than one MAC answers ARP for a VIP (the ARP problem)
 *   arp-unanswered         nobody answers ARP for a VIP
 *   ndp-multiple-macs      more than one MAC answers Neighbor Solicitations for a VIP6 (findings-neigh.ts)
 *   ndp-unanswered         nobody answers Neighbor Solicitations for a VIP6
 *   bypass-director        connections sent straight to a real server (the director never sees them)
 *   reply-via-director     replies that cross the director (not DSR)
 *   reply-not-from-vip     a real answers from its own address instead of the VIP
 *   reset-after-handshake  a reset right after the handshake (per-packet scheduling)
 *   flow-split             one connection forwarded to several real servers (per-packet scheduling)
 *   checksum-after-forward forwarded frames with a bad checksum (tx checksum offload at the sender)
 *   handshake-incomplete   SYNs without an answer
 *   frame-over-mtu         frames larger than the MTU (GRO/TSO/GSO on a capture interface)
 *   sender-offload         (note) frames that left their sender with unfinished checksums
 */
import { neighbourFindings } from './findings-neigh.ts';
import type { Flow } from './flows.ts';
import type { WireFrame } from './frames.ts';
import { hostLabel, roleText, type Roles } from './roles.ts';

export type Severity = 'problem' | 'warning' | 'note';

export interface Finding {
  code: string;
  severity: Severity;
  /** One line: what is wrong. */
  title: string;
  /** Why it matters and what the frames show. */
  detail: string;
  /** What fixes it (commands where there are some). */
  fix: string | null;
  /** Frame numbers (merged timeline) that show it. */
  frames: number[];
  /** Flow ids concerned. */
  flows: number[];
}

export interface FindingOptions {
  /** Link MTU (default 1500): larger IPv4 packets cannot have crossed the wire as one frame. */
  mtu?: number;
  /**
   * Counts over the whole capture when `frames` is only a bounded sample of it (streaming explain):
   * the titles say these, the finding's frame list holds the sample.
   */
  totals?: FindingTotals;
}

export interface FindingTotals {
  fromRip: number;
  badFwd: number;
  big: number;
  bigMax: number;
  unfinished: number;
  /** Problems of the flows not kept in detail (added to those of the flows in detail). */
  undrawn?: { stuckFlows: number; stuckSyns: number; splitFlows: number; bypassFlows: number };
}

function uniq<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

function seenWhere(f: WireFrame): string {
  return f.seenAt.map((s) => `${s.point}#${s.index}`).join(', ');
}

export function findProblems(frames: readonly WireFrame[], roles: Roles, flows: readonly Flow[], o: FindingOptions = {}): Finding[] {
  const out: Finding[] = [];
  const mtu = o.mtu ?? 1500;
  const tot = o.totals;
  const und = tot?.undrawn ?? { stuckFlows: 0, stuckSyns: 0, splitFlows: 0, bypassFlows: 0 };
  const byN = new Map(frames.map((f) => [f.n, f]));
  const name = (mac: string): string => {
    const h = roles.byMac.get(mac);
    return h ? `${hostLabel(h)} (${mac}${h.roles.length ? `, ${roleText(h)}` : ''})` : mac;
  };
  const flowsOf = (ns: Set<number>): number[] => flows.filter((fl) => fl.frames.some((f) => ns.has(f.n))).map((fl) => fl.id);

  // --- ARP (IPv4) and NDP (IPv6): who answers for the VIP -------------------------------------
  for (const vip of roles.vips) out.push(...neighbourFindings(vip, frames, roles, name, flowsOf));

  // --- per flow ---------------------------------------------------------------------------------
  const bypass = flows.filter((fl) => fl.arrows.some((a) => a.kind === 'bypass' && a.problem));
  if (bypass.length + und.bypassFlows > 0) {
    const fr = bypass.flatMap((fl) => fl.arrows.filter((a) => a.kind === 'bypass').map((a) => a.frame.n));
    const macs = uniq(bypass.flatMap((fl) => fl.arrows.filter((a) => a.kind === 'bypass').map((a) => a.to)));
    out.push({
      code: 'bypass-director',
      severity: 'problem',
      title: `${bypass.length + und.bypassFlows} connection(s) went straight to ${macs.length ? macs.map(name).join(', ') : 'a real server'}, never through the director`,
      detail: `The client sent frames for the VIP to a real server's MAC: it learned that MAC from ${bypass.some((fl) => fl.vip.includes(':')) ? 'a Neighbor Advertisement' : 'an ARP answer'} for the VIP. No scheduling, no failover for these connections.`,
      fix: bypass.some((fl) => fl.vip.includes(':'))
        ? 'move the VIP6 to lo on the real servers (see ndp-multiple-macs), then flush the clients\' neighbour entries (ip -6 neigh flush all) or wait for them to expire'
        : 'suppress ARP for the VIP on the real servers (see arp-multiple-macs), then flush the clients\' neighbour entries (ip neigh flush all) or wait for them to expire',
      frames: fr,
      flows: bypass.map((fl) => fl.id),
    });
  }
  const via = flows.filter((fl) => fl.arrows.some((a) => a.kind === 'reply-via-director'));
  if (via.length > 0) {
    const fr = via.flatMap((fl) => fl.arrows.filter((a) => a.kind === 'reply-via-director').map((a) => a.frame.n));
    out.push({
      code: 'reply-via-director',
      severity: 'problem',
      title: `replies of ${via.length} connection(s) cross the director: not direct server return`,
      detail: 'In DSR a real server answers the client itself, from the VIP, with the client\'s MAC (or its router\'s) as destination. Here replies reach the director (the real\'s route to the client goes through it) or leave the director for a flow another real serves.',
      fix: 'on the real servers, route replies to the client directly (default route to the LAN\'s router, not to the director); keep the VIP on lo so the reply\'s source is the VIP',
      frames: fr,
      flows: via.map((fl) => fl.id),
    });
  }
  const fromRip: WireFrame[] = [];
  for (const fl of flows) {
    for (const f of frames) {
      if (f.ip && f.l4 && f.ip.dst === fl.clientIp && f.l4.dstPort === fl.clientPort && f.l4.srcPort === fl.port && f.ip.src !== fl.vip && f.timeMs >= fl.startMs - 1 && f.timeMs <= fl.endMs + 5000) fromRip.push(f);
    }
  }
  if (fromRip.length > 0) {
    out.push({
      code: 'reply-not-from-vip',
      severity: 'problem',
      title: `${tot?.fromRip ?? fromRip.length} reply frame(s) come from a real server's own address (${uniq(fromRip.map((f) => f.ip!.src)).join(', ')}), not from the VIP`,
      detail: 'The client talks to the VIP and resets anything else: the real must hold the VIP (on lo) so that its reply carries the VIP as source.',
      fix: roles.vips[0]?.includes(':')
        ? `on the real server: ip -6 addr add ${roles.vips[0]}/128 dev lo (on lo, Linux does not answer Neighbor Solicitations for it)`
        : `on the real server: ip addr add ${roles.vips[0] ?? 'VIP'}/32 dev lo (and suppress ARP for it)`,
      frames: fromRip.map((f) => f.n),
      flows: flowsOf(new Set(fromRip.map((f) => f.n))),
    });
  }

  const split = flows.filter((fl) => uniq(fl.arrows.filter((a) => a.kind === 'forwarded').map((a) => a.to)).length > 1);
  if (split.length + und.splitFlows > 0) {
    out.push({
      code: 'flow-split',
      severity: 'problem',
      title: `${split.length + und.splitFlows} connection(s) forwarded to more than one real server`,
      detail: 'Packets of one connection went to different reals: the balancer schedules packets, not connections. The second real knows nothing of the connection and resets it.',
      fix: 'schedule per connection: a connection table (dsrlb, IPVS) or a hash of the connection\'s addresses and ports; never a per-packet counter (nft numgen inc)',
      frames: split.flatMap((fl) => fl.arrows.filter((a) => a.kind === 'forwarded').map((a) => a.frame.n)),
      flows: split.map((fl) => fl.id),
    });
  }
  const resets: { fl: Flow; f: WireFrame }[] = [];
  for (const fl of flows) {
    if (fl.proto !== 'tcp') continue;
    const tcp = fl.frames.filter((f) => f.l4?.proto === 'tcp' && !roles.forwardOf.has(f.n));
    const synAck = tcp.findIndex((f) => f.l4!.flags.includes('SYN') && f.l4!.flags.includes('ACK'));
    if (synAck < 0) continue;
    const rst = tcp.slice(synAck + 1, synAck + 6).find((f) => f.l4!.flags.includes('RST'));
    if (rst) resets.push({ fl, f: rst });
  }
  if (resets.length > 0) {
    out.push({
      code: 'reset-after-handshake',
      severity: 'problem',
      title: `${resets.length} connection(s) reset right after the handshake`,
      detail: 'A reset within the first packets after SYN/SYN-ACK is the mark of per-packet scheduling: the handshake\'s last ACK or the first data reached a real server that never saw the SYN.' +
        (split.length ? ' The frames show the same connection forwarded to several reals.' : ''),
      fix: 'schedule per connection (connection table or per-flow hash), as IPVS and dsrlb do',
      frames: resets.map((r) => r.f.n),
      flows: resets.map((r) => r.fl.id),
    });
  }

  // --- checksums, sizes -----------------------------------------------------------------------
  const badFwd = frames.filter((f) => roles.forwardOf.has(f.n) && f.l4?.checksumOk === false);
  if (badFwd.length > 0) {
    const senders = uniq(badFwd.map((f) => byN.get(roles.forwardOf.get(f.n)!)?.srcMac).filter((m): m is string => m !== undefined));
    out.push({
      code: 'checksum-after-forward',
      severity: 'problem',
      title: `${tot?.badFwd ?? badFwd.length} forwarded frame(s) carry a bad ${badFwd[0]!.l4!.proto.toUpperCase()} checksum: the real server drops them`,
      detail:
        'The sender left the checksum for its NIC to finish (tx checksum offload). On a veth pair nothing finishes it: the kernel keeps a note that the checksum is pending, ' +
        'but a director that captures the frame and sends its bytes again loses that note, and the real server sees a wrong checksum (TcpInCsumErrors rises, the SYN is retried and never answered).',
      fix: `on the sender (${senders.map(name).join(', ')}): ethtool -K eth0 tx off (on the testbed: ip netns exec <prefix>-client ethtool -K eth0 tx off). Physical NICs put complete checksums on the wire.`,
      frames: badFwd.map((f) => f.n),
      flows: flowsOf(new Set(badFwd.map((f) => f.n))),
    });
  }
  const stuck = flows.filter((fl) => fl.proto === 'tcp' && !fl.handshake && fl.frames.some((f) => f.l4?.flags.includes('SYN')));
  if (stuck.length + und.stuckFlows > 0) {
    const syns = stuck.flatMap((fl) => fl.frames.filter((f) => f.l4?.flags.includes('SYN') && !roles.forwardOf.has(f.n)).map((f) => f.n));
    out.push({
      code: 'handshake-incomplete',
      severity: 'problem',
      title: `${stuck.length + und.stuckFlows} connection(s) never got a SYN-ACK (${syns.length + und.stuckSyns} SYN(s) sent)`,
      detail: 'The client retried its SYN and nobody answered.' + (badFwd.length ? ' The forwarded SYNs carry bad checksums (see checksum-after-forward).' : ' Is the real server listening, does it hold the VIP on lo, did the director forward the SYN?'),
      fix: badFwd.length ? 'see checksum-after-forward' : 'check the real server (ss -ltn, ip addr show dev lo) and the director (dsrlb doctor)',
      frames: syns,
      flows: stuck.map((fl) => fl.id),
    });
  }
  const big = frames.filter((f) => f.ip && f.ip.totalLength > mtu);
  if (big.length > 0) {
    out.push({
      code: 'frame-over-mtu',
      severity: 'problem',
      title: `${tot?.big ?? big.length} frame(s) larger than the MTU (${mtu}): up to ${tot?.bigMax ?? Math.max(...big.map((f) => f.ip!.totalLength))} bytes of ${big.some((f) => f.ip!.v6) ? 'IP' : 'IPv4'}`,
      detail:
        'No such frame crossed the wire: segmentation offload (TSO/GSO) at the sender hands the capture one big packet before the NIC cuts it, ' +
        'and receive offload (GRO/LRO) glues frames together before the capture. A director that captures such a super-frame cannot send it on. Seen at: ' +
        uniq(big.flatMap((f) => f.seenAt.map((s) => s.point))).join(', ') + '.',
      fix: 'on the director\'s capture interface: ethtool -K eth0 gro off lro off tso off gso off (dsrlb run --fix-offloads does it)',
      frames: big.map((f) => f.n),
      flows: flowsOf(new Set(big.map((f) => f.n))),
    });
  }
  const unfinished = frames.filter((f) => !roles.forwardOf.has(f.n) && f.l4?.checksumOk === false);
  if (unfinished.length > 0) {
    const macs = uniq(unfinished.map((f) => f.srcMac));
    out.push({
      code: 'sender-offload',
      severity: 'note',
      title: `${tot?.unfinished ?? unfinished.length} frame(s) left their sender with an unfinished checksum: ${macs.map(name).join('; ')}`,
      detail:
        'Checksum offload: the sending kernel leaves the checksum to the NIC. Harmless when the frame goes straight to the receiving kernel (on veth it trusts the pending checksum; ' +
        'on a physical NIC the hardware fills it in after the capture point); harmful only when a director re-sends such a frame. Examples: ' +
        unfinished.slice(0, 3).map((f) => `frame ${f.n} (${seenWhere(f)})`).join(', ') + '.',
      fix: null,
      frames: unfinished.map((f) => f.n),
      flows: flowsOf(new Set(unfinished.map((f) => f.n))),
    });
  }
  // ICMP errors about a flow: a router tells the VIP (the director) that a reply did not get through.
  const toDirector = flows.flatMap((fl) => fl.arrows.filter((a) => a.kind === 'icmp-error' && roles.directorMacs.has(a.frame.dstMac)).map((a) => ({ fl, a })));
  const passedOn = new Set([...roles.forwardOf.values()]);
  const icmpStuck = toDirector.filter(({ a }) => !passedOn.has(a.frame.n));
  const icmpSent = toDirector.filter(({ a }) => passedOn.has(a.frame.n));
  if (icmpStuck.length > 0) {
    out.push({
      code: 'icmp-error-not-forwarded',
      severity: 'problem',
      title: `${icmpStuck.length} ICMP error(s) about a flow reached the director and went no further: ${uniq(icmpStuck.map(({ a }) => a.label)).join('; ')}`,
      detail:
        'A router sent the error to the VIP — the source of the reply it could not pass — and the VIP\'s MAC is the director\'s. ' +
        'Unless the director sends it on to the flow\'s real server (IPVS does, in ip_vs_in_icmp), the real never learns: with ' +
        '"fragmentation needed", it keeps sending segments too large for the path, and large replies black-hole. Frames: ' +
        icmpStuck.slice(0, 3).map(({ a }) => `${a.frame.n} (${seenWhere(a.frame)})`).join(', ') + '.',
      fix: 'let the director forward ICMP errors for its connections (dsrlb does unless started with --no-icmp-forward)',
      frames: icmpStuck.map(({ a }) => a.frame.n),
      flows: uniq(icmpStuck.map(({ fl }) => fl.id)),
    });
  }
  if (icmpSent.length > 0) {
    out.push({
      code: 'icmp-error-forwarded',
      severity: 'note',
      title: `${icmpSent.length} ICMP error(s) about a flow were passed on by the director to the flow's real: ${uniq(icmpSent.map(({ a }) => a.label)).join('; ')}`,
      detail: 'This is what makes path MTU discovery work through DSR: the real, not the director, sent the reply that was too large.',
      fix: null,
      frames: icmpSent.map(({ a }) => a.frame.n),
      flows: uniq(icmpSent.map(({ fl }) => fl.id)),
    });
  }
  return out;
}
