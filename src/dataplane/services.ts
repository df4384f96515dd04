/**
 * The virtual-service table: services keyed by (protocol, VIP, port), each with its real servers
 * in the kernel's list order (newest first) and its scheduler. Mutations here are control-plane
 * operations (ipvsadm -A/-E/-D/-a/-e/-d); the per-packet path only reads.
 */
import { DsrlbError } from '../errors/index.ts';
import {
  DEST_F_UNRESOLVED, endpoint6ToString, endpointToString, foldIPv6Int, ipv6Equals, ipv6ToHex, newDest, newDest6, type Dest,
} from '../model/index.ts';
import { createScheduler, type SchedFlags, type SchedName, type Scheduler } from '../sched/index.ts';

export type L4Proto = 'tcp' | 'udp';
export const protoNumber = (p: L4Proto): number => (p === 'tcp' ? 6 : 17);
export const protoName = (n: number): L4Proto => (n === 6 ? 'tcp' : 'udp');

export interface ServiceSpec {
  proto: L4Proto;
  vip: number;
  port: number;
  scheduler: SchedName;
  schedFlags?: SchedFlags;
  /** Persistence timeout in seconds (ipvsadm -p); 0 = none. */
  persistent?: number;
  /** Persistence netmask as u32 (ipvsadm -M); default 255.255.255.255. */
  netmask?: number;
  mhTableSize?: number;
}

export interface RealSpec {
  addr: number;
  port: number;
  weight: number;
  uThreshold?: number;
  lThreshold?: number;
}

/**
 * An IPv6 virtual service (ipvsadm -A -t [VIP6]:port). Persistence is not offered for IPv6 yet.
 * Its reals are IPv6 (RealSpec6).
 */
export interface ServiceSpec6 {
  proto: L4Proto;
  /** 16 bytes, network order. */
  vip6: Uint8Array;
  port: number;
  scheduler: SchedName;
  schedFlags?: SchedFlags;
  mhTableSize?: number;
}

export interface RealSpec6 {
  /** 16 bytes, network order. */
  addr6: Uint8Array;
  port: number;
  weight: number;
  uThreshold?: number;
  lThreshold?: number;
}

/** The services of one VIP6 (the ports map), found by the VIP's fold and then its 16 bytes. */
export interface Vip6Entry {
  readonly vip6: Uint8Array;
  readonly ports: Map<number, Service>;
}

/** ipvsadm --stats counters. In DR mode the director never sees replies, so Out* stay 0. */
export class Counters {
  conns = 0;
  inPkts = 0;
  inBytes = 0;
}

export class Service {
  readonly proto: number;
  scheduler: Scheduler;
  /** Kernel order: the most recently added real first. */
  readonly dests: Dest[] = [];
  persistentMs: number;
  netmask: number;
  readonly stats = new Counters();
  /** The VIP of an IPv6 service (then `vip` is its fold); null for IPv4. */
  readonly vip6: Uint8Array | null;
  constructor(readonly id: number, readonly spec: ServiceSpec, vip6: Uint8Array | null = null) {
    this.vip6 = vip6;
    this.proto = protoNumber(spec.proto);
    this.scheduler = createScheduler(spec.scheduler, spec.schedFlags ?? {}, { mhTableSize: spec.mhTableSize });
    this.persistentMs = (spec.persistent ?? 0) * 1000;
    this.netmask = spec.netmask ?? 0xffffffff;
  }
  get vip(): number { return this.spec.vip; }
  get port(): number { return this.spec.port; }
  get name(): string {
    const ep = this.vip6 !== null ? endpoint6ToString(this.vip6, this.spec.port) : endpointToString(this.spec.vip, this.spec.port);
    return `${this.spec.proto.toUpperCase()} ${ep}`;
  }
}

export const serviceKey = (proto: number, port: number): number => proto * 65536 + port;

export class ServiceTable {
  /** VIP (as int32) → (proto*65536 + port) → Service. */
  readonly byVip = new Map<number, Map<number, Service>>();
  readonly services: Service[] = [];
  /** Every Dest ever created, by id (removed ones stay, unavailable, while flows may refer to them). */
  readonly destsById: Dest[] = [];
  readonly destStats: Counters[] = [];
  /** Removed reals kept so that re-adding one revives it (its flows go on), as the kernel's dest trash does. */
  private readonly trash = new Map<string, Dest>();
  private nextServiceId = 0;

  /**
   * IPv6 services, apart from the IPv4 ones (whose maps and lists stay as they were): VIP6 fold →
   * the VIP6s with that fold (almost always one) and their ports. `services6` lists them.
   */
  readonly byVip6 = new Map<number, Vip6Entry[]>();
  readonly services6: Service[] = [];
  /** Resolved MACs of IPv6 reals, by the address's hex text (ipv6ToHex). */
  readonly neighbours6 = new Map<string, Uint8Array>();

  /** Resolved MACs by real address (int32 key). */
  readonly neighbours = new Map<number, Uint8Array>();
  /** The same MACs by Dest id, for the per-packet path (an array index instead of a hash lookup). */
  readonly macById: Array<Uint8Array | undefined> = [];

  find(proto: number, vip: number, port: number): Service | undefined {
    return this.byVip.get(vip | 0)?.get(serviceKey(proto, port));
  }

  get(proto: L4Proto, vip: number, port: number): Service {
    const s = this.find(protoNumber(proto), vip, port);
    if (!s) throw new DsrlbError('E_NO_SERVICE', `no such service ${proto.toUpperCase()} ${endpointToString(vip, port)}`);
    return s;
  }

  addService(spec: ServiceSpec): Service {
    if (this.find(protoNumber(spec.proto), spec.vip, spec.port)) {
      throw new DsrlbError('E_SERVICE_EXISTS', `service ${spec.proto.toUpperCase()} ${endpointToString(spec.vip, spec.port)} already exists`);
    }
    const svc = new Service(this.nextServiceId++, spec);
    let ports = this.byVip.get(spec.vip | 0);
    if (!ports) this.byVip.set(spec.vip | 0, (ports = new Map()));
    ports.set(serviceKey(svc.proto, spec.port), svc);
    this.services.push(svc);
    return svc;
  }

  /** ipvsadm -E: scheduler, flags, persistence. The reals and their flows stay. */
  editService(svc: Service, changes: Partial<Pick<ServiceSpec, 'scheduler' | 'schedFlags' | 'persistent' | 'netmask' | 'mhTableSize'>>): void {
    if (svc.vip6 !== null && (changes.persistent ?? 0) !== 0) throw new RangeError(`persistence is not offered for the IPv6 service ${svc.name}`);
    Object.assign(svc.spec, changes);
    if (changes.scheduler !== undefined || changes.schedFlags !== undefined || changes.mhTableSize !== undefined) {
      svc.scheduler = createScheduler(svc.spec.scheduler, svc.spec.schedFlags ?? {}, { mhTableSize: svc.spec.mhTableSize });
      // ipvsadm -E with another scheduler: the kernel binds the new one to the current list (init_service).
      svc.scheduler.init?.(svc.dests);
    }
    if (changes.persistent !== undefined) svc.persistentMs = changes.persistent * 1000;
    if (changes.netmask !== undefined) svc.netmask = changes.netmask;
  }

  /** ipvsadm -D: the service goes; its reals become unavailable (their flows are dropped). */
  deleteService(svc: Service): void {
    for (const d of svc.dests) d.available = false;
    svc.dests.length = 0;
    if (svc.vip6 !== null) {
      const fold = svc.vip | 0;
      const list = this.byVip6.get(fold) ?? [];
      const e = list.find((x) => ipv6Equals(x.vip6, 0, svc.vip6!, 0));
      e?.ports.delete(serviceKey(svc.proto, svc.port));
      if (e && e.ports.size === 0) list.splice(list.indexOf(e), 1);
      if (list.length === 0) this.byVip6.delete(fold);
      const j = this.services6.indexOf(svc);
      if (j >= 0) this.services6.splice(j, 1);
      return;
    }
    this.byVip.get(svc.vip | 0)?.delete(serviceKey(svc.proto, svc.port));
    if (this.byVip.get(svc.vip | 0)?.size === 0) this.byVip.delete(svc.vip | 0);
    const i = this.services.indexOf(svc);
    if (i >= 0) this.services.splice(i, 1);
  }

  findDest(svc: Service, addr: number, port: number): Dest | undefined {
    return svc.dests.find((d) => d.addr === addr && d.port === port);
  }

  addDest(svc: Service, real: RealSpec): Dest {
    // The kernel refuses a real of the other family (EINVAL); ipvsadm says so before asking.
    if (svc.vip6 !== null) throw new DsrlbError('E_REAL_FAMILY', `an IPv4 real cannot join the IPv6 service ${svc.name}`);
    if (this.findDest(svc, real.addr, real.port)) {
      throw new DsrlbError('E_REAL_EXISTS', `real ${endpointToString(real.addr, real.port)} already in ${svc.name}`);
    }
    return this.attachDest(svc, `${svc.id}/${real.addr}/${real.port}`, real, () => newDest(this.destsById.length, real.addr, real.port, real.weight));
  }

  /**
   * Puts a real into `svc`, newest first as the kernel lists them: the one removed earlier under
   * `key` comes back from the trash with its counters (as IPVS revives a dest), else `create()`.
   */
  private attachDest(svc: Service, key: string, real: { weight: number; uThreshold?: number; lThreshold?: number }, create: () => Dest): Dest {
    let d = this.trash.get(key);
    if (d) {
      this.trash.delete(key);
      d.available = true;
      d.weight = real.weight;
    } else {
      d = create();
      this.destsById.push(d);
      this.destStats.push(new Counters());
    }
    d.uThreshold = real.uThreshold ?? 0;
    d.lThreshold = real.lThreshold ?? 0;
    this.applyNeighbour(d);
    svc.dests.unshift(d);
    svc.scheduler.destsChanged(svc.dests, 'add', d);
    return d;
  }

  /** ipvsadm -e: weight and thresholds. */
  editDest(svc: Service, d: Dest, changes: { weight?: number; uThreshold?: number; lThreshold?: number }): void {
    if (changes.weight !== undefined) d.weight = changes.weight;
    if (changes.uThreshold !== undefined) d.uThreshold = changes.uThreshold;
    if (changes.lThreshold !== undefined) d.lThreshold = changes.lThreshold;
    svc.scheduler.destsChanged(svc.dests, 'edit', d);
  }

  /** ipvsadm -d: no new flows; existing flows follow expire_nodest_conn. */
  deleteDest(svc: Service, d: Dest): void {
    const i = svc.dests.indexOf(d);
    if (i < 0) return;
    svc.dests.splice(i, 1);
    d.available = false;
    svc.scheduler.destsChanged(svc.dests, 'del', d);
    this.trash.set(d.addr6 !== undefined ? `${svc.id}/${ipv6ToHex(d.addr6)}/${d.port}` : `${svc.id}/${d.addr}/${d.port}`, d);
  }

  /** Records (or forgets, with null) the MAC of a real address; reals without one get no new flows. */
  setNeighbour(addr: number, mac: Uint8Array | null): void {
    if (mac) this.neighbours.set(addr | 0, mac);
    else this.neighbours.delete(addr | 0);
    for (const svc of this.services) {
      for (const d of svc.dests) {
        // Flags are read at schedule time: no scheduler table depends on them, so no rebuild.
        if (d.addr === addr) this.applyNeighbour(d);
      }
    }
  }

  private applyNeighbour(d: Dest): void {
    const mac = d.addr6 !== undefined ? this.neighbours6.get(ipv6ToHex(d.addr6)) : this.neighbours.get(d.addr | 0);
    this.macById[d.id] = mac;
    if (mac !== undefined) d.flags &= ~DEST_F_UNRESOLVED;
    else d.flags |= DEST_F_UNRESOLVED;
  }

  /** The ports map of the VIP6 at `buf[off..off+16)`, or undefined. No allocation. */
  vip6Ports(buf: Uint8Array, off: number): Map<number, Service> | undefined {
    const list = this.byVip6.get(foldIPv6Int(buf, off));
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (ipv6Equals(e.vip6, 0, buf, off)) return e.ports;
    }
    return undefined;
  }

  find6(proto: number, vip6: Uint8Array, port: number): Service | undefined {
    return this.vip6Ports(vip6, 0)?.get(serviceKey(proto, port));
  }

  /** ipvsadm -A for an IPv6 VIP. */
  addService6(spec: ServiceSpec6): Service {
    if (spec.vip6.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${spec.vip6.length}`);
    const vip6 = Uint8Array.from(spec.vip6);
    if (this.find6(protoNumber(spec.proto), vip6, spec.port)) {
      throw new DsrlbError('E_SERVICE_EXISTS', `service ${spec.proto.toUpperCase()} ${endpoint6ToString(vip6, spec.port)} already exists`);
    }
    const fold = foldIPv6Int(vip6, 0);
    const svc = new Service(this.nextServiceId++, {
      proto: spec.proto, vip: fold >>> 0, port: spec.port, scheduler: spec.scheduler,
      schedFlags: spec.schedFlags, mhTableSize: spec.mhTableSize,
    }, vip6);
    let list = this.byVip6.get(fold);
    if (!list) this.byVip6.set(fold, (list = []));
    let e = list.find((x) => ipv6Equals(x.vip6, 0, vip6, 0));
    if (!e) list.push((e = { vip6, ports: new Map() }));
    e.ports.set(serviceKey(svc.proto, spec.port), svc);
    this.services6.push(svc);
    return svc;
  }

  /** ipvsadm -a for a real of an IPv6 service. */
  addDest6(svc: Service, real: RealSpec6): Dest {
    if (svc.vip6 === null) throw new DsrlbError('E_REAL_FAMILY', `an IPv6 real cannot join the IPv4 service ${svc.name}`);
    if (svc.dests.some((d) => d.addr6 !== undefined && ipv6Equals(d.addr6, 0, real.addr6, 0) && d.port === real.port)) {
      throw new DsrlbError('E_REAL_EXISTS', `real ${endpoint6ToString(real.addr6, real.port)} already in ${svc.name}`);
    }
    return this.attachDest(svc, `${svc.id}/${ipv6ToHex(real.addr6)}/${real.port}`, real, () => newDest6(this.destsById.length, real.addr6, real.port, real.weight));
  }

  /** Records (or forgets, with null) the MAC of an IPv6 real address. */
  setNeighbour6(addr6: Uint8Array, mac: Uint8Array | null): void {
    const k = ipv6ToHex(addr6);
    if (mac) this.neighbours6.set(k, mac);
    else this.neighbours6.delete(k);
    for (const svc of this.services6) {
      for (const d of svc.dests) if (ipv6Equals(d.addr6!, 0, addr6, 0)) this.applyNeighbour(d);
    }
  }

  /** Every real address of every service (for ARP resolution). */
  realAddresses(): number[] {
    const s = new Set<number>();
    for (const svc of this.services) for (const d of svc.dests) s.add(d.addr);
    return [...s].sort((a, b) => a - b);
  }
}
