/**
 * A real server ("destination" in IPVS terms) as the schedulers and the connection table see it.
 * One Dest belongs to one virtual service. Mutable on purpose: the data path updates the counters
 * in place, with no allocation per packet.
 */
import { foldIPv6 } from './addr6.ts';

/** Over its upper connection threshold (IP_VS_DEST_F_OVERLOAD). */
export const DEST_F_OVERLOAD = 1;
/** Its MAC address is not resolved yet: it cannot receive frames, so no new flow goes to it. */
export const DEST_F_UNRESOLVED = 2;

export interface Dest {
  /** Unique in one data plane; an index into per-real arrays (counters, MACs). */
  readonly id: number;
  /**
   * IPv4, host order. For a real of an IPv6 service (addr6 set): the kernel's 32-bit fold of addr6
   * (foldIPv6), which is what IPVS hashes in its place (mh's permutation), never an IPv4 address.
   */
  readonly addr: number;
  /** The real's IPv6 address (16 bytes, network order) when its service is IPv6; absent for IPv4. */
  readonly addr6?: Uint8Array;
  readonly port: number;
  /** Current weight; 0 = quiescent (no new flows, existing ones go on). */
  weight: number;
  /** Upper / lower connection thresholds (ipvsadm -x / -y); 0 = none. */
  uThreshold: number;
  lThreshold: number;
  /** DEST_F_* bits. */
  flags: number;
  /** ActiveConn as ipvsadm counts it (SYN_RECV and ESTABLISHED for TCP, since Linux 4.8). */
  activeConns: number;
  /** InActConn: every other connection state, UDP included. */
  inactConns: number;
  /** Persistence templates pointing at this real (the kernel's persistconns; not shown by ipvsadm -L). */
  persistConns: number;
  /** false once the real has been removed from its service (IP_VS_DEST_F_AVAILABLE cleared). */
  available: boolean;
}

export function newDest(id: number, addr: number, port: number, weight: number): Dest {
  return makeDest(id, addr, undefined, port, weight);
}

/**
 * Every Dest, IPv4 or IPv6, is built here with the same fields in the same order (addr6 undefined
 * for IPv4), so that the schedulers' property reads see one object shape and stay monomorphic.
 */
function makeDest(id: number, addr: number, addr6: Uint8Array | undefined, port: number, weight: number): Dest {
  return {
    id, addr, addr6, port, weight,
    uThreshold: 0, lThreshold: 0, flags: 0,
    activeConns: 0, inactConns: 0, persistConns: 0,
    available: true,
  };
}

/** A real of an IPv6 service: `addr` is the fold the schedulers hash, `addr6` the address itself. */
export function newDest6(id: number, addr6: Uint8Array, port: number, weight: number): Dest {
  if (addr6.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${addr6.length}`);
  return makeDest(id, foldIPv6(addr6), Uint8Array.from(addr6), port, weight);
}

/** The test every IPVS scheduler applies before giving a real a new flow. */
export function destSchedulable(d: Dest): boolean {
  return d.weight > 0 && (d.flags & (DEST_F_OVERLOAD | DEST_F_UNRESOLVED)) === 0;
}
