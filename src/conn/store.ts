/**
 * ConnStore: the storage under ConnTable. Fixed-capacity records in typed arrays, an in-place hash
 * layout, removal with the reals' counters fixed, bounded eviction, the incremental sweep. IPVS
 * policy (states, templates, verdicts) lives in table.ts.
 *
 * Layout. Records of 32 bytes live in an ArrayBuffer seen as Int32Array `rec` and Float64Array `exp`:
 *   words 0-1 expiry (float64, ms)   2 caddr   3 vaddr   4 cport << 16 | vport
 *   5 meta: proto (bits 0-7) | state (8-15) | flags (16-21) | line bits (24-25)   6 destId
 *   7 next in its home line's overflow chain
 * Slots come in lines of two: line b = slots 2b and 2b+1 = one 64-byte cache line. There are as
 * many lines as the capacity (two slots per entry of capacity). A flow hashes to a line; it sits in
 * one of that line's two slots when one is free, else in any free slot elsewhere, chained from its
 * line (`ovf[b]`, flagged in the line's first slot so that a lookup that misses does not read it).
 * With one entry per line on average about 10% of entries overflow, so a lookup usually reads one
 * cache line: a chained index in front of the records would read two, each a miss at 1M entries.
 * Entries never move, so handles (slot numbers) stay valid until the entry is removed.
 * Cold arrays, per slot: `ctl` (a connection's controlling template or -1; a template's n_control)
 * and `tmo` (a template's own timeout, ms); `stack`, the free slots (entries taken in place may
 * stay in it, marked, and are skipped when popped). About 100 bytes per entry of capacity.
 *
 * IPv6 (a table built with ipv6 = true, one per data plane beside the IPv4 one): caddr and vaddr
 * hold the kernel's 32-bit folds of the addresses (foldIPv6), so hashing, lines, chains, eviction
 * and the whole state machine are the IPv4 code unchanged; the full addresses sit in a side array
 * `a6` (8 words per slot: client, then virtual address, each as four big-endian words) and find6
 * compares them too, so two clients whose addresses fold alike stay two flows. An IPv4 table's a6
 * is empty and its find() never reads it. 32 more bytes per slot (64 per entry of capacity).
 */
import type { Dest } from '../model/index.ts';
import { DEST_F_OVERLOAD } from '../model/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { flowHash } from './hash.ts';
import { TEMPLATE_REARM_MS } from './tcp-states.ts';
import { ConnState } from './types.ts';

export const W_CADDR = 2;
export const W_VADDR = 3;
export const W_PORTS = 4;
export const W_META = 5;
export const W_DEST = 6;
export const W_NEXT = 7;
export const F_USED = 1 << 16;
export const F_TEMPLATE = 2 << 16;
/** IP_VS_CONN_F_INACTIVE: the connection counts in its real's inactConns. */
export const F_INACTIVE = 4 << 16;
/** An invalidated template (the kernel sets its dport to 0xffff): never found again. */
export const F_INVALID = 8 << 16;
/** The entry sits outside its home line, on that line's overflow chain. */
const F_OVF = 16 << 16;
/**
 * The entry came from connection sync and no packet of its flow has passed here since: it is not
 * sent on to other directors (only flows this director forwards are), and sync may re-arm it.
 */
export const F_SYNCED = 32 << 16;
/** (On a line's first slot) the line has an overflow chain. */
const L_OVF = 1 << 24;
/** The slot is on the free stack (maybe stale: taken in place since). */
const IN_STACK = 1 << 25;
/** Slot bits that belong to the slot, not to the entry in it. */
const SLOT_BITS = L_OVF | IN_STACK;
export const STATE_MASK = 0xff00;
export const S_TEMPLATE_ASSURED = ConnState.TemplateAssured;

const MAX_CAPACITY = 1 << 25;
const TWO32 = 4294967296;

export type DestResolver = (id: number) => Dest | undefined;

/** The line (0..lines-1) a key hashes to: the high part of hash × lines (no power of two needed). */
export function lineOfKey(
  seed: number, lines: number, proto: number, caddr: number, cport: number, vaddr: number, vport: number,
): number {
  return ((flowHash(seed, proto, caddr, cport, vaddr, vport) >>> 0) * lines / TWO32) | 0;
}

export class ConnStore {
  readonly capacity: number;
  /** Live entries evicted to make room (expired entries taken back at insert do not count). */
  evictions = 0;
  /** Entries removed because their time had come (lazy reap, sweep, or taken back at insert). */
  expirations = 0;
  /** Inserts that failed: table full and nothing evictable. */
  insertFailures = 0;

  protected readonly rec: Int32Array;
  protected readonly exp: Float64Array;
  protected readonly ctl: Int32Array;
  protected readonly tmo: Float64Array;
  protected readonly seed: number;
  protected readonly resolve: DestResolver;
  /** IPv6 tables: the full client and virtual addresses of each slot (8 words); empty for IPv4. */
  protected readonly a6: Int32Array;
  protected protect = -1;
  private readonly lines: number;
  private readonly slots: number;
  private readonly ovf: Int32Array;
  private readonly stack: Int32Array;
  private sp = 0;
  private readonly evictSample: number;
  private count = 0;
  private sweepCursor = 0;
  private evictCursor = 0;

  constructor(capacity: number, seed: number, evictSample: number, resolveDest: DestResolver, ipv6 = false) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new DsrlbError('E_CONN_CAPACITY',
        `connection table capacity must be an integer in 1..${MAX_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.seed = seed | 0;
    this.evictSample = Math.max(1, Math.floor(evictSample));
    this.resolve = resolveDest;
    this.lines = capacity;
    this.slots = capacity * 2;
    const buf = new ArrayBuffer(this.slots * 32);
    this.rec = new Int32Array(buf);
    this.exp = new Float64Array(buf);
    this.ctl = new Int32Array(this.slots);
    this.tmo = new Float64Array(this.slots);
    this.ovf = new Int32Array(this.lines);
    this.stack = new Int32Array(this.slots);
    this.a6 = new Int32Array(ipv6 ? this.slots * 8 : 0);
    this.reset();
  }

  /** Live entries (connections + templates), due ones not yet reaped included. */
  get size(): number { return this.count; }

  /** Bytes of typed arrays per entry of capacity. */
  bytesPerEntry(): number {
    const b = this.rec.byteLength + this.ctl.byteLength + this.tmo.byteLength + this.ovf.byteLength
      + this.stack.byteLength + this.a6.byteLength;
    return b / this.capacity;
  }

  destId(h: number): number { return this.rec[(h << 3) + W_DEST]!; }
  state(h: number): ConnState { return ((this.rec[(h << 3) + W_META]! & STATE_MASK) >>> 8) as ConnState; }
  proto(h: number): number { return this.rec[(h << 3) + W_META]! & 0xff; }
  expiresAt(h: number): number { return this.exp[h << 2]!; }
  isTemplate(h: number): boolean { return (this.rec[(h << 3) + W_META]! & F_TEMPLATE) !== 0; }
  /** A connection's controlling template, or -1 (also -1 for a template). */
  templateOf(h: number): number { return this.isTemplate(h) ? -1 : this.ctl[h]!; }
  /** A template's count of controlled connections (0 for a connection). */
  nControl(h: number): number { return this.isTemplate(h) ? this.ctl[h]! : 0; }

  /**
   * Incremental sweep: examines `budget` slots from where the last call stopped (a full pass is
   * slotCount = 2 × capacity slots; one call does at most one pass). Removes what is due; a due
   * template that still controls connections is re-armed. Returns the number of entries removed.
   */
  expire(now: number, budget: number): number {
    const slots = this.slots;
    const n = Math.min(Math.max(0, Math.floor(budget)), slots);
    let removed = 0;
    let h = this.sweepCursor;
    for (let i = 0; i < n; i++) {
      const meta = this.rec[(h << 3) + W_META]!;
      if ((meta & F_USED) !== 0 && this.exp[h << 2]! <= now) {
        if ((meta & F_TEMPLATE) !== 0 && this.ctl[h]! > 0) {
          this.rearmTemplate(h, now);
        } else {
          this.removeEntry(h, false);
          this.expirations++;
          removed++;
        }
      }
      h = h + 1 === slots ? 0 : h + 1;
    }
    this.sweepCursor = h;
    return removed;
  }

  /**
   * Drops every connection and template of real `destId`, as the kernel does for a deleted real
   * with expire_nodest_conn = 1. Connections go first (each deletion also drops its template when
   * that is left unused and not assured), then the real's remaining templates. A template still
   * controlling connections of another real is invalidated instead. Returns entries removed.
   */
  removeDest(destId: number): number {
    const before = this.count;
    const rec = this.rec;
    for (let h = 0; h < this.slots; h++) {
      const meta = rec[(h << 3) + W_META]!;
      if ((meta & (F_USED | F_TEMPLATE)) === F_USED && rec[(h << 3) + W_DEST] === destId) this.removeEntry(h, true);
    }
    for (let h = 0; h < this.slots; h++) {
      const meta = rec[(h << 3) + W_META]!;
      if ((meta & (F_USED | F_TEMPLATE)) === (F_USED | F_TEMPLATE) && rec[(h << 3) + W_DEST] === destId) {
        if (this.ctl[h] === 0) this.removeEntry(h, false);
        else rec[(h << 3) + W_META] = meta | F_INVALID;
      }
    }
    return before - this.count;
  }

  /** Drops everything, fixing the reals' counters. Returns the number of entries removed. */
  flush(): number {
    const n = this.count;
    for (let h = 0; h < this.slots; h++) {
      const meta = this.rec[(h << 3) + W_META]!;
      if ((meta & F_USED) !== 0) this.unbind(h, meta);
    }
    this.reset();
    return n;
  }

  /** Number of slots (twice the capacity): handles are below it; a full sweep examines them all. */
  get slotCount(): number { return this.slots; }

  protected lineOf(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    return lineOfKey(this.seed, this.lines, proto, caddr, cport, vaddr, vport);
  }

  /**
   * The slot holding key (proto, caddr, cport, vaddr, vport) whose meta, masked by `mask`, equals
   * `want` (mask always includes the proto byte and F_USED), or -1.
   */
  protected find(
    proto: number, caddr: number, cport: number, vaddr: number, vport: number, mask: number, want: number,
  ): number {
    const rec = this.rec;
    const c = caddr | 0;
    const v = vaddr | 0;
    const p = (cport << 16) | (vport & 0xffff);
    const line = this.lineOf(proto, caddr, cport, vaddr, vport);
    let b = line << 4;
    let m0 = rec[b + W_META]!;
    if ((m0 & mask) === want && rec[b + W_CADDR] === c && rec[b + W_PORTS] === p && rec[b + W_VADDR] === v) return line << 1;
    const b1 = b + 8;
    if ((rec[b1 + W_META]! & mask) === want && rec[b1 + W_CADDR] === c && rec[b1 + W_PORTS] === p
      && rec[b1 + W_VADDR] === v) return (line << 1) + 1;
    if ((m0 & L_OVF) === 0) return -1;
    let h = this.ovf[line]!;
    while (h >= 0) {
      b = h << 3;
      m0 = rec[b + W_META]!;
      if ((m0 & mask) === want && rec[b + W_CADDR] === c && rec[b + W_PORTS] === p && rec[b + W_VADDR] === v) return h;
      h = rec[b + W_NEXT]!;
    }
    return -1;
  }

  /**
   * find() for an IPv6 table: `key` holds the client address in words 0-3 and the virtual address in
   * words 4-7 (big-endian words, as loadKey6 writes them); the slot must match the folds, the ports
   * and meta as find() does, and then the eight words too.
   */
  protected find6(proto: number, key: Int32Array, cport: number, vport: number, mask: number, want: number): number {
    const rec = this.rec;
    const a6 = this.a6;
    const k0 = key[0]!; const k1 = key[1]!; const k2 = key[2]!; const k3 = key[3]!;
    const k4 = key[4]!; const k5 = key[5]!; const k6 = key[6]!; const k7 = key[7]!;
    const c = k0 ^ k1 ^ k2 ^ k3;
    const v = k4 ^ k5 ^ k6 ^ k7;
    const p = (cport << 16) | (vport & 0xffff);
    const line = this.lineOf(proto, c, cport, v, vport);
    let h = line << 1;
    let b = h << 3;
    let a = h << 3;
    const m0 = rec[b + W_META]!;
    if ((m0 & mask) === want && rec[b + W_CADDR] === c && rec[b + W_PORTS] === p && rec[b + W_VADDR] === v
      && a6[a] === k0 && a6[a + 1] === k1 && a6[a + 2] === k2 && a6[a + 3] === k3
      && a6[a + 4] === k4 && a6[a + 5] === k5 && a6[a + 6] === k6 && a6[a + 7] === k7) return h;
    h++;
    b += 8;
    a += 8;
    if ((rec[b + W_META]! & mask) === want && rec[b + W_CADDR] === c && rec[b + W_PORTS] === p && rec[b + W_VADDR] === v
      && a6[a] === k0 && a6[a + 1] === k1 && a6[a + 2] === k2 && a6[a + 3] === k3
      && a6[a + 4] === k4 && a6[a + 5] === k5 && a6[a + 6] === k6 && a6[a + 7] === k7) return h;
    if ((m0 & L_OVF) === 0) return -1;
    h = this.ovf[line]!;
    while (h >= 0) {
      b = h << 3;
      if ((rec[b + W_META]! & mask) === want && rec[b + W_CADDR] === c && rec[b + W_PORTS] === p && rec[b + W_VADDR] === v
        && a6[b] === k0 && a6[b + 1] === k1 && a6[b + 2] === k2 && a6[b + 3] === k3
        && a6[b + 4] === k4 && a6[b + 5] === k5 && a6[b + 6] === k6 && a6[b + 7] === k7) return h;
      h = rec[b + W_NEXT]!;
    }
    return -1;
  }

  /** Records the full addresses of IPv6 entry h (just inserted with their folds). */
  protected setKey6(h: number, key: Int32Array): void {
    const a = h << 3;
    for (let i = 0; i < 8; i++) this.a6[a + i] = key[i]!;
  }

  /** IPv6 tables: copies entry h's client (words 0-3) and virtual address (4-7) into `out`. */
  key6(h: number, out: Int32Array): Int32Array {
    const a = h << 3;
    for (let i = 0; i < 8; i++) out[i] = this.a6[a + i]!;
    return out;
  }

  /**
   * Stores a new entry (the caller knows the key is absent), evicting first when the table is
   * full; returns its slot, or -1 when nothing could be evicted. `meta` holds proto, state, flags.
   */
  protected insert(
    proto: number, caddr: number, cport: number, vaddr: number, vport: number, destId: number,
    meta: number, now: number,
  ): number {
    if (this.count >= this.capacity && !this.evict(now)) {
      this.insertFailures++;
      return -1;
    }
    const rec = this.rec;
    const line = this.lineOf(proto, caddr, cport, vaddr, vport);
    let h = line << 1;
    if ((rec[(h << 3) + W_META]! & F_USED) !== 0) {
      h++;
      if ((rec[(h << 3) + W_META]! & F_USED) !== 0) {
        h = this.popFree();
        meta |= F_OVF;
        rec[(h << 3) + W_NEXT] = this.ovf[line]!;
        this.ovf[line] = h;
        rec[(line << 4) + W_META] = rec[(line << 4) + W_META]! | L_OVF;
      }
    }
    const b = h << 3;
    rec[b + W_CADDR] = caddr | 0;
    rec[b + W_VADDR] = vaddr | 0;
    rec[b + W_PORTS] = (cport << 16) | (vport & 0xffff);
    rec[b + W_META] = meta | (rec[b + W_META]! & SLOT_BITS);
    rec[b + W_DEST] = destId;
    this.count++;
    return h;
  }

  /** A free slot from the stack, dropping stale entries (slots since taken in place). */
  private popFree(): number {
    const rec = this.rec;
    for (;;) {
      const h = this.stack[--this.sp]!;
      const m = rec[(h << 3) + W_META]! & ~IN_STACK;
      rec[(h << 3) + W_META] = m;
      if ((m & F_USED) === 0) return h;
    }
  }

  /**
   * Frees one entry of a full table. Looks at up to `evictSample` entries after a rotating
   * cursor: the first one already due is taken back (an expiry, not an eviction); otherwise the one
   * closest to expiry is evicted. Skips the template being attached and templates that still
   * control connections (their connections would dangle).
   */
  private evict(now: number): boolean {
    const slots = this.slots;
    let best = -1;
    let bestExp = Infinity;
    let seen = 0;
    let h = this.evictCursor;
    for (let i = 0; i < slots; i++) {
      const cur = h;
      h = h + 1 === slots ? 0 : h + 1;
      const meta = this.rec[(cur << 3) + W_META]!;
      if ((meta & F_USED) === 0 || cur === this.protect) continue;
      if ((meta & F_TEMPLATE) !== 0 && this.ctl[cur]! > 0) continue;
      const e = this.exp[cur << 2]!;
      if (e <= now) {
        this.evictCursor = h;
        this.removeEntry(cur, false);
        this.expirations++;
        return true;
      }
      if (e < bestExp) { bestExp = e; best = cur; }
      if (++seen >= this.evictSample) break;
    }
    this.evictCursor = h;
    if (best < 0) return false;
    this.removeEntry(best, true);
    this.evictions++;
    return true;
  }

  /**
   * A template's timer fired while it controls connections: the kernel re-arms it by 60 s and keeps
   * 60 s as its timeout from then on. Done here on the timer's own grid, so a late sweep lands on
   * the same deadline the kernel's timer would have.
   */
  protected rearmTemplate(h: number, now: number): void {
    const e = this.exp[h << 2]!;
    const steps = Math.floor((now - e) / TEMPLATE_REARM_MS) + 1;
    this.exp[h << 2] = e + steps * TEMPLATE_REARM_MS;
    this.tmo[h] = TEMPLATE_REARM_MS;
  }

  /**
   * Frees entry h, fixing its real's counters and its template's n_control. `cascade` is a
   * deletion (eviction, removeDest) rather than an expiry: then a template left controlling
   * nothing, and not assured, is dropped too (unless it is the one being attached).
   */
  protected removeEntry(h: number, cascade: boolean): void {
    const rec = this.rec;
    const b = h << 3;
    const meta = rec[b + W_META]!;
    if ((meta & F_OVF) !== 0) {
      const ports = rec[b + W_PORTS]!;
      const line = this.lineOf(meta & 0xff, rec[b + W_CADDR]!, ports >>> 16, rec[b + W_VADDR]!, ports & 0xffff);
      let cur = this.ovf[line]!;
      if (cur === h) {
        this.ovf[line] = rec[b + W_NEXT]!;
        if (rec[b + W_NEXT]! < 0) rec[(line << 4) + W_META] = rec[(line << 4) + W_META]! & ~L_OVF;
      } else {
        while (cur >= 0) {
          const nx = rec[(cur << 3) + W_NEXT]!;
          if (nx === h) { rec[(cur << 3) + W_NEXT] = rec[b + W_NEXT]!; break; }
          cur = nx;
        }
      }
    }
    this.unbind(h, meta);
    // Re-read: unlinking may have changed this slot's line bit.
    const slotBits = rec[b + W_META]! & SLOT_BITS;
    if ((slotBits & IN_STACK) === 0) {
      this.stack[this.sp++] = h;
      rec[b + W_META] = slotBits | IN_STACK;
    } else {
      rec[b + W_META] = slotBits;
    }
    this.count--;
    if ((meta & F_TEMPLATE) === 0) {
      const t = this.ctl[h]!;
      if (t >= 0) {
        const n = --this.ctl[t]!;
        if (cascade && n === 0 && t !== this.protect
          && ((rec[(t << 3) + W_META]! & STATE_MASK) >>> 8) !== S_TEMPLATE_ASSURED) {
          this.removeEntry(t, false);
        }
      }
    }
  }

  /** ip_vs_unbind_dest: the counters, then the overload flag per the thresholds. */
  private unbind(h: number, meta: number): void {
    const d = this.resolve(this.rec[(h << 3) + W_DEST]!);
    if (d === undefined) return;
    if ((meta & F_TEMPLATE) !== 0) d.persistConns--;
    else if ((meta & F_INACTIVE) !== 0) d.inactConns--;
    else d.activeConns--;
    const total = d.activeConns + d.inactConns;
    if (d.lThreshold !== 0) {
      if (total < d.lThreshold) d.flags &= ~DEST_F_OVERLOAD;
    } else if (d.uThreshold !== 0) {
      if (total * 4 < d.uThreshold * 3) d.flags &= ~DEST_F_OVERLOAD;
    } else {
      d.flags &= ~DEST_F_OVERLOAD;
    }
  }

  /** ip_vs_bind_dest's test: at or over the upper threshold → overloaded (no new flows). */
  protected bindCheck(d: Dest): void {
    if (d.uThreshold !== 0 && d.activeConns + d.inactConns >= d.uThreshold) d.flags |= DEST_F_OVERLOAD;
  }

  private reset(): void {
    const rec = this.rec;
    const slots = this.slots;
    // Push in reverse so that overflow entries fill low slots first.
    for (let i = 0; i < slots; i++) {
      const h = slots - 1 - i;
      rec[(h << 3) + W_META] = IN_STACK;
      this.stack[i] = h;
    }
    this.sp = slots;
    this.ovf.fill(-1);
    this.count = 0;
  }
}
