/**
 * mh — Maglev hashing, as net/netfilter/ipvs/ip_vs_mh.c (Eisenbud et al., NSDI '16, section 3.4).
 *
 * Table: M slots, M prime (default 4093; CONFIG_IP_VS_MH_TAB_INDEX = 12 picks primes[12 - 8]).
 * Each dest gets a permutation of the slots from two keyed hashes of (dport + daddr):
 *   offset = hsiphash(key1) mod M, skip = hsiphash(key2) mod (M - 1) + 1, slot_j = offset + j*skip.
 * The keys are fixed in the kernel (generate_hash_secret): key1 = {2654435761, 2654435761},
 * key2 = {2654446892, 2654446892}, so tables and choices are the same on every boot.
 *
 * Population (ip_vs_mh_populate): rounds over the list in kernel order (newest first); in each round
 * every dest claims `turns` slots in a row, each the next free slot of its own permutation, until all
 * M slots are taken. turns = (last_weight / g) >> rshift, at least 1 for a non-zero weight, where g is
 * the gcd of the positive last_weights and rshift = max(0, fls(max_last_weight / g) - TAB_BITS) keeps
 * the per-round claim small (TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2 = 6).
 *
 * last_weight is the weight a dest was added with, or the latest non-zero weight an edit gave it: a
 * real quiesced to weight 0 keeps its slots (its flows are refused, or rerouted with mh-fallback) and
 * gets the same slots back when its weight returns, which is what keeps Maglev's disruption small.
 * A real ADDED with weight 0 gets no slot. The kernel keeps last_weight in struct ip_vs_dest; our Dest
 * has no such field, so this scheduler remembers it per Dest from the add/edit notifications.
 *
 * Lookup: slot hsiphash(key1, sport + saddr) mod M (sport = 0 unless mh-port). With mh-fallback and an
 * unavailable dest there, the kernel re-hashes with offsets: for i in 0..M-1, slot
 * hsiphash(key1, ((ihash + i) mod M) + sport + saddr) mod M, stopping at the first dest that can take
 * the flow (an empty slot ends the search).
 */
import { DsrlbError } from '../errors/index.ts';
import type { Dest } from '../model/index.ts';
import type { DestChange, Scheduler } from './types.ts';
import { fls, gcd, hsiphash1u32Int, sipKey } from './hash.ts';
import { canTake } from './list.ts';

/** The table sizes the kernel offers, CONFIG_IP_VS_MH_TAB_INDEX 8..17. */
export const MH_TABLE_SIZES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];
export const MH_DEFAULT_TABLE_SIZE = 4093;

/** Fixed keys of ip_vs_mh.c: each is two equal u64 words. */
export const MH_KEY1 = sipKey(2654435761n, 2654435761n);
export const MH_KEY2 = sipKey(2654446892n, 2654446892n);

/** ip_vs_mh_hashkey(): hsiphash of the u32 offset + port + addr (wrapping), under `key`. */
export function mhHash(addr: number, port: number, offset: number, key: Uint32Array): number {
  return hsiphash1u32Int((offset + port + addr) | 0, key) >>> 0;
}

/** ip_vs_mh_hashkey() mod `m`: a table index, small enough never to be boxed. */
function mhSlot(addr: number, port: number, offset: number, key: Uint32Array, m: number): number {
  return (hsiphash1u32Int((offset + port + addr) | 0, key) >>> 0) % m;
}

export class MaglevScheduler implements Scheduler {
  readonly name = 'mh' as const;
  readonly tableSize: number;
  /** IP_VS_MH_TAB_BITS of a kernel built with this table size. */
  private readonly tabBits: number;
  private readonly lookup: (Dest | null)[];
  /** Slots taken during population (reused between rebuilds). */
  private readonly taken: Uint8Array;
  private readonly lastWeight = new Map<Dest, number>();
  private ready = false;

  constructor(private readonly usePort: boolean, private readonly fallback: boolean, tableSize = MH_DEFAULT_TABLE_SIZE) {
    const index = MH_TABLE_SIZES.indexOf(tableSize);
    if (index < 0) {
      throw new DsrlbError('E_SCHED_MH_TABLE_SIZE',
        `mh table size ${tableSize} is not one of the kernel's primes (${MH_TABLE_SIZES.join(', ')})`);
    }
    this.tableSize = tableSize;
    this.tabBits = Math.trunc((index + 8) / 2);
    this.lookup = new Array<Dest | null>(tableSize).fill(null);
    this.taken = new Uint8Array(tableSize);
  }

  /** The lookup table (read-only view, for tests and diagnostics). */
  get table(): readonly (Dest | null)[] {
    return this.lookup;
  }

  /** Binds to a list whose dests were not announced one by one: their last weight is their weight. */
  init(dests: readonly Dest[]): void {
    const keep = new Set(dests);
    for (const d of [...this.lastWeight.keys()]) if (!keep.has(d)) this.lastWeight.delete(d);
    for (const d of dests) if (!this.lastWeight.has(d)) this.lastWeight.set(d, d.weight);
    this.rebuild(dests);
  }

  destsChanged(dests: readonly Dest[], change: DestChange, dest: Dest): void {
    if (change === 'add') this.lastWeight.set(dest, dest.weight);
    else if (change === 'del') this.lastWeight.delete(dest);
    else if (dest.weight !== 0) this.lastWeight.set(dest, dest.weight);
    // Any dest we were never told about counts with its current weight.
    for (const d of dests) if (!this.lastWeight.has(d)) this.lastWeight.set(d, d.weight);
    this.rebuild(dests);
  }

  private lw(d: Dest): number {
    return this.lastWeight.get(d) ?? d.weight;
  }

  /** ip_vs_mh_gcd_weight + ip_vs_mh_shift_weight + ip_vs_mh_permutate + ip_vs_mh_populate. */
  private rebuild(dests: readonly Dest[]): void {
    this.ready = true;
    const M = this.tableSize;
    const n = dests.length;
    let g = 0;
    let maxW = 0;
    for (const d of dests) {
      const w = this.lw(d);
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > maxW) maxW = w;
    }
    if (g < 1) {
      this.lookup.fill(null);
      return;
    }
    const shift = Math.max(0, fls(Math.trunc(maxW / g)) - this.tabBits);

    const perm = new Int32Array(n);
    const skip = new Int32Array(n);
    const turns = new Int32Array(n);
    let anyTurns = false;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      perm[i] = mhSlot(d.addr, d.port, 0, MH_KEY1, M);
      skip[i] = mhSlot(d.addr, d.port, 0, MH_KEY2, M - 1) + 1;
      const w = this.lw(d);
      const t = Math.trunc(w / g) >> shift;
      turns[i] = t !== 0 ? t : w !== 0 ? 1 : 0;
      if (turns[i]! > 0) anyTurns = true;
    }
    if (!anyTurns) {
      this.lookup.fill(null);
      return;
    }

    const taken = this.taken;
    taken.fill(0);
    let filled = 0;
    let claimed = 0; // slots claimed by the current dest in this round
    while (filled < M) {
      let i = 0;
      while (i < n) {
        if (turns[i]! < 1) {
          i++;
          continue;
        }
        let c = perm[i]!;
        while (taken[c] !== 0) {
          c += skip[i]!;
          if (c >= M) c -= M;
        }
        perm[i] = c;
        taken[c] = 1;
        this.lookup[c] = dests[i]!;
        if (++filled === M) return;
        if (++claimed >= turns[i]!) {
          claimed = 0;
          i++;
        }
      }
    }
  }

  schedule(dests: readonly Dest[], saddr: number, sport: number, _daddr: number, _dport: number): Dest | null {
    if (!this.ready) this.init(dests);
    const M = this.tableSize;
    const port = this.usePort ? sport : 0;
    const ihash = mhSlot(saddr, port, 0, MH_KEY1, M);
    let d = this.lookup[ihash]!;
    if (d === null) return null;
    if (canTake(d)) return d;
    if (!this.fallback) return null;
    for (let off = 0; off < M; off++) {
      let roffset = off + ihash;
      if (roffset >= M) roffset -= M;
      d = this.lookup[mhSlot(saddr, port, roffset, MH_KEY1, M)]!;
      if (d === null) break;
      if (canTake(d)) return d;
    }
    return null;
  }
}
