/**
 * Configuration reload as a difference: from the services running now to the services of a newly
 * read file, the ipvsadm-style operations that turn one into the other. Unchanged services and reals
 * are not touched, so their flows, counters and health state stay.
 */
import { endpointToString, foldIPv6, ipv6ToString } from '../model/index.ts';
import type { Service6WithReals, ServiceKeyMsg, ServiceWithReals, ToPacket } from './protocol.ts';

type Op = ToPacket extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

/** `1.2.3.4:80`, or `[2001:db8::21]:80` when the IPv6 text is given. */
function ep(addr: number, port: number, addr6?: string): string {
  return addr6 !== undefined ? `[${addr6}]:${port}` : endpointToString(addr, port);
}

export function describeOp(op: Op): string {
  const svc = 'svc' in op && op.svc ? `${op.svc.proto.toUpperCase()} ${ep(op.svc.vip, op.svc.port, op.svc.vip6)}` : '';
  switch (op.op) {
    case 'addService': return `add service ${op.spec.proto.toUpperCase()} ${endpointToString(op.spec.vip, op.spec.port)} (${op.spec.scheduler})`;
    case 'addService6': return `add service ${op.spec.proto.toUpperCase()} [${op.spec.vip6}]:${op.spec.port} (${op.spec.scheduler})`;
    case 'deleteService': return `delete service ${svc}`;
    case 'editService': return `edit service ${svc}: ${JSON.stringify(op.changes)}`;
    case 'addReal': return `add real ${endpointToString(op.real.addr, op.real.port)} to ${svc} (weight ${op.real.weight})`;
    case 'addReal6': return `add real [${op.real.addr6}]:${op.real.port} to ${svc} (weight ${op.real.weight})`;
    case 'deleteReal': return `delete real ${ep(op.addr, op.port, op.addr6)} from ${svc}`;
    case 'editReal': return `edit real ${ep(op.addr, op.port, op.addr6)} in ${svc}: ${JSON.stringify(op.changes)}`;
    default: return op.op;
  }
}

type RealLimits = { weight: number; uThreshold?: number; lThreshold?: number };

/** What differs between the families: how services and reals are keyed, named and added. */
interface Family<S extends { reals: R[] }, R extends RealLimits> {
  svcKey(s: S): string;
  realKey(r: R): string;
  key(s: S): ServiceKeyMsg;
  /** The real as editReal/deleteReal name it. */
  who(r: R): { addr: number; port: number; addr6?: string };
  addService(s: S): Op;
  addReal(svc: ServiceKeyMsg, r: R): Op;
  /** The service settings that changed (scheduler, flags, persistence…). */
  specChanges(o: S, n: S): Record<string, unknown>;
}

function diffWith<S extends { reals: R[] }, R extends RealLimits>(f: Family<S, R>, from: readonly S[], to: readonly S[]): Op[] {
  const ops: Op[] = [];
  const oldBy = new Map(from.map((s) => [f.svcKey(s), s]));
  const newBy = new Map(to.map((s) => [f.svcKey(s), s]));
  for (const [k, s] of oldBy) if (!newBy.has(k)) ops.push({ op: 'deleteService', svc: f.key(s) });
  for (const [k, n] of newBy) {
    const o = oldBy.get(k);
    const svc = f.key(n);
    if (!o) {
      ops.push(f.addService(n));
      for (const r of n.reals) ops.push(f.addReal(svc, r));
      continue;
    }
    const changes = f.specChanges(o, n);
    if (Object.keys(changes).length) ops.push({ op: 'editService', svc, changes });
    const oldReals = new Map(o.reals.map((r) => [f.realKey(r), r]));
    const newReals = new Map(n.reals.map((r) => [f.realKey(r), r]));
    for (const [rk, r] of oldReals) if (!newReals.has(rk)) ops.push({ op: 'deleteReal', svc, ...f.who(r) });
    for (const [rk, r] of newReals) {
      const was = oldReals.get(rk);
      if (!was) {
        ops.push(f.addReal(svc, r));
        continue;
      }
      const c: { weight?: number; uThreshold?: number; lThreshold?: number } = {};
      if (was.weight !== r.weight) c.weight = r.weight;
      if ((was.uThreshold ?? 0) !== (r.uThreshold ?? 0)) c.uThreshold = r.uThreshold ?? 0;
      if ((was.lThreshold ?? 0) !== (r.lThreshold ?? 0)) c.lThreshold = r.lThreshold ?? 0;
      if (Object.keys(c).length) ops.push({ op: 'editReal', svc, ...f.who(r), changes: c });
    }
  }
  return ops;
}

/** Scheduler and its flags: the settings both families have. */
function schedChanges(o: { scheduler: string; schedFlags?: object }, n: { scheduler: string; schedFlags?: object }): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (o.scheduler !== n.scheduler) changes.scheduler = n.scheduler;
  if (JSON.stringify(o.schedFlags ?? {}) !== JSON.stringify(n.schedFlags ?? {})) changes.schedFlags = n.schedFlags ?? {};
  return changes;
}

const IPV4: Family<ServiceWithReals, ServiceWithReals['reals'][number]> = {
  svcKey: (s) => `${s.spec.proto}/${s.spec.vip}/${s.spec.port}`,
  realKey: (r) => `${r.addr}/${r.port}`,
  key: (s) => ({ proto: s.spec.proto, vip: s.spec.vip, port: s.spec.port }),
  who: (r) => ({ addr: r.addr, port: r.port }),
  addService: (s) => ({ op: 'addService', spec: { ...s.spec } }),
  addReal: (svc, r) => ({ op: 'addReal', svc, real: { ...r } }),
  specChanges: (o, n) => {
    const changes = schedChanges(o.spec, n.spec);
    if ((o.spec.persistent ?? 0) !== (n.spec.persistent ?? 0)) changes.persistent = n.spec.persistent ?? 0;
    if ((o.spec.netmask ?? 0xffffffff) !== (n.spec.netmask ?? 0xffffffff)) changes.netmask = n.spec.netmask ?? 0xffffffff;
    return changes;
  },
};

/** IPv6: keyed by the full addresses; the u32 fields of the operations hold the folds. */
const IPV6: Family<Service6WithReals, Service6WithReals['reals'][number]> = {
  svcKey: (s) => `${s.spec.proto}/${ipv6ToString(s.spec.vip6)}/${s.spec.port}`,
  realKey: (r) => `${ipv6ToString(r.addr6)}/${r.port}`,
  key: (s) => ({ proto: s.spec.proto, vip: foldIPv6(s.spec.vip6), port: s.spec.port, vip6: ipv6ToString(s.spec.vip6) }),
  who: (r) => ({ addr: foldIPv6(r.addr6), addr6: ipv6ToString(r.addr6), port: r.port }),
  addService: (s) => ({ op: 'addService6', spec: { ...s.spec, vip6: ipv6ToString(s.spec.vip6) } }),
  addReal: (svc, r) => ({ op: 'addReal6', svc, real: { ...r, addr6: ipv6ToString(r.addr6) } }),
  specChanges: (o, n) => schedChanges(o.spec, n.spec),
};

/** The operations that turn `from` into `to`, in an order the packet path accepts. */
export function diffServices(from: readonly ServiceWithReals[], to: readonly ServiceWithReals[]): Op[] {
  return diffWith(IPV4, from, to);
}

/** diffServices for the IPv6 services: the same rules, keyed by the full addresses. */
export function diffServices6(from: readonly Service6WithReals[], to: readonly Service6WithReals[]): Op[] {
  return diffWith(IPV6, from, to);
}
