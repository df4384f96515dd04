/**
 * The packet path's IPv6 neighbours (the counterpart of its ARP work in packet-path.ts): the IPv6
 * reals resolved by Neighbor Discovery (arp/ndp-resolver.ts), their MACs put in the data path's
 * table, `neigh` events with ip6 for the control side, IPv6 reals on this host reached through the
 * local path's peer MAC, and with N workers the reals' NDP frames shared as ARP frames are.
 */
import { NdpResolver, type Ndp6Event } from '../arp/index.ts';
import type { Dataplane } from '../dataplane/index.ts';
import { foldIPv6, ipv6ToHex, ipv6ToString, macToString, parseIPv6 } from '../model/index.ts';
import { ICMPV6_NA, ICMPV6_NS, IPPROTO_ICMPV6, parseNdp } from '../packet/index.ts';
import type { FrameIO } from '../ports/index.ts';
import type { FromPacket } from './protocol.ts';

export class Neighbours6 {
  private readonly ndp: NdpResolver;
  /** When each VIP6 (ipv6ToHex) was last reported as claimed by another host. */
  private readonly claimSeen = new Map<string, number>();

  constructor(
    private readonly dp: Dataplane,
    private readonly io: FrameIO,
    private readonly post: (m: FromPacket) => void,
    senderIp6: string | undefined,
    private readonly localPeerMac: Uint8Array | null,
    /** Sends the solicitations: the only worker, or worker 0 of N. */
    private readonly lead: boolean,
    /** One of N > 1 workers: the reals' NDP frames go to the others (ev 'arp'). */
    private readonly share: boolean,
  ) {
    this.ndp = new NdpResolver({ mac: io.mac, senderIp: senderIp6 !== undefined ? parseIPv6(senderIp6) ?? undefined : undefined });
  }

  /** Watches every IPv6 real's address; a real on this host gets the local path's peer MAC instead. */
  sync(): void {
    const want = new Map<string, Uint8Array>();
    for (const s of this.dp.services.services6) for (const d of s.dests) want.set(ipv6ToHex(d.addr6!), d.addr6!);
    for (const a of this.ndp.watched()) if (!want.has(ipv6ToHex(a))) this.ndp.unwatch(a);
    for (const a of want.values()) {
      if (this.dp.isLocal6(a)) {
        if (this.localPeerMac !== null) this.dp.services.setNeighbour6(a, this.localPeerMac);
      } else {
        this.ndp.watch(a);
      }
    }
  }

  /** An IPv6 frame the data path did not forward (decoded in dp.frameInfo6): NDP about a watched real is learnt. */
  input(frame: Uint8Array, len: number, now: number): void {
    const i6 = this.dp.frameInfo6;
    if (i6.upperProto !== IPPROTO_ICMPV6 || i6.l4Off < 0) return;
    const type = frame[i6.l4Off];
    if (type !== ICMPV6_NA && type !== ICMPV6_NS) return;
    const m = parseNdp(frame, len);
    if (m !== null) {
      // The fan-out hash gives a real's NA to one worker only. (A copy: the frame may be a view into the ring.)
      if (this.share && this.ndp.state(m.type === ICMPV6_NA ? m.target : m.srcIp) !== null) {
        this.post({ ev: 'arp', frame: Uint8Array.from(frame.subarray(0, len)) });
      }
      this.otherClaim(m, now);
    }
    this.relayed(frame, len, now);
  }

  /**
   * Another host speaking NDP for one of our VIP6s (the peer's takeover, a real that does not hide
   * the VIP6, a conflict): an advertisement for it, or a solicitation from it. Told to the control
   * side as the IPv4 form is (ev 'arpVip'), at most once a second per VIP6.
   */
  private otherClaim(m: NonNullable<ReturnType<typeof parseNdp>>, now: number): void {
    const vip6 = m.type === ICMPV6_NA ? m.target : m.srcIp;
    if (this.dp.services.vip6Ports(vip6, 0) === undefined) return;
    const mine = this.io.mac;
    if (m.srcMac.every((b, i) => b === mine[i])) return;
    const key = ipv6ToHex(vip6);
    if (now - (this.claimSeen.get(key) ?? -Infinity) < 1000) return;
    this.claimSeen.set(key, now);
    this.post({
      ev: 'arpVip', ip: foldIPv6(vip6), ip6: ipv6ToString(vip6), mac: macToString(m.lladdr ?? m.srcMac),
      op: m.type === ICMPV6_NA ? 'reply' : 'request', active: this.dp.active,
    });
  }

  /** An NDP frame another worker received (op 'arpInput'), or one of ours. */
  relayed(frame: Uint8Array, len: number, now: number): void {
    const ev = this.ndp.input(frame, len, now);
    if (ev !== null) this.event(ev);
  }

  /** The resolver's timers: solicitations (sent by the lead only) and failures. */
  tick(now: number): void {
    for (const f of this.ndp.tick(now)) if (this.lead) this.io.send(f);
    for (const ev of this.ndp.drainEvents()) this.event(ev);
  }

  private event(ev: Ndp6Event): void {
    this.dp.services.setNeighbour6(ev.ip6, ev.kind === 'failed' ? null : ev.mac);
    this.post({ ev: 'neigh', kind: ev.kind, ip: foldIPv6(ev.ip6), ip6: ipv6ToString(ev.ip6), mac: ev.mac ? macToString(ev.mac) : null });
  }
}
