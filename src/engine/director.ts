/**
 * The live director, control side: brings up what the packet path needs on the host (the ingress
 * drop that keeps the host's own stack away from the service traffic, the local delivery path when
 * this host is one of the reals), starts the packet path, and talks to it. All host effects go
 * through ports (NetControl, StartPacketPath), so this class is tested with fakes; stop() undoes
 * everything start() did, in reverse, also after a failed start.
 */
import { DsrlbError } from '../errors/index.ts';
import { foldIPv6, ipToString, ipv6ToString, parseIPv6 } from '../model/index.ts';
import type { Logger, NetControl, PacketIoOptions, PacketPathHandle, ServiceMatch, StartPacketPath } from '../ports/index.ts';
import type { FromPacket, PacketPathInit, PacketSnapshot, Service6WithReals, ServiceWithReals, ToPacket } from './protocol.ts';

export interface DirectorOptions {
  iface: string;
  services: ServiceWithReals[];
  /** IPv6 services (virtual6=): captured, answered for by NDP, forwarded like the IPv4 ones. */
  services6?: Service6WithReals[];
  sysctls?: PacketPathInit['sysctls'];
  timeouts?: PacketPathInit['timeouts'];
  connCapacity?: number;
  /** See PacketPathInit.icmpForward. */
  icmpForward?: boolean;
  /** Kernel capture ring in bytes (default 32 MiB). */
  bufferSize?: number;
  /** Deliver flows scheduled to this host's own address through a veth pair (default true). */
  localDelivery?: boolean;
  /** Gratuitous ARP for the VIPs at start (default: heartbeat IPaddr's 10 pairs, 500 ms apart). */
  garp?: { count: number; intervalMs: number } | false;
  active?: boolean;
  /** Frame I/O backend and options for the packet path (default: the StartPacketPath's own). */
  io?: PacketIoOptions;
  /** Answer ARP for the VIPs (default true; false in ECMP mode: the router routes the VIP to us). */
  answerArp?: boolean;
}

export interface DirectorDeps {
  net: NetControl;
  startPacketPath: StartPacketPath;
  log: Logger;
}

type Pending = { resolve: (s: PacketSnapshot | undefined) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
type OpWithoutId = ToPacket extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class Director {
  private path: PacketPathHandle | null = null;
  private readonly undo: Array<{ what: string; run: () => Promise<void> }> = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private iface = '';
  private active = true;
  /** The services the ingress drop currently covers. */
  private matches: ServiceMatch[] = [];
  private dropInstalled = false;
  /** VIPs the capture filter was built with (empty: the filter takes every inbound IPv4 frame). */
  private capturedVips = new Set<string>();
  /** Set when the packet path ended by itself. */
  exitReason: string | null = null;
  onExit: ((why: string) => void) | null = null;
  /** Sampled flows and ARP for a VIP from another host (the web console listens). */
  onPacketEvent: ((m: Extract<FromPacket, { ev: 'sample' | 'arpVip' }>) => void) | null = null;

  constructor(private readonly deps: DirectorDeps) {}

  static matches(services: readonly ServiceWithReals[], services6: readonly Service6WithReals[] = []): ServiceMatch[] {
    return services.map((s): ServiceMatch => ({ proto: s.spec.proto, vip: s.spec.vip, port: s.spec.port }))
      .concat(services6.map((s) => match6(s.spec.proto, s.spec.vip6, s.spec.port)));
  }

  async start(o: DirectorOptions): Promise<void> {
    const { net, log } = this.deps;
    const services = Director.matches(o.services, o.services6);
    const active = o.active ?? true;
    this.iface = o.iface;
    this.active = active;
    this.matches = services;
    this.capturedVips = new Set(services.map(vipKey));
    try {
      // Whatever a crashed run left behind goes first (both calls are idempotent).
      await net.removeIngressDrop(o.iface);
      await net.removeLocalPath();

      const localAddrs = net.localAddresses();
      const local = new Set(localAddrs);
      const localReals = [...new Set(o.services.flatMap((s) => s.reals.map((r) => r.addr)))].filter((a) => local.has(a));
      let localIface: string | undefined;
      let localPeerMac: string | undefined;
      // The local path is made even when no configured real is this host: a fallback server or an
      // ipvsadm -a at run time may name this host's own address later.
      if (o.localDelivery !== false) {
        const lp = await net.createLocalPath();
        this.undo.push({ what: 'local delivery path', run: () => net.removeLocalPath() });
        localIface = lp.iface;
        localPeerMac = lp.peerMac;
        if (localReals.length > 0) {
          log.info({ reals: localReals.map(ipToString), via: lp.iface, peerMac: lp.peerMac }, 'this host is a real server: its flows go to its own stack through a veth pair');
        }
      }
      this.undo.push({ what: 'ingress drop', run: () => net.removeIngressDrop(o.iface) });
      await this.syncIngressDrop();
      const init: PacketPathInit & { localIface?: string } = {
        services: o.services,
        sysctls: o.sysctls,
        timeouts: o.timeouts,
        connCapacity: o.connCapacity,
        icmpForward: o.icmpForward,
        localAddrs,
        localPeerMac,
        localIface,
        arpSenderIp: net.addressOn(o.iface) ?? 0,
        garp: o.garp ?? { count: 10, intervalMs: 500 },
        active,
        answerArp: o.answerArp,
      };
      if (o.services6 && o.services6.length > 0) {
        init.services6 = o.services6;
        init.localAddrs6 = net.localAddresses6?.() ?? [];
        const src = net.addressOn6?.(o.iface) ?? null;
        if (src !== null) init.ndpSenderIp6 = src;
        else log.warn({ iface: o.iface }, 'no IPv6 address on the interface: the IPv6 reals cannot be resolved by Neighbor Solicitation');
        init.ndpRouter = net.ipv6Forwarding?.(o.iface) ?? false;
      }
      const path = await this.deps.startPacketPath({ iface: o.iface, services, bufferSize: o.bufferSize ?? 32 << 20, init, ...(o.io ? { io: o.io } : {}) });
      this.path = path;
      this.undo.push({ what: 'packet path', run: () => path.stop() });
      path.onMessage((m) => this.onPacketMessage(m as FromPacket));
      path.onExit((why) => {
        if (this.stopping) return;
        this.exitReason = why;
        log.error({ why }, 'the packet path ended');
        this.onExit?.(why);
      });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Keeps the ingress drop in step with the services (none: no table). */
  private async syncIngressDrop(): Promise<void> {
    if (this.active && this.matches.length > 0) {
      await this.deps.net.installIngressDrop(this.iface, this.matches);
      this.dropInstalled = true;
    } else if (this.dropInstalled) {
      await this.deps.net.removeIngressDrop(this.iface);
      this.dropInstalled = false;
    }
  }

  /**
   * Sends an operation to the packet path and waits for its answer. Service additions and removals
   * also update the ingress drop, after the packet path has taken them.
   */
  async request(op: OpWithoutId, timeoutMs = 5000): Promise<PacketSnapshot | undefined> {
    const r = await this.send(op, timeoutMs);
    const key = (s: ServiceMatch) => `${s.proto}/${vipKey(s)}/${s.port}`;
    const added = op.op === 'addService' ? { proto: op.spec.proto, vip: op.spec.vip, port: op.spec.port }
      : op.op === 'addService6' ? match6(op.spec.proto, op.spec.vip6, op.spec.port) : null;
    if (added !== null && this.capturedVips.size > 0 && !this.capturedVips.has(vipKey(added))) {
      this.deps.log.warn({ vip: added.vip6 ?? ipToString(added.vip) },
        'this VIP is not in the capture filter (built at start from the configured VIPs): restart dsrlb with it in the configuration to serve it');
    }
    if (added !== null) this.matches = [...this.matches, added];
    else if (op.op === 'deleteService') this.matches = this.matches.filter((m) => key(m) !== key(op.svc));
    else if (op.op === 'flush') this.matches = [];
    else if (op.op === 'setActive') this.active = op.active;
    else return r;
    await this.syncIngressDrop();
    return r;
  }

  private send(op: OpWithoutId, timeoutMs: number): Promise<PacketSnapshot | undefined> {
    const path = this.path;
    if (path === null) return Promise.reject(new DsrlbError('E_NOT_RUNNING', 'the packet path is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DsrlbError('E_PACKET_PATH_TIMEOUT', `the packet path did not answer ${op.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (!path.post({ ...op, id })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new DsrlbError('E_NOT_RUNNING', 'the packet path is not running'));
      }
    });
  }

  async snapshot(conns = false): Promise<PacketSnapshot> {
    return (await this.request({ op: 'snapshot', conns }))!;
  }

  private onPacketMessage(m: FromPacket): void {
    const { log } = this.deps;
    switch (m.ev) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.snapshot);
        else p.reject(new DsrlbError(m.code, m.message));
        return;
      }
      case 'neigh': {
        const real = m.ip6 ?? ipToString(m.ip);
        if (m.kind === 'failed') log.warn({ real }, `real server does not answer ${m.ip6 ? 'Neighbor Solicitation' : 'ARP'}: no new flows for it`);
        else log.info({ real, mac: m.mac, change: m.kind }, m.kind === 'resolved' ? 'real server MAC resolved' : 'real server MAC changed');
        return;
      }
      case 'started':
        log.info({ services: m.services, reals: m.reals }, 'packet path started');
        return;
      case 'arpVip':
        log.info({ vip: m.ip6 ?? ipToString(m.ip), mac: m.mac, op: m.op, active: m.active }, m.ip6 ? 'NDP for a VIP6 from another host' : 'ARP for a VIP from another host');
        this.onPacketEvent?.(m);
        return;
      case 'sample':
        this.onPacketEvent?.(m);
        return;
    }
  }

  /** Undoes what start() did, in reverse order; every step is tried even when one fails. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new DsrlbError('E_NOT_RUNNING', 'the director is stopping'));
    }
    this.pending.clear();
    while (this.undo.length > 0) {
      const step = this.undo.pop()!;
      try {
        await step.run();
      } catch (e) {
        this.deps.log.error({ err: (e as Error).message }, `could not undo ${step.what}`);
      }
    }
    this.path = null;
  }
}

/** An IPv6 service as the capture filter and the ingress drop take it: its VIP6 as text, vip its fold. */
function match6(proto: 'tcp' | 'udp', vip6: Uint8Array | string, port: number): ServiceMatch {
  const b = typeof vip6 === 'string' ? parseIPv6(vip6) : vip6;
  if (b === null) throw new DsrlbError('E_USAGE', `not an IPv6 address: ${String(vip6)}`);
  return { proto, vip: foldIPv6(b), port, vip6: ipv6ToString(b) };
}

/** One key per VIP for both families (an IPv6 fold may equal some IPv4 address). */
function vipKey(s: ServiceMatch): string {
  return s.vip6 ?? String(s.vip);
}
