/**
 * One readable line for a runtime change sent to the director's control socket (what the director
 * logs as "runtime change"), e.g. `edit real 192.168.0.9:80 of TCP 192.168.0.10:80: weight 0`.
 */
import { ipToString } from '../model/index.ts';
import { schedFlagsText } from './ipvsadm-format.ts';

type Req = Record<string, unknown>;

function svcText(s: unknown): string {
  const k = (s ?? {}) as { proto?: string; vip?: number; port?: number; vip6?: string };
  const host = k.vip6 !== undefined ? `[${k.vip6}]` : ipToString(Number(k.vip) >>> 0);
  return `${String(k.proto ?? '?').toUpperCase()} ${host}:${k.port}`;
}

function specText(x: unknown): string {
  const s = (x ?? {}) as Req;
  const parts: string[] = [];
  if (s.scheduler !== undefined) parts.push(`scheduler ${String(s.scheduler)}`);
  const flags = schedFlagsText(String(s.scheduler ?? ''), s.schedFlags as never);
  if (flags) parts.push(`flags ${flags}`);
  if (s.persistent !== undefined) parts.push(Number(s.persistent) > 0 ? `persistent ${s.persistent}` : 'not persistent');
  if (s.netmask !== undefined && Number(s.netmask) >>> 0 !== 0xffffffff) parts.push(`mask ${ipToString(Number(s.netmask) >>> 0)}`);
  return parts.join(', ');
}

function realText(x: unknown): string {
  const r = (x ?? {}) as Req;
  const parts: string[] = [];
  if (r.weight !== undefined) parts.push(`weight ${r.weight}`);
  if (r.uThreshold !== undefined) parts.push(`upper threshold ${r.uThreshold}`);
  if (r.lThreshold !== undefined) parts.push(`lower threshold ${r.lThreshold}`);
  return parts.join(', ');
}

export function describeControlChange(req: Req): string {
  const ep = (a: unknown, p: unknown, a6?: unknown) => `${a6 !== undefined ? `[${String(a6)}]` : ipToString(Number(a) >>> 0)}:${p}`;
  switch (req.op) {
    case 'addService':
    case 'addService6':
      return `add service ${svcText(req.spec)}: ${specText(req.spec)}`;
    case 'editService':
      return `edit service ${svcText(req.svc)}: ${specText(req.changes)}`;
    case 'deleteService':
      return `delete service ${svcText(req.svc)}`;
    case 'addReal':
    case 'addReal6': {
      const r = (req.real ?? {}) as Req;
      return `add real ${ep(r.addr, r.port, r.addr6)} to ${svcText(req.svc)}: ${realText(r)}`;
    }
    case 'editReal':
      return `edit real ${ep(req.addr, req.port, req.addr6)} of ${svcText(req.svc)}: ${realText(req.changes)}`;
    case 'deleteReal':
      return `delete real ${ep(req.addr, req.port, req.addr6)} from ${svcText(req.svc)}`;
    case 'flush':
      return 'flush: every service deleted';
    case 'zero':
      return req.svc ? `zero the counters of ${svcText(req.svc)}` : 'zero every counter';
    case 'setActive':
      return req.active ? 'become active' : 'become standby';
    default:
      return String(req.op);
  }
}
