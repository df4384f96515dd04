/**
 * How a control request names a service or a real in the data path's table: IPv4 by address,
 * IPv6 by its address text (vip6, addr6; the fold beside it is never used to find one, since a
 * fold can equal an IPv4 address). Refusals are the kernel's: no such service, no such real.
 */
import { protoNumber, type Service, type ServiceTable } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { endpointToString, ipv6Equals, parseIPv6, type Dest } from '../model/index.ts';
import type { ServiceKeyMsg } from './protocol.ts';

/** An IPv6 address from a control request (canonical text); a clear error for anything else. */
export function addr6Of(text: string): Uint8Array {
  const a = typeof text === 'string' ? parseIPv6(text) : null;
  if (a === null) throw new DsrlbError('E_CONTROL_REQUEST', `not an IPv6 address: ${JSON.stringify(text)}`);
  return a;
}

/** The service a key names: by vip6 for an IPv6 one. */
export function serviceOf(t: ServiceTable, k: ServiceKeyMsg): Service {
  if (k.vip6 === undefined) return t.get(k.proto, k.vip, k.port);
  const s = t.find6(protoNumber(k.proto), addr6Of(k.vip6), k.port);
  if (!s) throw new DsrlbError('E_NO_SERVICE', `no such service ${k.proto.toUpperCase()} [${k.vip6}]:${k.port}`);
  return s;
}

/**
 * A real of `s`: an IPv6 one by addr6, an IPv4 one by addr. A real of the other family is never
 * found (the kernel looks a real up in the service's family too).
 */
export function destOf(t: ServiceTable, s: Service, addr: number, port: number, addr6?: string): Dest {
  let d: Dest | undefined;
  if (addr6 === undefined) {
    d = s.vip6 === null ? t.findDest(s, addr, port) : undefined;
  } else {
    const a = addr6Of(addr6);
    d = s.dests.find((x) => x.addr6 !== undefined && ipv6Equals(x.addr6, 0, a, 0) && x.port === port);
  }
  if (!d) throw new DsrlbError('E_NO_REAL', `no real ${addr6 === undefined ? endpointToString(addr, port) : `[${addr6}]:${port}`} in ${s.name}`);
  return d;
}
