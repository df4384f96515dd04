/**
 * Configuration reload as a difference: from the services running now to the services of a newly
 * read file, the ipvsadm-style operations that turn one into the other. Unchanged services and reals
 * are not touched, so their flows, counters and health state stay.
 */
import { endpoint6ToString, endpointToString, foldIPv6, ipv6ToString } from '../model/index.ts';
import type { Service6WithReals, ServiceKeyMsg, ServiceWithReals, ToPacket } from './protocol.ts';

type Op = ToPacket extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

const svcKey = (s: { proto: string; vip: number; port: number }) => `${s.proto}/${s.vip}/${s.port}`;
const realKey = (r: { addr: number; port: number }) => `${r.addr}/${r.port}`;

/** `1.2.3.4:80`, or `[2001:db8::21]:80` when the IPv6 text is given. */
function ep(addr: number, port: number, addr6?: string): string {
  return addr6 !== undefined ? `[${addr6}]:${port}` : endpointToString(addr, port);
}

export function describeOp(op: Op): string {
  const svc = 'svc' in op && op.svc ? `${op.svc.proto.toUpperCase()} ${ep(op.svc.vip, op.svc.port, op.svc.vip6)}` : '';
  switch (op.op) {
    case 'addService': return `add service ${op.spec.proto.toUpperCase()} ${endpointToString(op.spec.vip, op.spec.port)} (${op.spec.scheduler})`;
    case 'addService6': return `add service ${op.spec.proto.toUpperCase()} ${endpoint6ToString(op.spec.vip6, op.spec.port)} (${op.spec.scheduler})`;
    case 'deleteService': return `delete service ${svc}`;
    case 'editService': return `edit service ${svc}: ${JSON.stringify(op.changes)}`;
    case 'addReal': return `add real ${endpointToString(op.real.addr, op.real.port)} to ${svc} (weight ${op.real.weight})`;
    case 'addReal6': return `add real ${endpoint6ToString(op.real.addr6, op.real.port)} to ${svc} (weight ${op.real.weight})`;
    case 'deleteReal': return `delete real ${ep(op.addr, op.port, op.addr6)} from ${svc}`;
    case 'editReal': return `edit real ${ep(op.addr, op.port, op.addr6)} in ${svc}: ${JSON.stringify(op.changes)}`;
    default: return op.op;
  }
}

/** The operations that turn `from` into `to`, in an order the packet path accepts. */
export function diffServices(from: readonly ServiceWithReals[], to: readonly ServiceWithReals[]): Op[] {
  const ops: Op[] = [];
  const oldBy = new Map(from.map((s) => [svcKey(s.spec), s]));
  const newBy = new Map(to.map((s) => [svcKey(s.spec), s]));
  for (const [k, s] of oldBy) {
    if (!newBy.has(k)) ops.push({ op: 'deleteService', svc: keyOf(s) });
  }
  for (const [k, n] of newBy) {
    const o = oldBy.get(k);
    if (!o) {
      ops.push({ op: 'addService', spec: { ...n.spec } });
      for (const r of n.reals) ops.push({ op: 'addReal', svc: keyOf(n), real: { ...r } });
      continue;
    }
    const changes: Record<string, unknown> = {};
    if (o.spec.scheduler !== n.spec.scheduler) changes.scheduler = n.spec.scheduler;
    if (JSON.stringify(o.spec.schedFlags ?? {}) !== JSON.stringify(n.spec.schedFlags ?? {})) changes.schedFlags = n.spec.schedFlags ?? {};
    if ((o.spec.persistent ?? 0) !== (n.spec.persistent ?? 0)) changes.persistent = n.spec.persistent ?? 0;
    if ((o.spec.netmask ?? 0xffffffff) !== (n.spec.netmask ?? 0xffffffff)) changes.netmask = n.spec.netmask ?? 0xffffffff;
    if (Object.keys(changes).length) ops.push({ op: 'editService', svc: keyOf(n), changes });
    const oldReals = new Map(o.reals.map((r) => [realKey(r), r]));
    const newReals = new Map(n.reals.map((r) => [realKey(r), r]));
    for (const [rk, r] of oldReals) if (!newReals.has(rk)) ops.push({ op: 'deleteReal', svc: keyOf(n), addr: r.addr, port: r.port });
    for (const [rk, r] of newReals) {
      const was = oldReals.get(rk);
      if (!was) ops.push({ op: 'addReal', svc: keyOf(n), real: { ...r } });
      else {
        const c: { weight?: number; uThreshold?: number; lThreshold?: number } = {};
        if (was.weight !== r.weight) c.weight = r.weight;
        if ((was.uThreshold ?? 0) !== (r.uThreshold ?? 0)) c.uThreshold = r.uThreshold ?? 0;
        if ((was.lThreshold ?? 0) !== (r.lThreshold ?? 0)) c.lThreshold = r.lThreshold ?? 0;
        if (Object.keys(c).length) ops.push({ op: 'editReal', svc: keyOf(n), addr: r.addr, port: r.port, changes: c });
      }
    }
  }
  return ops;
}

function keyOf(s: ServiceWithReals): ServiceKeyMsg {
  return { proto: s.spec.proto, vip: s.spec.vip, port: s.spec.port };
}

const svc6Key = (s: Service6WithReals) => `${s.spec.proto}/${ipv6ToString(s.spec.vip6)}/${s.spec.port}`;
const real6Key = (r: { addr6: Uint8Array; port: number }) => `${ipv6ToString(r.addr6)}/${r.port}`;

/** diffServices for the IPv6 services: the same rules, keyed by the full addresses. */
export function diffServices6(from: readonly Service6WithReals[], to: readonly Service6WithReals[]): Op[] {
  const ops: Op[] = [];
  const oldBy = new Map(from.map((s) => [svc6Key(s), s]));
  const newBy = new Map(to.map((s) => [svc6Key(s), s]));
  for (const [k, s] of oldBy) if (!newBy.has(k)) ops.push({ op: 'deleteService', svc: key6Of(s) });
  for (const [k, n] of newBy) {
    const o = oldBy.get(k);
    if (!o) {
      ops.push({ op: 'addService6', spec: { ...n.spec } });
      for (const r of n.reals) ops.push({ op: 'addReal6', svc: key6Of(n), real: { ...r } });
      continue;
    }
    const changes: Record<string, unknown> = {};
    if (o.spec.scheduler !== n.spec.scheduler) changes.scheduler = n.spec.scheduler;
    if (JSON.stringify(o.spec.schedFlags ?? {}) !== JSON.stringify(n.spec.schedFlags ?? {})) changes.schedFlags = n.spec.schedFlags ?? {};
    if (Object.keys(changes).length) ops.push({ op: 'editService', svc: key6Of(n), changes });
    const oldReals = new Map(o.reals.map((r) => [real6Key(r), r]));
    const newReals = new Map(n.reals.map((r) => [real6Key(r), r]));
    for (const [rk, r] of oldReals) {
      if (!newReals.has(rk)) ops.push({ op: 'deleteReal', svc: key6Of(n), addr: foldIPv6(r.addr6), addr6: ipv6ToString(r.addr6), port: r.port });
    }
    for (const [rk, r] of newReals) {
      const was = oldReals.get(rk);
      if (!was) {
        ops.push({ op: 'addReal6', svc: key6Of(n), real: { ...r } });
        continue;
      }
      const c: { weight?: number; uThreshold?: number; lThreshold?: number } = {};
      if (was.weight !== r.weight) c.weight = r.weight;
      if ((was.uThreshold ?? 0) !== (r.uThreshold ?? 0)) c.uThreshold = r.uThreshold ?? 0;
      if ((was.lThreshold ?? 0) !== (r.lThreshold ?? 0)) c.lThreshold = r.lThreshold ?? 0;
      if (Object.keys(c).length) ops.push({ op: 'editReal', svc: key6Of(n), addr: foldIPv6(r.addr6), addr6: ipv6ToString(r.addr6), port: r.port, changes: c });
    }
  }
  return ops;
}

function key6Of(s: Service6WithReals): ServiceKeyMsg {
  return { proto: s.spec.proto, vip: foldIPv6(s.spec.vip6), port: s.spec.port, vip6: ipv6ToString(s.spec.vip6) };
}
