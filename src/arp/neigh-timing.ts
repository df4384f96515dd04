/**
 * The timing both neighbour resolvers share (resolver.ts for ARP, ndp-resolver.ts for NDP): the
 * states of a Linux "managed" neighbour entry and when each sends its next request. Resolving
 * sends `mcastProbes` broadcast/multicast requests `retransMs` apart, then fails; a confirmed MAC is
 * re-checked with `ucastProbes` unicast requests that end when it would go stale, then with
 * `mcastProbes` group requests, then fails; a failed entry asks again every `failedRetryMs`.
 * Pure: time is an argument.
 */

import { DsrlbError } from '../errors/index.ts';

export type NeighState = 'incomplete' | 'reachable' | 'stale' | 'failed';

/** Linux's neighbour defaults (arp_tbl and nd_tbl alike): see resolver.ts. */
export const TIMING_DEFAULTS: NeighTiming = Object.freeze({
  retransMs: 1000,
  reachableMs: 30_000,
  ucastProbes: 3,
  mcastProbes: 3,
  failedRetryMs: 5000,
});

/** A resolver's bad argument (E_ARP_ARGS). */
export function badNeighArg(message: string): never {
  throw new DsrlbError('E_ARP_ARGS', message);
}

/** A count option: an integer >= min, the default when absent. */
export function countArg(v: number | undefined, dflt: number, what: string, min: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min) badNeighArg(`${what} must be an integer >= ${min}, not ${x}`);
  return x;
}

/** A duration option: a finite number of ms >= min, the default when absent. */
export function durationArg(v: number | undefined, dflt: number, what: string, min: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < min) badNeighArg(`${what} must be a finite number of ms >= ${min}, not ${x}`);
  return x;
}

/** The timing a resolver's options ask for, checked, with the defaults for what they leave out. */
export function neighTiming(o: Partial<NeighTiming>): NeighTiming {
  const d = TIMING_DEFAULTS;
  return {
    retransMs: durationArg(o.retransMs, d.retransMs, 'retransMs', 1),
    reachableMs: durationArg(o.reachableMs, d.reachableMs, 'reachableMs', 1),
    ucastProbes: countArg(o.ucastProbes, d.ucastProbes, 'ucastProbes', 0),
    mcastProbes: countArg(o.mcastProbes, d.mcastProbes, 'mcastProbes', 1),
    failedRetryMs: durationArg(o.failedRetryMs, d.failedRetryMs, 'failedRetryMs', 1),
  };
}

export interface NeighTiming {
  readonly retransMs: number;
  readonly reachableMs: number;
  readonly ucastProbes: number;
  readonly mcastProbes: number;
  readonly failedRetryMs: number;
}

export interface TimedEntry {
  state: NeighState;
  /** Last known MAC, also when failed; null if never resolved. */
  mac: Uint8Array | null;
  confirmedAt: number;
  /** Requests sent in the current round. */
  probes: number;
  /** Next request time. */
  probeAt: number;
}

/** What one entry needs at a tick: nothing, a request (to a MAC, or null: to the group), or it has just failed. */
export type NeighStep = { kind: 'none' } | { kind: 'request'; to: Uint8Array | null } | { kind: 'failed' };

const NONE: NeighStep = { kind: 'none' };
const FAILED: NeighStep = { kind: 'failed' };
const TO_GROUP: NeighStep = { kind: 'request', to: null };

/** Advances one entry to `now` (one request at most, so a late tick sends no burst). */
export function stepNeigh(t: NeighTiming, e: TimedEntry, now: number): NeighStep {
  if (e.state === 'reachable' && now >= e.confirmedAt + t.reachableMs) e.state = 'stale';
  if (e.probeAt > now) return NONE;
  if (e.state === 'failed') {
    e.probeAt = now + t.failedRetryMs;
    return TO_GROUP;
  }
  const limit = e.state === 'incomplete' ? t.mcastProbes : t.ucastProbes + t.mcastProbes;
  if (e.probes >= limit) {
    e.state = 'failed';
    e.probes = 0;
    e.probeAt = now + t.failedRetryMs;
    return FAILED;
  }
  const to = e.state !== 'incomplete' && e.probes < t.ucastProbes ? e.mac : null;
  e.probes++;
  e.probeAt = now + t.retransMs;
  return to === null ? TO_GROUP : { kind: 'request', to };
}

/** A reply to us confirmed the MAC: reachable, and the unicast re-checks fit before it would go stale (27, 28, 29 s by default). */
export function confirmNeigh(t: NeighTiming, e: TimedEntry, now: number): void {
  e.state = 'reachable';
  e.confirmedAt = now;
  e.probes = 0;
  const lead = t.ucastProbes * t.retransMs;
  e.probeAt = now + (t.reachableMs > lead ? t.reachableMs - lead : 0);
}

/** The MAC learnt from a frame that does not prove reachability: stale, checked at once with a unicast request. */
export function staleNeigh(e: TimedEntry, now: number): void {
  e.state = 'stale';
  e.probes = 0;
  e.probeAt = now;
}

/** When the entry next needs a tick. */
export function neighNextAt(t: NeighTiming, e: TimedEntry): number {
  if (e.state === 'reachable') {
    const staleAt = e.confirmedAt + t.reachableMs;
    return staleAt < e.probeAt ? staleAt : e.probeAt;
  }
  return e.probeAt;
}
