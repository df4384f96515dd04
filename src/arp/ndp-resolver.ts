/**
 * The IPv6 counterpart of ArpResolver (resolver.ts): keeps the MACs of the IPv6 real servers
 * resolved by Neighbor Discovery (RFC 4861 7.2-7.3), with Linux's nd_tbl defaults (retrans_time
 * 1 s, mcast_solicit 3, ucast_solicit 3, base_reachable_time 30 s) and the same background
 * refresh as a "managed" neighbour entry; failed entries are retried every 5 s.
 *
 * States as in resolver.ts. Solicitations for an unresolved (or stale, after its unicast probes)
 * entry go to the target's solicited-node group; refreshing a known entry sends unicast
 * solicitations to its MAC first. Every solicitation comes from `senderIp` (this host's address on
 * the segment) and carries our link-layer address; without a sender address nothing is sent
 * (a solicitation from :: is a DAD probe, which a real would not answer with a unicast NA).
 *
 * Learning, from frames the host would receive (to our MAC or to a group):
 * - a Neighbor Advertisement for a watched address with a target link-layer option: Solicited and
 *   sent to us confirms the MAC (reachable); otherwise it is learnt stale. A different MAC in an
 *   advertisement without the Override flag does not replace a usable entry (RFC 4861 7.2.5);
 * - a Neighbor Solicitation from a watched address with a source link-layer option: learnt stale
 *   (ndisc_recv_ns does the same).
 *
 * Pure: time is an argument; events of the passing of time are collected with drainEvents().
 */
import { ipv6ToHex, ipv6ToString } from '../model/index.ts';
import { buildNeighborSolicitation, ICMPV6_NA, parseNdp } from '../packet/index.ts';
import { badNeighArg, confirmNeigh, neighTiming, staleNeigh, stepNeigh, type NeighState } from './neigh-timing.ts';

export type Ndp6Event =
  | { kind: 'resolved'; ip6: Uint8Array; mac: Uint8Array }
  | { kind: 'changed'; ip6: Uint8Array; mac: Uint8Array; previous: Uint8Array }
  | { kind: 'failed'; ip6: Uint8Array; mac?: Uint8Array };

export interface NdpResolverOptions {
  mac: Uint8Array;
  /** Source of our solicitations (16 bytes); absent: no solicitations, learning only. */
  senderIp?: Uint8Array;
  retransMs?: number;
  reachableMs?: number;
  ucastProbes?: number;
  mcastProbes?: number;
  failedRetryMs?: number;
}

interface Entry {
  ip6: Uint8Array;
  state: NeighState;
  mac: Uint8Array | null;
  confirmedAt: number;
  probes: number;
  probeAt: number;
}

const bad = badNeighArg;

const sameMac = (a: Uint8Array, b: Uint8Array): boolean => a.every((x, i) => x === b[i]);

export class NdpResolver {
  readonly retransMs: number;
  readonly reachableMs: number;
  readonly ucastProbes: number;
  readonly mcastProbes: number;
  readonly failedRetryMs: number;
  readonly #mac: Uint8Array;
  readonly #sender: Uint8Array | null;
  /** By ipv6ToHex. */
  readonly #entries = new Map<string, Entry>();
  #events: Ndp6Event[] = [];

  constructor(o: NdpResolverOptions) {
    if (!(o.mac instanceof Uint8Array) || o.mac.length !== 6) bad('resolver mac must be a Uint8Array of 6 bytes');
    if (o.senderIp !== undefined && o.senderIp.length !== 16) bad('senderIp must be 16 bytes');
    this.#mac = Uint8Array.from(o.mac);
    this.#sender = o.senderIp ? Uint8Array.from(o.senderIp) : null;
    ({ retransMs: this.retransMs, reachableMs: this.reachableMs, ucastProbes: this.ucastProbes, mcastProbes: this.mcastProbes, failedRetryMs: this.failedRetryMs } = neighTiming(o));
  }

  /** Starts resolving `ip6`: its first solicitation goes out at the next tick. False if already watched. */
  watch(ip6: Uint8Array): boolean {
    if (ip6.length !== 16) bad('an IPv6 address is 16 bytes');
    if (ip6[0] === 0xff || ip6.every((b) => b === 0)) bad(`cannot resolve ${ipv6ToString(ip6)}: not a unicast address`);
    const k = ipv6ToHex(ip6);
    if (this.#entries.has(k)) return false;
    this.#entries.set(k, { ip6: Uint8Array.from(ip6), state: 'incomplete', mac: null, confirmedAt: -Infinity, probes: 0, probeAt: -Infinity });
    return true;
  }

  unwatch(ip6: Uint8Array): boolean {
    return this.#entries.delete(ipv6ToHex(ip6));
  }

  watched(): Uint8Array[] {
    return [...this.#entries.values()].map((e) => e.ip6);
  }

  state(ip6: Uint8Array, off = 0): NeighState | null {
    return this.#entries.get(ipv6ToHex(ip6.subarray(off, off + 16)))?.state ?? null;
  }

  lookup(ip6: Uint8Array): Uint8Array | null {
    const e = this.#entries.get(ipv6ToHex(ip6));
    return e !== undefined && (e.state === 'reachable' || e.state === 'stale') ? e.mac : null;
  }

  drainEvents(): Ndp6Event[] {
    const ev = this.#events;
    this.#events = [];
    return ev;
  }

  /** The solicitations due at `now` (one per entry at most); failures are queued for drainEvents(). */
  tick(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.#entries.values()) {
      const step = stepNeigh(this, e, now);
      if (step.kind === 'request') this.#solicit(out, e, step.to);
      else if (step.kind === 'failed') this.#events.push(e.mac === null ? { kind: 'failed', ip6: e.ip6 } : { kind: 'failed', ip6: e.ip6, mac: Uint8Array.from(e.mac) });
    }
    return out;
  }

  /** Learns from one received frame (any frame: what is not NDP about a watched address is ignored). */
  input(frame: Uint8Array, len: number, now: number): Ndp6Event | null {
    const m = parseNdp(frame, len);
    if (m === null || m.lladdr === null) return null;
    const about = m.type === ICMPV6_NA ? m.target : m.srcIp;
    const e = this.#entries.get(ipv6ToHex(about));
    if (e === undefined) return null;
    const mine = this.#mac;
    const toUs = sameMac(m.dstMac, mine);
    if (!toUs && (m.dstMac[0]! & 1) === 0) return null;
    if (sameMac(m.srcMac, mine) || sameMac(m.lladdr, mine) || (m.lladdr[0]! & 1) === 1 || m.lladdr.every((b) => b === 0)) return null;
    const confirms = m.type === ICMPV6_NA && m.solicited && toUs;
    const prev = e.state;
    const usable = prev === 'reachable' || prev === 'stale';
    const old = e.mac;
    if (old !== null && sameMac(old, m.lladdr)) {
      if (confirms) confirmNeigh(this, e, now);
      else if (!usable) staleNeigh(e, now);
      return usable ? null : { kind: 'resolved', ip6: e.ip6, mac: Uint8Array.from(old) };
    }
    // A new MAC: an advertisement without Override does not replace one in use.
    if (usable && m.type === ICMPV6_NA && !m.override) return null;
    e.mac = Uint8Array.from(m.lladdr);
    if (confirms) confirmNeigh(this, e, now);
    else staleNeigh(e, now);
    if (usable) return { kind: 'changed', ip6: e.ip6, mac: Uint8Array.from(e.mac), previous: Uint8Array.from(old!) };
    return { kind: 'resolved', ip6: e.ip6, mac: Uint8Array.from(e.mac) };
  }

  #solicit(out: Uint8Array[], e: Entry, unicastTo: Uint8Array | null): void {
    if (this.#sender === null) return;
    out.push(buildNeighborSolicitation({
      srcMac: this.#mac, srcIp: this.#sender, target: e.ip6,
      unicast: unicastTo === null ? undefined : { dstMac: unicastTo, dstIp: e.ip6 },
    }));
  }
}
