/**
 * Scheduling for IPv6 services. IPVS's schedulers have no IPv6 code of their own beyond one step:
 * where an IPv4 service hashes an address, an IPv6 service hashes the address folded to 32 bits
 * (the xor of its four words: foldIPv6, src/model/addr6.ts). That is so for the client address
 * (sh, mh: ip_vs_sh_hashkey, ip_vs_mh_hashkey), the destination (dh: ip_vs_dh_hashkey; lblc and lblcr
 * index their tables the same way) and the reals' own addresses (mh's permutation,
 * ip_vs_mh_permutate, through ip_vs_mh_hashkey(svc->af, &dest->addr, ...)). Everything else — the
 * bucket and Maglev tables, ports (sh-port, mh-port), weights, the rr/wrr/lc/wlc/sed/nq walks — is
 * the IPv4 code unchanged, which is why every scheduler here takes the fold where it takes an IPv4
 * address, and a real of an IPv6 service (newDest6) carries its fold in `addr`.
 */
import { foldIPv6Int } from '../model/index.ts';
import type { Dest } from '../model/index.ts';
import type { Scheduler } from './types.ts';

/**
 * Picks a real for a new flow of an IPv6 service. The client and destination addresses are the 16
 * bytes at `saddrOff` and `daddrOff` of `buf` (a frame, as decodeIPv6Frame leaves them: Ipv6Info's
 * srcOff and dstOff). No allocation.
 */
export function scheduleIPv6(
  sched: Scheduler, dests: readonly Dest[],
  buf: Uint8Array, saddrOff: number, sport: number, daddrOff: number, dport: number,
): Dest | null {
  return sched.schedule(dests, foldIPv6Int(buf, saddrOff), sport, foldIPv6Int(buf, daddrOff), dport);
}
