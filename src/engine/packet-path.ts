/**
 * The director's packet side: the data plane wired to a FrameIO, plus the ARP and NDP work the
 * packet path owns — answering ARP for the VIPs and Neighbor Solicitations for the VIP6s (inside
 * Dataplane.process), resolving the real servers' MACs (ArpResolver, NdpResolver), and gratuitous
 * ARP / unsolicited NAs when it becomes active (announce.ts). It runs in the packet worker process;
 * the control side talks to it with ToPacket messages and hears FromPacket ones.
 *
 * Per frame it does only: process → send (or hand ARP/NDP to the resolvers). Everything periodic
 * (ARP requests and solicitations, connection expiry) runs from one timer on the Clock port.
 */
import { ArpResolver } from '../arp/index.ts';
import { ConnTable } from '../conn/index.ts';
import { Dataplane, DROP_REASON_NAMES, VerdictKind, type Service } from '../dataplane/index.ts';
import { isDsrlbError } from '../errors/index.ts';
import { DEST_F_UNRESOLVED, ipv6ToHex, ipv6ToString, macToString, parseIPv6, parseMac } from '../model/index.ts';
import { decodeFrame, ETHERTYPE_ARP, ETHERTYPE_IPV6, FrameInfo } from '../packet/index.ts';
import type { Clock, FrameIO, PacketHandler } from '../ports/index.ts';
import { VipAnnouncer } from './announce.ts';
import { loadServices, loadServices6 } from './from-config.ts';
import { Neighbours6 } from './neigh6.ts';
import type { FromPacket, PacketPathInit, PacketSnapshot, ServiceKeyMsg, ToPacket } from './protocol.ts';
import { exportSyncBatch, importSyncedConns } from './conn-sync.ts';
import { listConns } from './conn-list.ts';
import { addr6Of, destOf, serviceOf } from './table-keys.ts';

export class DirectorPacketPath implements PacketHandler {
  readonly dp: Dataplane;
  private readonly resolver: ArpResolver;
  /** The IPv6 reals' MACs (Neighbor Discovery), as `resolver` for the IPv4 ones. */
  private readonly neigh6: Neighbours6;
  private readonly announcer: VipAnnouncer;
  private stopTimer: (() => void) | null = null;
  private forwarded = 0;
  private local = 0;
  private replies = 0;
  private icmpReplies = 0;
  private readonly localPeerMac: Uint8Array | null;
  private readonly sweepBudget: number;
  // Teaching samples (web console): armed only while the second's budget lasts; while armed, each
  // frame's first bytes are kept (one copy into a fixed buffer) in case it opens a new flow.
  private samplePerSecond = 0;
  private sampleEveryN = 1;
  private sampleBudget = 0;
  private sampleWindowAt = -Infinity;
  private sampleArmed = false;
  private sampleNewConns = 0;
  private readonly sampleIn = Buffer.alloc(128);
  private sampleInLen = 0;
  private readonly arpVipSeen = new Map<number, number>();
  /** Sends gratuitous ARP and the ARP requests for the reals: the only worker, or worker 0 of N. */
  private readonly lead: boolean;
  /** One of N > 1 workers: ARP frames about the reals are shared with the other workers. */
  private readonly shareArp: boolean;
  private readonly relayedInfo = new FrameInfo();

  constructor(
    private readonly init: PacketPathInit,
    private readonly io: FrameIO,
    private readonly localIo: FrameIO | null,
    private readonly post: (m: FromPacket) => void,
    private readonly clock: Clock,
  ) {
    this.dp = new Dataplane({
      selfMac: io.mac,
      localAddrs: init.localAddrs,
      active: init.active,
      sysctls: init.sysctls,
      connCapacity: init.connCapacity,
      timeouts: init.timeouts,
      icmpForward: init.icmpForward,
      answerArp: init.answerArp,
      localAddrs6: (init.localAddrs6 ?? []).flatMap((a) => parseIPv6(a) ?? []),
      ndpRouter: init.ndpRouter,
    });
    this.localPeerMac = init.localPeerMac ? parseMac(init.localPeerMac) : null;
    this.lead = (init.worker?.index ?? 0) === 0;
    this.shareArp = (init.worker?.count ?? 1) > 1;
    this.resolver = new ArpResolver({ mac: io.mac, senderIp: init.arpSenderIp });
    this.announcer = new VipAnnouncer(io, clock, init.garp === false ? null : init.garp, init.ndpRouter ?? false);
    this.neigh6 = new Neighbours6(this.dp, io, post, init.ndpSenderIp6, this.localPeerMac, this.lead, this.shareArp);
    this.sweepBudget = Math.ceil((this.dp.conns.slotCount * (init.tickMs ?? 100)) / 1000);
    loadServices(this.dp, init.services);
    loadServices6(this.dp, init.services6 ?? []);
    this.syncNeighbours();
    if (init.active) this.announceNow();
    this.housekeeping();
    this.stopTimer = clock.every(init.tickMs ?? 100, () => this.housekeeping());
    let reals = 0;
    for (const s of this.dp.services.services) reals += s.dests.length;
    for (const s of this.dp.services.services6) reals += s.dests.length;
    const services = this.dp.services.services.length + this.dp.services.services6.length;
    this.post({ ev: 'started', services, reals, local: init.localAddrs.length + (init.localAddrs6?.length ?? 0) });
  }

  onFrame(frame: Buffer, len: number): void {
    const now = this.clock.now();
    if (this.sampleArmed) this.sampleInLen = frame.copy(this.sampleIn, 0, 0, Math.min(len, 128));
    const v = this.dp.process(frame, len, now);
    switch (v.kind) {
      case VerdictKind.Forward:
        if (v.parts > 0) {
          // A reassembled datagram, cut into fragments again.
          for (let p = 0; p < v.parts; p++) this.io.send(v.partBufs[p]!, v.partLens[p]!);
          this.forwarded++;
        } else if (this.io.send(v.frame!, v.len)) this.forwarded++;
        if (this.sampleArmed && v.newConn) this.takeSample(v.frame!, v.len, false);
        return;
      case VerdictKind.Local:
        if (this.localIo === null) return;
        if (v.parts > 0) {
          for (let p = 0; p < v.parts; p++) this.localIo.send(v.partBufs[p]!, v.partLens[p]!);
          this.local++;
        } else if (this.localIo.send(v.frame!, v.len)) this.local++;
        if (this.sampleArmed && v.newConn) this.takeSample(v.frame!, v.len, true);
        return;
      case VerdictKind.Reply:
        if (this.io.send(v.frame!, v.len)) {
          if (v.icmp) this.icmpReplies++; // an echo reply or time exceeded, not ARP
          else this.replies++; // an ARP reply, or an NA for a VIP6
        }
        if (this.dp.lastWasIPv6) this.neigh6.input(frame, len, now);
        else this.arpInput(frame, now);
        return;
      default:
        if (this.dp.lastWasIPv6) this.neigh6.input(frame, len, now);
        else if (this.dp.frameInfo.etherType === ETHERTYPE_ARP) this.arpInput(frame, now);
    }
  }

  /** A new flow's first frame, sampled: as it came in (kept before processing) and as it went out. */
  private takeSample(out: Uint8Array, len: number, local: boolean): void {
    if (++this.sampleNewConns % this.sampleEveryN !== 0) return;
    this.sampleBudget--;
    this.sampleArmed = this.sampleBudget > 0;
    const o = Buffer.from(out.buffer, out.byteOffset, Math.min(len, 128));
    this.post({ ev: 'sample', inHex: this.sampleIn.toString('hex', 0, this.sampleInLen), outHex: o.toString('hex'), local });
  }

  private sampleHousekeeping(now: number): void {
    if (this.samplePerSecond <= 0) return;
    if (now - this.sampleWindowAt >= 1000) {
      this.sampleWindowAt = now;
      this.sampleBudget = this.samplePerSecond;
      this.sampleArmed = true;
    }
  }

  onMessage(raw: unknown): void {
    const m = raw as ToPacket;
    try {
      const snapshot = this.apply(m);
      this.post({ ev: 'reply', id: m.id, ok: true, snapshot });
    } catch (e) {
      const code = isDsrlbError(e) ? e.code : 'E_INTERNAL';
      this.post({ ev: 'reply', id: m.id, ok: false, code, message: (e as Error).message });
    }
  }

  close(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    this.announcer.stop();
  }

  private apply(m: ToPacket): PacketSnapshot | undefined {
    const t = this.dp.services;
    switch (m.op) {
      case 'snapshot':
        return this.snapshot(m.conns === true);
      case 'setActive': {
        const was = this.dp.active;
        if (!m.active) this.announcer.stop();
        this.dp.setActive(m.active);
        if (m.active && !was) this.announceNow();
        return undefined;
      }
      case 'announce':
        if (this.dp.active) this.announceNow();
        return undefined;
      case 'sample':
        this.samplePerSecond = Math.max(0, Math.min(20, Math.floor(m.perSecond)));
        this.sampleEveryN = Math.max(1, Math.floor(m.everyN ?? 1));
        this.sampleArmed = false;
        this.sampleBudget = 0;
        this.sampleWindowAt = -Infinity;
        this.sampleHousekeeping(this.clock.now());
        return undefined;
      case 'arpInput': {
        const info = this.relayedInfo;
        decodeFrame(m.frame, m.frame.length, info);
        if (info.etherType === ETHERTYPE_IPV6) {
          this.neigh6.relayed(m.frame, m.frame.length, this.clock.now());
          return undefined;
        }
        const ev = this.resolver.input(info, m.frame, this.clock.now());
        if (ev !== null) this.neighbourEvent(ev);
        return undefined;
      }
      case 'syncImport':
        importSyncedConns(this.dp, m.conns, this.clock.now());
        return undefined;
      case 'syncExport': {
        const snap = this.snapshot(false);
        snap.sync = exportSyncBatch(this.dp, this.clock.now());
        return snap;
      }
      case 'addService':
        t.addService(m.spec);
        this.dp.refreshVips();
        return undefined;
      case 'editService':
        t.editService(this.svc(m.svc), m.changes);
        return undefined;
      case 'deleteService':
        t.deleteService(this.svc(m.svc));
        this.dp.refreshVips();
        return undefined;
      case 'addReal':
        t.addDest(this.svc(m.svc), m.real);
        this.syncNeighbours();
        return undefined;
      case 'addService6':
        t.addService6({ proto: m.spec.proto, vip6: addr6Of(m.spec.vip6), port: m.spec.port, scheduler: m.spec.scheduler, schedFlags: m.spec.schedFlags });
        return undefined;
      case 'addReal6': {
        const { addr6, ...rest } = m.real;
        t.addDest6(this.svc(m.svc), { ...rest, addr6: addr6Of(addr6) });
        this.syncNeighbours();
        return undefined;
      }
      case 'editReal': {
        const s = this.svc(m.svc);
        t.editDest(s, this.dest(s, m.addr, m.port, m.addr6), m.changes);
        return undefined;
      }
      case 'deleteReal': {
        const s = this.svc(m.svc);
        t.deleteDest(s, this.dest(s, m.addr, m.port, m.addr6));
        this.syncNeighbours();
        return undefined;
      }
      case 'flush':
        for (const s of [...t.services, ...t.services6]) t.deleteService(s);
        this.dp.refreshVips();
        this.syncNeighbours();
        return undefined;
      case 'zero': {
        // As ip_vs_zero_service / ip_vs_zero_all: the service's and its reals' counters; all: the totals too.
        const zero = (c: { conns: number; inPkts: number; inBytes: number }) => void (c.conns = c.inPkts = c.inBytes = 0);
        for (const s of m.svc ? [this.svc(m.svc)] : [...t.services, ...t.services6]) {
          zero(s.stats);
          for (const d of s.dests) zero(t.destStats[d.id]!);
        }
        if (!m.svc) zero(this.dp.totals);
        return undefined;
      }
    }
  }

  private svc(k: ServiceKeyMsg): Service {
    return serviceOf(this.dp.services, k);
  }

  private dest(s: Service, addr: number, port: number, addr6?: string) {
    return destOf(this.dp.services, s, addr, port, addr6);
  }

  /** Watch every remote real's address; local reals are reached through the local path's peer MAC. */
  private syncNeighbours(): void {
    this.neigh6.sync();
    const want = new Set(this.dp.services.realAddresses());
    for (const ip of this.resolver.watched()) if (!want.has(ip)) this.resolver.unwatch(ip);
    for (const ip of want) {
      if (this.dp.isLocal(ip)) {
        if (this.localPeerMac !== null) this.dp.services.setNeighbour(ip, this.localPeerMac);
      } else {
        this.resolver.watch(ip);
      }
    }
  }

  /** Gratuitous ARP for the VIPs and unsolicited NAs for the VIP6s (failover takeover): the first frames now, the rest at their times. */
  private announceNow(): void {
    if (!this.lead || this.init.garp === false) return;
    const vips = [...new Set(this.dp.services.services.map((s) => s.vip))];
    const vip6s = new Map<string, Uint8Array>();
    for (const s of this.dp.services.services6) vip6s.set(ipv6ToHex(s.vip6!), s.vip6!);
    this.announcer.start(vips, [...vip6s.values()]);
  }

  private arpInput(frame: Uint8Array, now: number): void {
    const info = this.dp.frameInfo;
    // The fan-out hash gives a real's ARP reply to one worker only: the others learn it through the
    // control process, so every worker's resolver follows the same frames.
    // (A copy: the frame may be a view into the capture's ring.)
    if (this.shareArp && this.resolver.state(info.arpSpa) !== null) this.post({ ev: 'arp', frame: Uint8Array.from(frame.subarray(0, info.len)) });
    const ev = this.resolver.input(info, frame, now);
    if (ev !== null) this.neighbourEvent(ev);
    // Another host speaking ARP for one of our VIPs (the peer's takeover, a real server that does
    // not hide the VIP, a conflict): tell the control side, at most once a second per VIP.
    if (info.errReason === '' && (info.arpOp === 1 || info.arpOp === 2) && this.dp.services.services.some((s) => s.vip >>> 0 === info.arpSpa >>> 0)) {
      const sha = info.arpShaOff;
      const mine = this.io.mac;
      let own = true;
      for (let i = 0; i < 6; i++) if (frame[sha + i] !== mine[i]) own = false;
      const last = this.arpVipSeen.get(info.arpSpa) ?? -Infinity;
      if (!own && now - last >= 1000) {
        this.arpVipSeen.set(info.arpSpa, now);
        this.post({ ev: 'arpVip', ip: info.arpSpa >>> 0, mac: macToString(frame, sha), op: info.arpOp === 1 ? 'request' : 'reply', active: this.dp.active });
      }
    }
  }

  private neighbourEvent(ev: { kind: 'resolved' | 'changed' | 'failed'; ip: number; mac?: Uint8Array }): void {
    this.dp.services.setNeighbour(ev.ip, ev.kind === 'failed' ? null : ev.mac!);
    this.post({ ev: 'neigh', kind: ev.kind, ip: ev.ip, mac: ev.mac ? macToString(ev.mac) : null });
  }

  private housekeeping(): void {
    const now = this.clock.now();
    this.sampleHousekeeping(now);
    // Every worker runs the resolver's timers; only the lead's requests go out (one request per
    // probe whatever N is), the others' are dropped.
    for (const f of this.resolver.tick(now)) if (this.lead) this.io.send(f);
    for (const ev of this.resolver.drainEvents()) this.neighbourEvent(ev);
    this.neigh6.tick(now);
    this.announcer.step();
    // One full sweep of the connection table per second, so ActiveConn/InActConn follow expiry
    // closely; a slot check costs a few ns, so even a 1M-entry table costs about 1 ms per tick.
    this.dp.tick(now, this.sweepBudget);
  }

  snapshot(withConns: boolean): PacketSnapshot {
    const dp = this.dp;
    const t = dp.services;
    const reasons: Record<string, number> = {};
    dp.dropCounts.forEach((n, i) => {
      if (n > 0) reasons[DROP_REASON_NAMES[i]!] = n;
    });
    const io = this.io.stats();
    const snap: PacketSnapshot = {
      at: this.clock.now(),
      active: dp.active,
      services: t.services.map((s) => ({
        spec: { ...s.spec },
        conns: s.stats.conns,
        inPkts: s.stats.inPkts,
        inBytes: s.stats.inBytes,
        reals: s.dests.map((d) => {
          const st = t.destStats[d.id]!;
          const mac = t.neighbours.get(d.addr | 0);
          return {
            addr: d.addr, port: d.port, weight: d.weight,
            activeConns: d.activeConns, inactConns: d.inactConns, persistConns: d.persistConns,
            uThreshold: d.uThreshold, lThreshold: d.lThreshold,
            conns: st.conns, inPkts: st.inPkts, inBytes: st.inBytes,
            mac: mac ? macToString(mac) : null, local: dp.isLocal(d.addr), flags: d.flags & ~(dp.isLocal(d.addr) ? DEST_F_UNRESOLVED : 0),
          };
        }),
      })).concat(t.services6.map((s) => ({
        // IPv6: spec.vip is the VIP6's fold; vip6 and addr6 carry the addresses (docs/ipv6.md).
        spec: { ...s.spec },
        vip6: ipv6ToString(s.vip6!),
        conns: s.stats.conns,
        inPkts: s.stats.inPkts,
        inBytes: s.stats.inBytes,
        reals: s.dests.map((d) => {
          const st = t.destStats[d.id]!;
          const mac = t.neighbours6.get(ipv6ToHex(d.addr6!));
          return {
            addr: d.addr, addr6: ipv6ToString(d.addr6!), port: d.port, weight: d.weight,
            activeConns: d.activeConns, inactConns: d.inactConns, persistConns: d.persistConns,
            uThreshold: d.uThreshold, lThreshold: d.lThreshold,
            conns: st.conns, inPkts: st.inPkts, inBytes: st.inBytes,
            mac: mac ? macToString(mac) : null, local: dp.isLocal6(d.addr6!), flags: d.flags,
          };
        }),
      }))),
      totals: { ...dp.totals },
      reasons,
      forwarded: this.forwarded,
      local: this.local,
      arpReplies: this.replies,
      icmpReplies: this.icmpReplies,
      icmpForwarded: dp.icmpForwarded,
      fromVip: dp.dropCounts[DROP_REASON_NAMES.indexOf('from-vip')]!,
      io: {
        received: io.received, sent: io.sent, sendErrors: io.sendErrors, truncated: io.truncated,
        backend: this.io.backend ?? 'pcap', workers: 1,
        ...(io.kernelPackets !== undefined ? { kernelPackets: io.kernelPackets } : {}),
        ...(io.kernelDrops !== undefined ? { kernelDrops: io.kernelDrops } : {}),
        ...(io.residence !== undefined ? { residence: io.residence } : {}),
      },
      // Both tables: the IPv6 one's entries and evictions count as the IPv4 one's do.
      connEntries: dp.conns.size + (dp.conns6IfBuilt?.size ?? 0),
      connEvictions: dp.conns.evictions + (dp.conns6IfBuilt?.evictions ?? 0),
      timeouts: {
        tcp: this.init.timeouts?.established ?? 900,
        tcpfin: this.init.timeouts?.finWait ?? 120,
        udp: this.init.timeouts?.udp ?? 300,
      },
    };
    if (withConns) snap.conns = listConns(dp.conns, dp.conns6IfBuilt, t, this.clock.now());
    return snap;
  }



}
