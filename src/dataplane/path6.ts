/**
 * The IPv6 half of the data path (Dataplane.process hands it every IPv6 frame while IPv6 services
 * exist): what ip6_rcv and IPVS do with a packet to a VIP6 (ip_vs_in for AF_INET6, then
 * ip_vs_dr_xmit_v6), with its own decoder state, connection table (the IPVS state machine of
 * conn/, records keyed by folds plus the full addresses), reassembly (defrag6.ts), ICMPv6 errors and
 * time exceeded (icmp6.ts), and the answers to Neighbor Solicitations and echo requests for the
 * VIP6s (ndp-answer.ts). Checked against the kernel's IPv6 vectors (test/replay/oracle-replay6.test.ts).
 *
 * The counters, the verdict and the services are the Dataplane's: one table of services, one set of
 * totals and drop counts for both families.
 */
import { ConnTable, ConnVerdict, loadKey6 } from '../conn/index.ts';
import { ipv6ToHex, type Dest } from '../model/index.ts';
import {
  decodeIPv6Frame, decrementHopLimit, ICMPV6_ECHO_REQUEST, ICMPV6_NS, IPPROTO_ICMPV6, IPV6_DROP_REASONS, Ipv6Info,
} from '../packet/index.ts';
import { scheduleIPv6 } from '../sched/index.ts';
import { Defragmenter6, stripFragmentHeader } from './defrag6.ts';
import { FragResult } from './frag-queues.ts';
import type { IcmpRateLimit } from './icmp-limit.ts';
import { icmpError6, ICMPV6_INFO_MIN, timeExceeded6, type Ipv6EdgeHost, type QuotedFlow6 } from './icmp6.ts';
import { answerEcho6, answerNs, NsResult, type NsAnswerer } from './ndp-answer.ts';
import type { Service, ServiceTable } from './services.ts';
import { DropReason, Verdict, VerdictKind } from './verdict.ts';

const TCP = 6;
const UDP = 17;

/** What the IPv6 half uses of the Dataplane it belongs to. */
export interface Path6Owner {
  readonly services: ServiceTable;
  readonly selfMac: Uint8Array;
  readonly verdict: Verdict;
  countConn(svc: Service, dest: Dest): void;
  countPacket(svc: Service, dest: Dest, bytes: number): void;
  readonly icmpLimit: IcmpRateLimit;
  readonly icmpForwardOn: boolean;
  icmpForwarded: number;
  readonly active: boolean;
  readonly answerArp: boolean;
  lastWasIPv6: boolean;
  drop(reason: DropReason): Verdict;
  pass(reason: DropReason): Verdict;
  reply(len: number, reason: DropReason): Verdict;
  refuseNotOurs(frame: Uint8Array): Verdict | null;
}

export interface Path6Options {
  conns: ConstructorParameters<typeof ConnTable>[0];
  /** This host's IPv6 addresses: its reals are served through the local path. */
  localAddrs6: Uint8Array[];
  /** The Router flag of the Neighbor Advertisements. */
  ndpRouter: boolean;
}

export class Path6 implements Ipv6EdgeHost {
  readonly info6 = new Ipv6Info();
  readonly key6 = new Int32Array(8);
  readonly quoted6: QuotedFlow6 = { proto: 0, clientOff: 0, clientPort: 0, vipOff: 0, vport: 0 };
  readonly defrag6 = new Defragmenter6();
  private conns6_: ConnTable | null = null;
  /** This host's IPv6 addresses (ipv6ToHex), and per Dest id whether it is one of them. */
  private readonly localAddrs6 = new Set<string>();
  private readonly localById6: boolean[] = [];
  private readonly nsSelf: NsAnswerer;

  constructor(private readonly dp: Path6Owner, private readonly opts: Path6Options) {
    for (const a of opts.localAddrs6) this.localAddrs6.add(ipv6ToHex(a));
    const services = dp.services;
    this.nsSelf = { mac: dp.selfMac, router: opts.ndpRouter, isVip6: (b, o) => services.vip6Ports(b, o) !== undefined };
  }

  get services(): ServiceTable { return this.dp.services; }
  get selfMac(): Uint8Array { return this.dp.selfMac; }
  get verdict(): Verdict { return this.dp.verdict; }
  get icmpLimit(): IcmpRateLimit { return this.dp.icmpLimit; }
  get icmpForwardOn(): boolean { return this.dp.icmpForwardOn; }
  get icmpForwarded(): number { return this.dp.icmpForwarded; }
  set icmpForwarded(n: number) { this.dp.icmpForwarded = n; }
  get frameInfo6(): Ipv6Info { return this.info6; }

  /** The IPv6 connection table, built when the first IPv6 frame needs it (most directors have none). */
  get conns6(): ConnTable {
    let t = this.conns6_;
    if (t === null) {
      const byId = this.dp.services.destsById;
      t = this.conns6_ = new ConnTable(this.opts.conns, (id: number) => byId[id]);
    }
    return t;
  }

  /** The IPv6 connection table if it has been built, else null. */
  get builtConns6(): ConnTable | null {
    return this.conns6_;
  }

  /** Housekeeping: reassembly timeouts, and up to `budget` IPv6 connections expired (when the table exists). */
  tick(now: number, budget: number): number {
    if (this.defrag6.held > 0) this.defrag6.expire(now);
    return this.conns6_ === null ? 0 : this.conns6_.expire(now, budget);
  }

  /** Whether an IPv6 address (16 bytes) is this host's. */
  isLocal6(addr6: Uint8Array): boolean {
    return this.localAddrs6.has(ipv6ToHex(addr6));
  }

  drop(reason: DropReason): Verdict {
    return this.dp.drop(reason);
  }

  reply(len: number, reason: DropReason): Verdict {
    return this.dp.reply(len, reason);
  }

  /**
   * An IPv6 frame while IPv6 services exist: what ip6_rcv and IPVS do with it (ip_vs_in for
   * AF_INET6, then ip_vs_dr_xmit_v6). Checked against the kernel's IPv6 vectors
   * (test/replay/oracle-replay6.test.ts).
   */
  process(frame: Uint8Array, len: number, now: number): Verdict {
    const i6 = this.info6;
    this.dp.lastWasIPv6 = true;
    const ok = decodeIPv6Frame(frame, len, i6);
    // No fixed header: nothing says whose it is (the IPv4 path drops a truncated header as Malformed).
    if (!ok && (i6.reason === 'ipv6-truncated-ethernet' || i6.reason === 'ipv6-truncated-header')) return this.drop6(i6);
    const l3 = i6.l3Off;
    // A solicitation for a VIP6 goes to its solicited-node group, not to the VIP6: look at it first.
    if (ok && i6.upperProto === IPPROTO_ICMPV6 && i6.l4Off >= 0 && frame[i6.l4Off] === ICMPV6_NS) return this.ns6(frame);
    const ports = this.services.vip6Ports(frame, l3 + 24);
    if (ports === undefined) {
      if (this.services.vip6Ports(frame, l3 + 8) !== undefined) return this.drop(DropReason.FromVip);
      return this.dp.pass(DropReason.NotAVip);
    }
    const refused = this.dp.refuseNotOurs(frame);
    if (refused !== null) return refused;
    if (!ok) return this.drop6(i6);
    if (i6.isFragment) {
      // nf_defrag_ipv6 takes every fragment before IPVS. An atomic fragment (offset 0, no more) is a
      // whole datagram: the kernel sends it on without its fragment header. Others are reassembled.
      if (i6.fragOffset !== 0 || i6.moreFragments) return this.reassembled6(frame, now);
      const end = stripFragmentHeader(frame, i6);
      if (!decodeIPv6Frame(frame, end, i6)) return this.drop6(i6);
      this.verdict.len = end;
    }
    const proto = i6.upperProto;
    if (proto === IPPROTO_ICMPV6) {
      if (i6.icmpType < ICMPV6_INFO_MIN) return icmpError6(this, frame, now);
      return frame[i6.l4Off] === ICMPV6_ECHO_REQUEST ? this.echo6(frame) : this.drop(DropReason.Ipv6IcmpNotHandled);
    }
    if ((proto !== TCP && proto !== UDP) || i6.l4Off < 0) return this.drop(DropReason.NotAService);
    const svc = ports.get(proto * 65536 + i6.dstPort);
    if (svc === undefined) return this.drop(DropReason.NotAService);
    return this.service6(frame, svc, now);
  }

  /** ip_vs_in for an IPv6 packet of service `svc`: find or schedule its connection, then send it. */
  private service6(frame: Uint8Array, svc: Service, now: number): Verdict {
    const v = this.verdict;
    const i6 = this.info6;
    const conns = this.conns6;
    const proto = svc.proto;
    const flags = i6.tcpFlags;
    const key = loadKey6(frame, i6.srcOff, i6.dstOff, this.key6);
    let h = conns.lookup6(proto, key, i6.srcPort, i6.dstPort, now);
    if (h >= 0) {
      const c = conns.inputCheck(h, flags);
      if (c === ConnVerdict.Drop) return this.drop(DropReason.RealRemoved);
      if (c === ConnVerdict.NoConn) h = -1;
    }
    if (h < 0) {
      if (proto === TCP && !conns.tcpCanCreate(flags)) return this.drop(DropReason.NoConnection);
      const dest = scheduleIPv6(svc.scheduler, svc.dests, frame, i6.srcOff, i6.srcPort, i6.dstOff, i6.dstPort);
      if (dest === null) return this.drop(DropReason.NoRealAvailable);
      h = conns.create6(proto, key, i6.srcPort, i6.dstPort, dest.id, now);
      if (h < 0) return this.drop(DropReason.TableFull);
      v.newConn = true;
      this.dp.countConn(svc, dest);
    }
    if (proto === TCP) conns.tcpInput(h, flags, now);
    else conns.udpInput(h, now);
    const dest = this.services.destsById[conns.destId(h)]!;
    this.count6(svc, dest, i6.l3End - i6.l3Off);
    return this.send6(frame, dest, now);
  }

  /** ip_vs_in_stats; `bytes` is skb->len, the IPv6 packet from its fixed header to the Payload Length's end. */
  count6(svc: Service, dest: Dest, bytes: number): void {
    this.dp.countPacket(svc, dest, bytes);
  }


  /**
   * ip_vs_dr_xmit_v6: the Ethernet addresses rewritten, the hop limit lowered by one, the
   * frame trimmed to the Payload Length; a reassembled datagram goes out in fragments again. At hop
   * limit 1 or 0: time exceeded instead. A real on this host gets the frame through the local path
   * unchanged but for its destination MAC, as an IPv4 local real does.
   */
  send6(frame: Uint8Array, dest: Dest, now: number): Verdict {
    const v = this.verdict;
    const i6 = this.info6;
    const mac = this.services.macById[dest.id];
    let local = this.localById6[dest.id];
    if (local === undefined) local = this.localById6[dest.id] = dest.addr6 !== undefined && this.localAddrs6.has(ipv6ToHex(dest.addr6));
    if (local) {
      if (mac !== undefined) frame.set(mac, 0);
      v.kind = VerdictKind.Local;
    } else {
      if (mac === undefined) return this.drop(DropReason.RealUnresolved);
      if (!decrementHopLimit(frame, i6.l3Off)) return timeExceeded6(this, frame, now);
      const self = this.selfMac;
      frame[0] = mac[0]!; frame[1] = mac[1]!; frame[2] = mac[2]!; frame[3] = mac[3]!; frame[4] = mac[4]!; frame[5] = mac[5]!;
      frame[6] = self[0]!; frame[7] = self[1]!; frame[8] = self[2]!; frame[9] = self[3]!; frame[10] = self[4]!; frame[11] = self[5]!;
      v.kind = VerdictKind.Forward;
    }
    v.len = i6.l3End;
    if (frame === this.defrag6.out) v.parts = this.defrag6.fragment(frame, i6.l3Off, i6.l3End, v.partBufs, v.partLens);
    return v;
  }

  /** A fragment to a VIP6: held until its datagram is whole (defrag6.ts), which then goes on as one packet. */
  private reassembled6(frame: Uint8Array, now: number): Verdict {
    const r = this.defrag6.add(frame, this.info6, now);
    if (r !== FragResult.Complete) return this.drop(r === FragResult.Held ? DropReason.Fragment : r === FragResult.Overlap ? DropReason.FragmentOverlap : DropReason.FragmentInvalid);
    this.verdict.frame = this.defrag6.out;
    return this.process(this.defrag6.out, (this.verdict.len = this.defrag6.outLen), now);
  }

  /**
   * A Neighbor Solicitation (ndp-answer.ts): for a VIP6, answered when this director is active and
   * answers for its VIPs (as ARP); anything else is left to the host.
   */
  private ns6(frame: Uint8Array): Verdict {
    const v = this.verdict;
    const n = answerNs(frame, this.info6, this.nsSelf, v.out);
    if (n === NsResult.NotForVip) return this.dp.pass(DropReason.NotAVip);
    if (n === NsResult.Invalid) return this.drop(DropReason.NdpInvalid);
    if (n === NsResult.NotOurMac) return this.drop(DropReason.NotOurMac);
    if (!this.dp.active) return this.drop(DropReason.Inactive);
    if (!this.dp.answerArp) return this.drop(DropReason.NdpNotAnswered);
    v.kind = VerdictKind.Reply;
    v.reason = DropReason.None;
    v.icmp = false;
    v.frame = v.out;
    v.len = n;
    return v;
  }

  /** An echo request to a VIP6 (ours, active): the reply from the VIP6, as icmpv6_echo_reply sends it. */
  private echo6(frame: Uint8Array): Verdict {
    const n = answerEcho6(frame, this.info6, this.selfMac, this.verdict.out);
    if (n === 0) return this.drop(DropReason.BadIcmpChecksum);
    return this.reply(n, DropReason.None);
  }

  /** A frame the IPv6 decoder refused: its reason, as a drop reason. */
  private drop6(i6: Ipv6Info): Verdict {
    const k = IPV6_DROP_REASONS.indexOf(i6.reason as (typeof IPV6_DROP_REASONS)[number]);
    return this.drop((DropReason.Ipv6Decode + (k < 0 ? 0 : k)) as DropReason);
  }
}
