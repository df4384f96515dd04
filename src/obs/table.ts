/**
 * The shape of the virtual-service table as obs/ reads it: a structural subset of the packet path's
 * snapshot (engine/protocol.ts PacketSnapshot satisfies it), so that obs/ needs nothing from engine/.
 * Also the orderings ipvsadm lists in, and the keys rates and metrics are joined on.
 */
import type { L4Proto, ServiceSpec } from '../dataplane/index.ts';
import { compareIPv6AsLibipvs } from '../model/index.ts';

export interface TableReal {
  /** IPv4 (u32); for a real of an IPv6 service, the fold of addr6 (what the schedulers hash). */
  addr: number;
  /** A real of an IPv6 service: its address, canonical text (RFC 5952, as ipvsadm prints it). */
  addr6?: string;
  port: number;
  weight: number;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  uThreshold: number;
  lThreshold: number;
  conns: number;
  inPkts: number;
  inBytes: number;
  /** The real's MAC once resolved (null: no new flow can go to it). */
  mac?: string | null;
  local?: boolean;
}

export interface TableService {
  /** For an IPv6 service, spec.vip is the fold of vip6 and vip6 is the VIP itself. */
  spec: ServiceSpec;
  /** An IPv6 service: its VIP, canonical text. Absent for IPv4 (whose shape is unchanged). */
  vip6?: string;
  conns: number;
  inPkts: number;
  inBytes: number;
  /** Kernel order: the most recently added real first. */
  reals: TableReal[];
}

export interface TableConn {
  proto: L4Proto;
  /** IPv4; for an IPv6 connection the folds of caddr6, vaddr6 and daddr6 (what the table keys). */
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  /** An IPv6 connection: its client, virtual and real addresses, canonical text. */
  caddr6?: string;
  vaddr6?: string;
  daddr6?: string;
  state: string;
  expiresInMs: number;
  template: boolean;
}

export interface TableSnapshot {
  /** Monotonic ms of the packet path when taken. */
  at: number;
  services: TableService[];
  conns?: TableConn[];
}

/** A service's identity: protocol, VIP (u32) and port; vip6 for an IPv6 service. */
export interface ServiceId {
  proto: L4Proto;
  vip: number;
  port: number;
  vip6?: string;
}

export function serviceKey(s: ServiceId): string {
  return s.vip6 !== undefined ? `${s.proto}:[${s.vip6}]:${s.port}` : `${s.proto}:${s.vip >>> 0}:${s.port}`;
}

export function realKey(s: ServiceId, addr: number, port: number, addr6?: string): string {
  return `${serviceKey(s)}/${addr6 !== undefined ? `[${addr6}]` : addr >>> 0}:${port}`;
}

export const PROTO_NUMBER: Readonly<Record<L4Proto, number>> = { tcp: 6, udp: 17 };

/** What C's `int r = a - b` gives for two u32 values: the difference wrapped to int32. */
function cInt32Diff(a: number, b: number): number {
  return ((a >>> 0) - (b >>> 0)) | 0;
}

/** libipvs ipvs_cmp_services for IPv4 address services (fwmark and family equal). */
export function compareServices(a: ServiceSpec, b: ServiceSpec): number {
  return PROTO_NUMBER[a.proto] - PROTO_NUMBER[b.proto] || cInt32Diff(a.vip, b.vip) || a.port - b.port;
}

const AF_INET = 2;
const AF_INET6 = 10;

/** libipvs ipvs_cmp_services for address services: the family (AF_INET before AF_INET6), then as above. */
export function compareTableServices(a: Pick<TableService, 'spec' | 'vip6'>, b: Pick<TableService, 'spec' | 'vip6'>): number {
  const af = (a.vip6 !== undefined ? AF_INET6 : AF_INET) - (b.vip6 !== undefined ? AF_INET6 : AF_INET);
  if (af !== 0) return af;
  if (a.vip6 === undefined || b.vip6 === undefined) return compareServices(a.spec, b.spec);
  return PROTO_NUMBER[a.spec.proto] - PROTO_NUMBER[b.spec.proto] || compareIPv6AsLibipvs(a.vip6, b.vip6) || a.spec.port - b.spec.port;
}

/** libipvs ipvs_cmp_dests: IPv4 addresses, or IPv6 ones word by word; then the port. */
export function compareReals(a: { addr: number; port: number; addr6?: string }, b: { addr: number; port: number; addr6?: string }): number {
  if (a.addr6 !== undefined && b.addr6 !== undefined) return compareIPv6AsLibipvs(a.addr6, b.addr6) || a.port - b.port;
  return cInt32Diff(a.addr, b.addr) || a.port - b.port;
}

/**
 * Sorts as ipvsadm's qsort does with glibc 2.36 (Debian 12): a top-down merge sort that takes from
 * the left run while cmp <= 0. The comparators above wrap like C's int, so for addresses 2^31 or
 * more apart they are not transitive; this merge sort then gives the order ipvsadm prints, where
 * Array.prototype.sort would give another.
 */
export function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >>> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) tmp[k++] = cmp(a[i]!, a[j]!) <= 0 ? a[i++]! : a[j++]!;
    while (i < iEnd) tmp[k++] = a[i++]!;
    // What is left of the right run is already in place.
    for (let m = 0; m < k; m++) a[lo + m] = tmp[m]!;
  };
  sort(0, a.length);
  return a;
}
