/**
 * The packet path of the director: process(frame, len, now) → Verdict.
 *
 * It does for one frame what the kernel's IPVS does in DR mode (ip_vs_in → ip_vs_dr_xmit):
 * find the virtual service, find or schedule the flow's real server, advance the connection state,
 * count, then rewrite the Ethernet addresses (destination = the real, source = the director) and
 * decrement the IPv4 TTL with an incremental checksum update. Nothing past the Ethernet header
 * changes except TTL and header checksum; TCP/UDP bytes are never touched.
 *
 * Around IPVS it does what the director's kernel does with frames to a VIP (icmp.ts, defrag.ts):
 * ip_rcv's header checks (checksum, options) and trimming to the IPv4 length, reassembly of
 * fragments (sent on re-fragmented), echo replies for the VIP, ICMP errors about a connection sent
 * to its real, and ICMP time exceeded when the TTL runs out — each checked against Linux 6.1.
 *
 * IPv6 frames to a VIP6 (services added with ServiceTable.addService6) take Path6.process (path6.ts): the same
 * steps with the IPv6 decoder, a second connection table (ipv6: true) and the hop limit, with
 * reassembly (defrag6.ts), ICMPv6 errors sent on and time exceeded (icmp6.ts). Neighbor
 * Solicitations and echo requests for a VIP6 are answered (ndp-answer.ts; docs/ipv6.md).
 *
 * Pure: no I/O, no clock (now is an argument, ms), no allocation per packet (fragments excepted).
 */
import { respondArp } from '../arp/index.ts';
import { ConnTable, ConnVerdict, type ConnTimeouts } from '../conn/index.ts';
import type { Dest } from '../model/index.ts';
import {
  decodeFrame, decrementTtl, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, FrameInfo, icmpChecksumOk, Ipv6Info,
} from '../packet/index.ts';
import { Defragmenter, FragResult, fragmentPacket } from './defrag.ts';
import type { Defragmenter6 } from './defrag6.ts';
import {
  buildEchoReply, buildTimeExceeded, ICMP_ECHO_REQUEST, ipHeaderChecksumOk, ipOptionsOk,
  isIcmpErrorForIpvs, quotedFlow, type QuotedFlow,
} from './icmp.ts';
import { IcmpRateLimit, type IcmpLimitOptions } from './icmp-limit.ts';
import { Path6, type Path6Owner } from './path6.ts';
import { Counters, ServiceTable, type Service } from './services.ts';
import { DROP_REASON_NAMES, DropReason, Verdict, VerdictKind } from './verdict.ts';

/** The net.ipv4.vs.* switches that change the data path. Defaults are the kernel's. */
export interface VsSysctls {
  /** Schedule a new connection on any TCP packet, not only SYN (and UDP as usual). */
  sloppyTcp: boolean;
  /** A flow whose real was removed: 1 = expire it at once (the next SYN is rescheduled), 0 = drop until it times out. */
  expireNodestConn: boolean;
  /** A persistence template whose real is quiescent (weight 0) is expired, so the client is rescheduled. */
  expireQuiescentTemplate: boolean;
  /** conn_reuse_mode: 1 (default) = a SYN on a TIME_WAIT/CLOSE entry starts a new, rescheduled connection. */
  connReuseMode: number;
}

export const DEFAULT_SYSCTLS: VsSysctls = {
  sloppyTcp: false,
  expireNodestConn: false,
  expireQuiescentTemplate: false,
  connReuseMode: 1,
};

export interface DataplaneOptions {
  /** The director's MAC on the capture interface. */
  selfMac: Uint8Array;
  /** Addresses of this host: a real with one of them is served locally (Local verdict). */
  localAddrs?: number[];
  /** Answer ARP for the VIPs (the active director does). Default true. */
  answerArp?: boolean;
  /** Standby directors neither forward nor answer ARP. Default true. */
  active?: boolean;
  sysctls?: Partial<VsSysctls>;
  connCapacity?: number;
  /**
   * Capacity of the IPv6 connection table (default connCapacity). It is allocated when the first
   * frame to a VIP6 arrives, so a director without IPv6 services never pays for it.
   */
  conn6Capacity?: number;
  timeouts?: Partial<ConnTimeouts>;
  /** The link MTU of the capture interface: reassembled datagrams go out in fragments no larger. Default 1500. */
  mtu?: number;
  /** The kernel's ICMP rate limits for the time-exceeded messages the director sends. */
  icmpLimit?: IcmpLimitOptions;
  /** Send ICMP errors about a connection on to its real, as ip_vs_in_icmp does (default true). */
  icmpForward?: boolean;
  /** IPv6 addresses of this host (16 bytes each): an IPv6 real with one of them is served locally. */
  localAddrs6?: Uint8Array[];
  /** The Router flag of the Neighbor Advertisements for the VIP6s (the interface's IPv6 forwarding). */
  ndpRouter?: boolean;
}

const ICMP = 1;
const TCP = 6;
const UDP = 17;
const NO_REAL = -1;
const TABLE_FULL = -2;

export class Dataplane implements Path6Owner {
  readonly services = new ServiceTable();
  readonly conns: ConnTable;
  readonly sysctls: VsSysctls;
  readonly selfMac: Uint8Array;
  readonly dropCounts = new Float64Array(DROP_REASON_NAMES.length);
  readonly totals = new Counters();
  active: boolean;
  answerArp: boolean;
  private readonly localAddrs = new Set<number>();
  /** Whether each Dest (by id) is this host, cached: a Dest never changes address. */
  private readonly localById: boolean[] = [];
  private readonly info = new FrameInfo();
  readonly verdict = new Verdict();
  private readonly arpSelf: { mac: Uint8Array; vips: Set<number>; active: boolean };
  readonly defrag = new Defragmenter();
  readonly icmpLimit: IcmpRateLimit;
  /** ICMP replies the director wrote (echo replies, time exceeded). */
  icmpReplies = 0;
  /** ICMP errors sent on to a connection's real server. */
  icmpForwarded = 0;
  private readonly mtu: number;
  /** @internal Read by the IPv6 edge (icmp6.ts), as are verdict, key6, quoted6, count6, send6, reply, drop. */
  readonly icmpForwardOn: boolean;
  private readonly quoted: QuotedFlow = { proto: 0, client: 0, clientPort: 0, vip: 0, vport: 0 };
  /** Whether the frame last given to process() was IPv6 (then read frameInfo6, not frameInfo). */
  lastWasIPv6 = false;
  /** The IPv6 half: its decoder state, connection table, reassembly and NDP answers (path6.ts). */
  readonly path6: Path6;

  constructor(opts: DataplaneOptions) {
    this.selfMac = opts.selfMac;
    this.sysctls = { ...DEFAULT_SYSCTLS, ...opts.sysctls };
    this.active = opts.active ?? true;
    this.answerArp = opts.answerArp ?? true;
    for (const a of opts.localAddrs ?? []) this.localAddrs.add(a | 0);
    const byId = this.services.destsById;
    this.conns = new ConnTable(
      {
        capacity: opts.connCapacity ?? 1 << 20,
        timeouts: opts.timeouts,
        sloppyTcp: this.sysctls.sloppyTcp,
        expireNodestConn: this.sysctls.expireNodestConn,
        expireQuiescentTemplate: this.sysctls.expireQuiescentTemplate,
        connReuseMode: this.sysctls.connReuseMode,
      },
      (id: number) => byId[id],
    );
    this.arpSelf = { mac: this.selfMac, vips: new Set(), active: this.active };
    this.mtu = opts.mtu ?? 1500;
    this.icmpForwardOn = opts.icmpForward ?? true;
    this.icmpLimit = new IcmpRateLimit(opts.icmpLimit);
    this.path6 = new Path6(this, {
      conns: {
        capacity: opts.conn6Capacity ?? opts.connCapacity ?? 1 << 20,
        timeouts: opts.timeouts,
        sloppyTcp: this.sysctls.sloppyTcp,
        expireNodestConn: this.sysctls.expireNodestConn,
        expireQuiescentTemplate: this.sysctls.expireQuiescentTemplate,
        connReuseMode: this.sysctls.connReuseMode,
        ipv6: true,
      },
      localAddrs6: opts.localAddrs6 ?? [],
      ndpRouter: opts.ndpRouter ?? false,
    });
  }

  /** Whether an IPv6 address (16 bytes) is this host's: its reals are served locally. */
  isLocal6(addr6: Uint8Array): boolean {
    return this.path6.isLocal6(addr6);
  }

  /** Keeps the ARP responder's VIP set in step with the services (call after adding/removing services). */
  refreshVips(): void {
    this.arpSelf.vips.clear();
    for (const s of this.services.services) this.arpSelf.vips.add(s.vip);
    this.arpSelf.active = this.active && this.answerArp;
  }

  setActive(active: boolean): void {
    this.active = active;
    this.refreshVips();
  }

  /** The decoded headers of the frame last given to process() (valid until the next call). */
  get frameInfo(): FrameInfo {
    return this.info;
  }

  /** The decoded IPv6 headers of the frame last given to process(), when lastWasIPv6. */
  get frameInfo6(): Ipv6Info {
    return this.path6.info6;
  }

  /** The IPv6 connection table (path6.ts), built on first use. */
  get conns6(): ConnTable {
    return this.path6.conns6;
  }

  /** The IPv6 connection table if an IPv6 frame or a sync import has built it, else null (nothing to list). */
  get conns6IfBuilt(): ConnTable | null {
    return this.path6.builtConns6;
  }

  /** IPv6 datagrams being reassembled (path6.ts). */
  get defrag6(): Defragmenter6 {
    return this.path6.defrag6;
  }

  isLocal(addr: number): boolean {
    return this.localAddrs.has(addr | 0);
  }

  /** Periodic housekeeping: expire up to `budget` connection entries. */
  tick(now: number, budget = 4096): number {
    if (this.defrag.held > 0) this.defrag.expire(now);
    const n = this.conns.expire(now, budget);
    return n + this.path6.tick(now, budget);
  }

  /**
   * Decides what to do with one received frame. For Forward/Local the frame is rewritten IN PLACE.
   * The returned Verdict is reused by the next call: read it before processing another frame.
   */
  process(frame: Uint8Array, len: number, now: number): Verdict {
    const v = this.verdict;
    const info = this.info;
    v.dest = null;
    v.newConn = false;
    v.parts = 0;
    v.frame = frame;
    v.len = len;
    this.lastWasIPv6 = false;
    if (!decodeFrame(frame, len, info)) return this.drop(DropReason.Malformed);
    if (info.etherType !== ETHERTYPE_IPV4) {
      if (info.etherType === ETHERTYPE_ARP) return this.arp(frame, len);
      if (info.etherType === ETHERTYPE_IPV6 && this.services.byVip6.size > 0) return this.path6.process(frame, len, now);
      return this.pass(DropReason.NotIPv4);
    }
    const ports = this.services.byVip.get(info.ipDst | 0);
    if (ports === undefined) {
      // A frame FROM a VIP arriving here is a reply that did not bypass the director.
      if (this.services.byVip.has(info.ipSrc | 0)) return this.drop(DropReason.FromVip);
      return this.pass(DropReason.NotAVip);
    }
    const refused = this.refuseNotOurs(frame);
    if (refused !== null) return refused;
    // ip_rcv: a wrong header checksum or options that do not parse never reach IPVS.
    const l3 = info.l3Off;
    const hl = info.ipHeaderLen;
    if (!ipHeaderChecksumOk(frame, l3, hl)) return this.drop(DropReason.BadIpChecksum);
    if (hl > 20 && !ipOptionsOk(frame, l3, hl)) return this.drop(DropReason.BadIpOptions);
    v.parts = 0;
    if (info.fragOffset !== 0 || info.moreFragments) return this.fragment(frame, now);
    return this.service(frame, now, 0);
  }

  /** An IPv4 packet to a VIP, whole (not a fragment), checked by ip_rcv: what IPVS does with it. */
  private service(frame: Uint8Array, now: number, fragMaxSize: number): Verdict {
    const v = this.verdict;
    const info = this.info;
    const ports = this.services.byVip.get(info.ipDst | 0)!;
    const proto = info.ipProto;
    if (proto === ICMP) return this.icmp(frame, now);
    if (proto !== TCP && proto !== UDP) return this.drop(DropReason.NotAService);
    const svc = ports.get(proto * 65536 + info.dstPort);
    if (svc === undefined) return this.drop(DropReason.NotAService);

    const conns = this.conns;
    const flags = info.tcpFlags;
    let h = conns.lookup(proto, info.ipSrc, info.srcPort, info.ipDst, info.dstPort, now);
    if (h >= 0) {
      // ip_vs_in's checks on a known flow: a removed real (expire_nodest_conn), a SYN reusing the
      // ports of a finished connection (conn_reuse_mode) — NoConn means "schedule it afresh".
      const c = conns.inputCheck(h, flags);
      if (c === ConnVerdict.Drop) return this.drop(DropReason.RealRemoved);
      if (c === ConnVerdict.NoConn) h = -1;
    }
    if (h < 0) {
      if (proto === TCP && !conns.tcpCanCreate(flags)) return this.drop(DropReason.NoConnection);
      h = this.schedule(svc, info, now);
      if (h < 0) return this.drop(h === NO_REAL ? DropReason.NoRealAvailable : DropReason.TableFull);
      v.newConn = true;
      this.countConn(svc, this.services.destsById[conns.destId(h)]!);
    }
    if (proto === TCP) conns.tcpInput(h, flags, now);
    else conns.udpInput(h, now);
    const dest = this.services.destsById[conns.destId(h)]!;
    this.countPacket(svc, dest, this.info.ipTotalLen);
    return this.send(frame, dest, now, fragMaxSize);
  }

  /** A new connection, counted for its service, its real and the totals (either family). */
  countConn(svc: Service, dest: Dest): void {
    svc.stats.conns++;
    this.services.destStats[dest.id]!.conns++;
    this.totals.conns++;
  }

  /** ip_vs_in_stats: one packet of `bytes` for its service, its real and the totals; the verdict names the real. */
  countPacket(svc: Service, dest: Dest, bytes: number): void {
    svc.stats.inPkts++;
    svc.stats.inBytes += bytes;
    const ds = this.services.destStats[dest.id]!;
    ds.inPkts++;
    ds.inBytes += bytes;
    this.totals.inPkts++;
    this.totals.inBytes += bytes;
    this.verdict.dest = dest;
  }

  /**
   * The DR transmit: rewrite the Ethernet addresses, lower the TTL (at 1 or 0: time exceeded
   * instead), trim the frame to the IPv4 length (ip_rcv drops Ethernet padding), and, for a
   * reassembled datagram, cut it into fragments again.
   */
  private send(frame: Uint8Array, dest: Dest, now: number, fragMaxSize: number): Verdict {
    const v = this.verdict;
    const info = this.info;
    const self = this.selfMac;
    v.len = info.l3End;
    const mac = this.services.macById[dest.id];
    let local = this.localById[dest.id];
    if (local === undefined) local = this.localById[dest.id] = this.localAddrs.has(dest.addr | 0);
    if (local) {
      // Served by this host: no routing hop, so no TTL decrement (IPVS delivers it locally too).
      if (mac !== undefined) frame.set(mac, 0);
      v.kind = VerdictKind.Local;
      if (fragMaxSize > 0) this.refragment(frame, fragMaxSize);
      return v;
    }
    if (mac === undefined) return this.drop(DropReason.RealUnresolved);
    if (info.ttl <= 1) return this.timeExceeded(frame, now);
    // Byte by byte: for 6 bytes this is several times cheaper than TypedArray.set.
    frame[0] = mac[0]!; frame[1] = mac[1]!; frame[2] = mac[2]!; frame[3] = mac[3]!; frame[4] = mac[4]!; frame[5] = mac[5]!;
    frame[6] = self[0]!; frame[7] = self[1]!; frame[8] = self[2]!; frame[9] = self[3]!; frame[10] = self[4]!; frame[11] = self[5]!;
    decrementTtl(frame, info.l3Off);
    v.kind = VerdictKind.Forward;
    if (fragMaxSize > 0) this.refragment(frame, fragMaxSize);
    return v;
  }

  private refragment(frame: Uint8Array, fragMaxSize: number): void {
    const v = this.verdict;
    const mtu = Math.min(this.mtu, fragMaxSize);
    v.parts = fragmentPacket(frame, this.info.l3Off, this.info.ipHeaderLen, mtu, v.partBufs, v.partLens);
  }

  /** A fragment to a VIP: held until its datagram is whole, which then goes through as one packet. */
  private fragment(frame: Uint8Array, now: number): Verdict {
    const r = this.defrag.add(frame, this.info, now);
    if (r === FragResult.Held) return this.drop(DropReason.Fragment);
    if (r === FragResult.Overlap) return this.drop(DropReason.FragmentOverlap);
    if (r === FragResult.Invalid) return this.drop(DropReason.FragmentInvalid);
    const whole = this.defrag.out;
    const info = this.info;
    if (!decodeFrame(whole, this.defrag.outLen, info)) return this.drop(DropReason.Malformed);
    this.verdict.frame = whole;
    this.verdict.len = this.defrag.outLen;
    return this.service(whole, now, this.defrag.outMaxSize);
  }

  /**
   * ICMP to a VIP: an echo request is answered (the VIP is the director's address); an error that
   * quotes a known connection goes to that connection's real (ip_vs_in_icmp); the rest is the
   * director's own stack's business, which consumes it.
   */
  private icmp(frame: Uint8Array, now: number): Verdict {
    const info = this.info;
    const v = this.verdict;
    const type = info.icmpType;
    if (type === ICMP_ECHO_REQUEST) {
      if (!icmpChecksumOk(frame, info)) return this.drop(DropReason.BadIcmpChecksum);
      const n = buildEchoReply(frame, info, this.selfMac, v.out);
      if (n === 0) return this.drop(DropReason.IcmpOther);
      return this.reply(n, DropReason.None);
    }
    if (!isIcmpErrorForIpvs(type)) return this.drop(DropReason.IcmpOther);
    if (!this.icmpForwardOn) return this.drop(DropReason.IcmpForwardOff);
    const q = quotedFlow(frame, info, this.quoted);
    if (q === null || q.vip !== info.ipDst >>> 0) return this.drop(DropReason.IcmpNoConnection);
    const svc = this.services.byVip.get(q.vip | 0)?.get(q.proto * 65536 + q.vport);
    if (svc === undefined) return this.drop(DropReason.IcmpNoConnection);
    const h = this.conns.lookup(q.proto, q.client, q.clientPort, q.vip, q.vport, now);
    if (h < 0) return this.drop(DropReason.IcmpNoConnection);
    if (!icmpChecksumOk(frame, info)) return this.drop(DropReason.BadIcmpChecksum);
    const dest = this.services.destsById[this.conns.destId(h)]!;
    this.countPacket(svc, dest, info.ipTotalLen);
    this.icmpForwarded++;
    return this.send(frame, dest, now, 0);
  }

  /** TTL 1 or 0 on the DR hop: ICMP time exceeded back to the sender (rate-limited), nothing forwarded. */
  private timeExceeded(frame: Uint8Array, now: number): Verdict {
    const info = this.info;
    if (!this.icmpLimit.allow(info.ipSrc >>> 0, now)) return this.drop(DropReason.IcmpRateLimited);
    const n = buildTimeExceeded(frame, info, this.selfMac, info.ipDst, this.verdict.out);
    if (n === 0) return this.drop(DropReason.TtlExpired);
    return this.reply(n, DropReason.TtlExpired);
  }

  reply(len: number, reason: DropReason): Verdict {
    const v = this.verdict;
    this.icmpReplies++;
    if (reason !== DropReason.None) this.dropCounts[reason]++;
    v.kind = VerdictKind.Reply;
    v.reason = reason;
    v.icmp = true;
    v.frame = v.out;
    v.len = len;
    v.parts = 0;
    return v;
  }

  /**
   * Picks the real for a new flow (through a persistence template when the service has them) and
   * creates the connection: its handle, or NO_REAL / TABLE_FULL.
   */
  private schedule(svc: Service, info: FrameInfo, now: number): number {
    const conns = this.conns;
    const proto = svc.proto;
    if (svc.persistentMs > 0) {
      const snet = (info.ipSrc & svc.netmask) >>> 0;
      let t = conns.lookupTemplate(proto, snet, info.ipDst, info.dstPort, now);
      let dest: Dest | null | undefined;
      if (t >= 0) {
        dest = this.services.destsById[conns.destId(t)];
      } else {
        dest = svc.scheduler.schedule(svc.dests, info.ipSrc | 0, info.srcPort, info.ipDst | 0, info.dstPort);
        if (dest === null) return NO_REAL;
        t = conns.createTemplate(proto, snet, info.ipDst, info.dstPort, dest.id, svc.persistentMs, now);
        if (t < 0) return TABLE_FULL;
      }
      if (dest === undefined) return NO_REAL;
      const h = conns.create(proto, info.ipSrc, info.srcPort, info.ipDst, info.dstPort, dest.id, now, t);
      return h < 0 ? TABLE_FULL : h;
    }
    const dest = svc.scheduler.schedule(svc.dests, info.ipSrc | 0, info.srcPort, info.ipDst | 0, info.dstPort);
    if (dest === null) return NO_REAL;
    const h = conns.create(proto, info.ipSrc, info.srcPort, info.ipDst, info.dstPort, dest.id, now);
    return h < 0 ? TABLE_FULL : h;
  }

  /**
   * For a frame to a VIP, either family: dropped when it was not sent to this director's MAC (ours
   * to forward only when the client's router chose us) or while this director stands by; else null.
   */
  refuseNotOurs(frame: Uint8Array): Verdict | null {
    const self = this.selfMac;
    if (frame[0] !== self[0] || frame[1] !== self[1] || frame[2] !== self[2] ||
        frame[3] !== self[3] || frame[4] !== self[4] || frame[5] !== self[5]) {
      return this.drop(DropReason.NotOurMac);
    }
    return this.active ? null : this.drop(DropReason.Inactive);
  }

  private arp(frame: Uint8Array, len: number): Verdict {
    const v = this.verdict;
    const r = respondArp(frame, len, this.info, this.arpSelf, v.out);
    if (typeof r === 'number') {
      v.kind = VerdictKind.Reply;
      v.reason = DropReason.None;
      v.icmp = false;
      v.frame = v.out;
      v.len = r;
      return v;
    }
    return this.pass(r === 'inactive' ? DropReason.Inactive : DropReason.ArpIgnored);
  }

  drop(reason: DropReason): Verdict {
    this.dropCounts[reason]++;
    const v = this.verdict;
    v.kind = VerdictKind.Drop;
    v.reason = reason;
    return v;
  }

  pass(reason: DropReason): Verdict {
    this.dropCounts[reason]++;
    const v = this.verdict;
    v.kind = VerdictKind.Pass;
    v.reason = reason;
    return v;
  }
}
