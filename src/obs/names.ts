/**
 * Host and service names for ipvsadm's non-numeric output and for its address arguments, from the
 * text of /etc/hosts and /etc/services (the caller reads the files). ipvsadm asks the resolver
 * (gethostbyaddr, getservbyport); we answer from these two files only, never from DNS, so that a
 * listing never waits on the network.
 */
import type { L4Proto } from '../dataplane/index.ts';
import { ipToString, parseIPv4 } from '../model/index.ts';

export interface Names {
  /** The name of an IPv4 address (u32), or null to print it numerically. */
  host(addr: number): string | null;
  /** The service name of a port, or null to print the number. */
  service(port: number, proto: L4Proto): string | null;
}

export interface Lookup {
  /** The address of a host name, or null. */
  hostAddr(name: string): number | null;
  /** The port of a service name, or null. */
  servicePort(name: string, proto: L4Proto): number | null;
}

export const NUMERIC_NAMES: Names = { host: () => null, service: () => null };
export const NO_LOOKUP: Lookup = { hostAddr: () => null, servicePort: () => null };

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}

/** Names and lookups from /etc/hosts and /etc/services texts (first entry wins, as in libc's files backend). */
export function namesFromFiles(hostsText: string, servicesText: string): Names & Lookup {
  const byAddr = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const [addr, ...names] of lines(hostsText)) {
    const a = parseIPv4(addr!);
    if (a === null || names.length === 0) continue;
    if (!byAddr.has(a)) byAddr.set(a, names[0]!);
    for (const n of names) if (!byName.has(n)) byName.set(n, a);
  }
  const portName = new Map<string, string>();
  const namePort = new Map<string, number>();
  for (const [name, portProto, ...aliases] of lines(servicesText)) {
    const m = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2]!;
    if (!portName.has(`${port}/${proto}`)) portName.set(`${port}/${proto}`, name!);
    for (const n of [name!, ...aliases]) if (!namePort.has(`${n}/${proto}`)) namePort.set(`${n}/${proto}`, port);
  }
  return {
    host: (addr) => byAddr.get(addr >>> 0) ?? null,
    service: (port, proto) => portName.get(`${port}/${proto}`) ?? null,
    hostAddr: (name) => byName.get(name) ?? null,
    servicePort: (name, proto) => namePort.get(`${name}/${proto}`) ?? null,
  };
}

/** ipvsadm's addrport_to_anyname for IPv4: "a.b.c.d:port", or names where known and not numeric. */
export function addrPort(addr: number, port: number, proto: L4Proto, names: Names | null): string {
  if (names === null) return `${ipToString(addr)}:${port}`;
  return `${names.host(addr) ?? ipToString(addr)}:${names.service(port, proto) ?? port}`;
}
