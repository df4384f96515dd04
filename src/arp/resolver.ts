/**
 * A neighbour cache for the real servers, kept by dsrlb itself (no static neighbour entries).
 *
 * The director needs each real server's MAC to rewrite frames to it. This resolver watches a set of
 * IPv4 addresses on one interface and keeps each resolved, much like a Linux "managed" neighbour
 * entry (kept resolved in the background whether traffic flows or not), with the kernel's ARP
 * defaults (net/ipv4/arp.c arp_tbl): retrans_time 1 s, mcast_solicit 3, ucast_solicit 3,
 * base_reachable_time 30 s, locktime 1 s; failed entries are retried every 5 s, as the kernel
 * re-kicks managed entries every interval_probe_time_ms (5 s).
 *
 * States and transitions (time is an argument; nothing here reads a clock):
 * - incomplete: no MAC yet. Broadcast requests `retransMs` apart; after `mcastProbes` unanswered
 *   requests -> failed.
 * - reachable: a reply sent to our MAC confirmed the MAC at `confirmedAt`. Refresh starts early
 *   enough that a live server is re-confirmed before it would go stale: `ucastProbes` unicast
 *   requests to the known MAC, ending at confirmedAt + reachableMs.
 * - stale: confirmedAt + reachableMs passed, or the MAC was learnt from a frame that does not prove
 *   reachability (a request, a broadcast reply: as in Linux). The MAC is still used; probing goes
 *   on: the unicast probes not sent yet, then `mcastProbes` broadcast requests (which also find a
 *   server whose MAC changed); unanswered -> failed.
 * - failed: the MAC is not used (lookup returns null). One broadcast request every
 *   `failedRetryMs`; any answer brings the entry back.
 *
 * Learning, from ARP frames the host would receive (to our MAC or to a group address), whose sender
 * IP is watched: replies and requests alike. A different MAC inside `lockMs` of the last update is
 * ignored unless the frame is gratuitous, as Linux does ("first answer wins" against ARP flux).
 *
 * Requests are sent from `senderIp`; with 0 (the default) they are RFC 5227 probes. Linux answers a
 * probe whose sender IP is 0.0.0.0 (arp_process: the `sip == 0` duplicate-address-detection case
 * sends a reply, subject to arp_ignore, which arp_ignore=1/2 real servers pass for their own RIP),
 * so a director without an address on the subnet can still resolve. Use the host's own address on
 * that subnet when it has one.
 *
 * Events: input() returns what one frame caused; events caused by the passing of time (failures)
 * are queued and collected with drainEvents().
 */

import type { FrameInfo } from '../packet/index.ts';
import { ETHERTYPE_ARP } from '../packet/index.ts';
import { arpRequest, ARP_OP_REPLY, ARP_OP_REQUEST, isGroupMac, isZeroMac, macEquals } from '../packet/index.ts';
import { badNeighArg, confirmNeigh, durationArg, neighNextAt, neighTiming, staleNeigh, stepNeigh, TIMING_DEFAULTS, type NeighState } from './neigh-timing.ts';

export type { NeighState };

export type ResolverEvent =
  | { kind: 'resolved'; ip: number; mac: Uint8Array }
  | { kind: 'changed'; ip: number; mac: Uint8Array; previous: Uint8Array }
  | { kind: 'failed'; ip: number; mac?: Uint8Array };

export interface ResolverOptions {
  /** The director's MAC on this interface. */
  mac: Uint8Array;
  /** Sender IP of our requests (u32); 0 = RFC 5227 probe style. Default 0. */
  senderIp?: number;
  /** 802.1Q VLAN id of the segment: requests are tagged, only frames of that VLAN are learnt. */
  vlan?: number;
  /** Between two requests of one round; default 1000 (Linux retrans_time_ms). */
  retransMs?: number;
  /** How long a confirmation lasts; default 30000 (Linux base_reachable_time_ms, without its random factor). */
  reachableMs?: number;
  /** Unicast probes to the known MAC when refreshing; default 3 (Linux ucast_solicit). */
  ucastProbes?: number;
  /** Broadcast requests when resolving (and after the unicast probes); default 3 (Linux mcast_solicit). */
  mcastProbes?: number;
  /** Between two requests for a failed entry; default 5000 (Linux interval_probe_time_ms). */
  failedRetryMs?: number;
  /** A different MAC within this long of the last update is ignored; default 1000 (Linux locktime). */
  lockMs?: number;
}

export const RESOLVER_DEFAULTS = Object.freeze({
  senderIp: 0,
  ...TIMING_DEFAULTS,
  lockMs: 1000,
});

/** A read-only view of one entry, for status output and tests. */
export interface NeighView {
  ip: number;
  state: NeighState;
  /** Last known MAC (a copy), also when failed; null if never resolved. */
  mac: Uint8Array | null;
  /** When a reply to us last confirmed the MAC; -Infinity if never. */
  confirmedAt: number;
  /** Requests sent in the current round. */
  probes: number;
  /** When the entry next needs attention. */
  nextAt: number;
}

interface Entry {
  ip: number;
  state: NeighState;
  mac: Uint8Array | null;
  confirmedAt: number;
  updatedAt: number;
  probes: number;
  /** Next request time. */
  probeAt: number;
}

const bad = badNeighArg;

function checkIp(ip: number, what: string): void {
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) bad(`${what} must be an IPv4 address as a u32`);
}

export class ArpResolver {
  readonly retransMs: number;
  readonly reachableMs: number;
  readonly ucastProbes: number;
  readonly mcastProbes: number;
  readonly failedRetryMs: number;
  readonly lockMs: number;
  readonly vlan: number | undefined;

  readonly #mac: Uint8Array;
  #senderIp: number;
  readonly #entries = new Map<number, Entry>();
  #events: ResolverEvent[] = [];

  constructor(opts: ResolverOptions) {
    if (!(opts.mac instanceof Uint8Array) || opts.mac.length !== 6) bad('resolver mac must be a Uint8Array of 6 bytes');
    this.#mac = Uint8Array.from(opts.mac);
    const d = RESOLVER_DEFAULTS;
    this.#senderIp = opts.senderIp ?? d.senderIp;
    checkIp(this.#senderIp, 'senderIp');
    if (opts.vlan !== undefined && (!Number.isInteger(opts.vlan) || opts.vlan < 0 || opts.vlan > 4095)) bad(`VLAN id ${opts.vlan} outside 0..4095`);
    this.vlan = opts.vlan;
    ({ retransMs: this.retransMs, reachableMs: this.reachableMs, ucastProbes: this.ucastProbes, mcastProbes: this.mcastProbes, failedRetryMs: this.failedRetryMs } = neighTiming(opts));
    this.lockMs = durationArg(opts.lockMs, d.lockMs, 'lockMs', 0);
  }

  get senderIp(): number {
    return this.#senderIp;
  }

  /** Changes the sender IP of later requests (the host gained or lost an address on the subnet). */
  setSenderIp(ip: number): void {
    checkIp(ip, 'senderIp');
    this.#senderIp = ip;
  }

  /** Starts resolving `ip`; its first request goes out at the next tick. False if already watched. */
  watch(ip: number): boolean {
    checkIp(ip, 'ip');
    const top = ip >>> 24;
    if (ip === 0 || top >= 224 || top === 127) bad(`cannot resolve ${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}: not a unicast host address`);
    if (this.#entries.has(ip)) return false;
    this.#entries.set(ip, {
      ip, state: 'incomplete', mac: null, confirmedAt: -Infinity, updatedAt: -Infinity, probes: 0, probeAt: -Infinity,
    });
    return true;
  }

  /** Forgets `ip` (no event). False if it was not watched. */
  unwatch(ip: number): boolean {
    return this.#entries.delete(ip);
  }

  watched(): number[] {
    return [...this.#entries.keys()];
  }

  /**
   * The MAC to send to, or null (incomplete, failed, not watched). The array is the cache's own:
   * do not modify it. A MAC change installs a new array, so a returned one never changes under you.
   */
  lookup(ip: number): Uint8Array | null {
    const e = this.#entries.get(ip);
    return e !== undefined && (e.state === 'reachable' || e.state === 'stale') ? e.mac : null;
  }

  state(ip: number): NeighState | null {
    return this.#entries.get(ip)?.state ?? null;
  }

  get(ip: number): NeighView | null {
    const e = this.#entries.get(ip);
    if (e === undefined) return null;
    return {
      ip: e.ip, state: e.state, mac: e.mac === null ? null : Uint8Array.from(e.mac),
      confirmedAt: e.confirmedAt, probes: e.probes, nextAt: neighNextAt(this, e),
    };
  }

  entries(): NeighView[] {
    const out: NeighView[] = [];
    for (const ip of this.#entries.keys()) out.push(this.get(ip)!);
    return out;
  }

  /** When tick() next has something to do; null when nothing is watched. */
  nextAt(): number | null {
    let t: number | null = null;
    for (const e of this.#entries.values()) {
      const x = neighNextAt(this, e);
      if (t === null || x < t) t = x;
    }
    return t;
  }

  /** Events caused by tick() (failures) since the last call. */
  drainEvents(): ResolverEvent[] {
    const ev = this.#events;
    this.#events = [];
    return ev;
  }

  /**
   * Advances every entry to `now`: returns the ARP requests to send (one at most per entry and
   * call, so a late tick sends no burst). Failures are queued for drainEvents().
   */
  tick(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.#entries.values()) {
      const step = stepNeigh(this, e, now);
      if (step.kind === 'request') out.push(this.#request(e.ip, step.to));
      else if (step.kind === 'failed') this.#events.push(e.mac === null ? { kind: 'failed', ip: e.ip } : { kind: 'failed', ip: e.ip, mac: Uint8Array.from(e.mac) });
    }
    return out;
  }

  /**
   * Learns from one decoded frame (`info` from decodeFrame on `frame`). Returns the event it
   * caused, or null. Never throws; ignores anything that is not a usable ARP frame.
   */
  input(info: FrameInfo, frame: Uint8Array, now: number): ResolverEvent | null {
    if (info.etherType !== ETHERTYPE_ARP || info.errReason !== '') return null;
    const op = info.arpOp;
    if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return null;
    if (this.vlan === undefined ? info.vlanId !== -1 : info.vlanId !== this.vlan) return null;
    const e = this.#entries.get(info.arpSpa);
    if (e === undefined) return null;
    const sha = info.arpShaOff;
    const tha = info.arpThaOff;
    const n = info.len < frame.length ? info.len : frame.length;
    if (!(sha >= 14) || !(tha === sha + 10) || !(tha + 10 <= n)) return null;
    const mac = this.#mac;
    // Only what the host itself would receive; never our own frames; never a non-unicast sender.
    const toUs = macEquals(frame, 0, mac, 0);
    if (!toUs && !isGroupMac(frame, 0)) return null;
    if (macEquals(frame, sha, mac, 0) || macEquals(frame, 6, mac, 0)) return null;
    if (isGroupMac(frame, sha) || isZeroMac(frame, sha)) return null;

    const confirms = op === ARP_OP_REPLY && toUs;
    const garp = info.arpSpa === info.arpTpa && (op === ARP_OP_REQUEST || macEquals(frame, tha, frame, sha));
    const prevState = e.state;
    const old = e.mac;
    const same = old !== null && macEquals(frame, sha, old, 0);

    if (same) {
      if (confirms) {
        confirmNeigh(this, e, now);
      } else if (prevState === 'failed' || prevState === 'incomplete') {
        staleNeigh(e, now);
      } else {
        return null; // a request or broadcast reply with the MAC we have: nothing new (as Linux)
      }
      e.updatedAt = now;
      return prevState === 'failed' || prevState === 'incomplete' ? { kind: 'resolved', ip: e.ip, mac: Uint8Array.from(old) } : null;
    }

    const usable = prevState === 'reachable' || prevState === 'stale';
    if (usable && now - e.updatedAt < this.lockMs && !garp) return null; // locktime: first answer wins
    const fresh = frame.slice(sha, sha + 6);
    e.mac = fresh;
    e.updatedAt = now;
    if (confirms) confirmNeigh(this, e, now);
    else staleNeigh(e, now);
    if (usable) return { kind: 'changed', ip: e.ip, mac: Uint8Array.from(fresh), previous: Uint8Array.from(old!) };
    return { kind: 'resolved', ip: e.ip, mac: Uint8Array.from(fresh) };
  }

  #request(ip: number, unicastTo: Uint8Array | null): Uint8Array {
    return arpRequest({
      senderMac: this.#mac,
      senderIp: this.#senderIp,
      targetIp: ip,
      ethDst: unicastTo ?? undefined,
      vlan: this.vlan,
    });
  }
}
