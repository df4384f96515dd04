/**
 * ConnStore: the storage under ConnTable. Fixed-capacity records in typed arrays, a chained hash
 * index, a free list, removal with the reals' counters fixed, bounded eviction, the incremental
 * sweep. IPVS policy (states, templates, verdicts) lives in table.ts.
 *
 * Layout. One 32-byte record per entry, all records in one ArrayBuffer seen as Int32Array `rec`
 * and Float64Array `exp`:
 *   words 0-1 expiry (float64, ms)   2 caddr   3 vaddr   4 cport << 16 | vport
 *   5 proto (bits 0-7) | state (8-15) | flags (16-23)   6 destId   7 next in hash chain / free list
 * plus two cold arrays: `ctl` (a connection's controlling template, or -1; a template's n_control)
 * and `tmo` (a template's own timeout, ms), and `heads`, the bucket heads (a power of two at least
 * twice the capacity, so chains average under 1.25 records per hit). Records are 32-byte aligned:
 * a lookup reads one bucket word and one cache line, where one typed array per field would read
 * five to seven lines at a million entries. Total: 52 to 60 bytes per entry of capacity.
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
export const STATE_MASK = 0xff00;
export const S_TEMPLATE_ASSURED = ConnState.TemplateAssured;

const MAX_CAPACITY = 1 << 26;

export type DestResolver = (id: number) => Dest | undefined;

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
  protected readonly heads: Int32Array;
  protected readonly mask: number;
  protected readonly seed: number;
  protected readonly resolve: DestResolver;
  protected protect = -1;
  private readonly evictSample: number;
  private freeHead = 0;
  private count = 0;
  private sweepCursor = 0;
  private evictCursor = 0;

  constructor(capacity: number, seed: number, evictSample: number, resolveDest: DestResolver) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new DsrlbError('E_CONN_CAPACITY',
        `connection table capacity must be an integer in 1..${MAX_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.seed = seed | 0;
    this.evictSample = Math.max(1, Math.floor(evictSample));
    this.resolve = resolveDest;
    const buf = new ArrayBuffer(capacity * 32);
    this.rec = new Int32Array(buf);
    this.exp = new Float64Array(buf);
    this.ctl = new Int32Array(capacity);
    this.tmo = new Float64Array(capacity);
    let nb = 2;
    while (nb < capacity * 2) nb *= 2;
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    this.resetFreeList();
  }

  /** Live entries (connections + templates), expired ones not yet reaped included. */
  get size(): number { return this.count; }

  /** Bytes of typed arrays per entry of capacity. */
  bytesPerEntry(): number {
    const b = this.rec.byteLength + this.ctl.byteLength + this.tmo.byteLength + this.heads.byteLength;
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
   * Incremental sweep over `budget` record slots from where the last call stopped (at most one full
   * pass a call). Removes what is due; a due template that still controls connections is re-armed.
   * Returns the number of entries removed.
   */
  expire(now: number, budget: number): number {
    const cap = this.capacity;
    const n = Math.min(Math.max(0, Math.floor(budget)), cap);
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
      h = h + 1 === cap ? 0 : h + 1;
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
    for (let h = 0; h < this.capacity; h++) {
      const meta = rec[(h << 3) + W_META]!;
      if ((meta & (F_USED | F_TEMPLATE)) === F_USED && rec[(h << 3) + W_DEST] === destId) this.removeEntry(h, true);
    }
    for (let h = 0; h < this.capacity; h++) {
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
    for (let h = 0; h < this.capacity; h++) {
      const meta = this.rec[(h << 3) + W_META]!;
      if ((meta & F_USED) !== 0) this.unbind(h, meta);
    }
    this.heads.fill(-1);
    this.resetFreeList();
    return n;
  }

  protected bucketOf(proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    return flowHash(this.seed, proto, caddr, cport, vaddr, vport) & this.mask;
  }

  /** Writes a record's key and meta and links it at the head of its bucket. */
  protected fill(
    h: number, proto: number, caddr: number, cport: number, vaddr: number, vport: number,
    destId: number, meta: number,
  ): void {
    const rec = this.rec;
    const b = h << 3;
    rec[b + W_CADDR] = caddr | 0;
    rec[b + W_VADDR] = vaddr | 0;
    rec[b + W_PORTS] = (cport << 16) | (vport & 0xffff);
    rec[b + W_META] = meta;
    rec[b + W_DEST] = destId;
    const bucket = this.bucketOf(proto, caddr, cport, vaddr, vport);
    rec[b + W_NEXT] = this.heads[bucket]!;
    this.heads[bucket] = h;
  }

  /** A free record, evicting when full; -1 when nothing can go. */
  protected alloc(now: number): number {
    if (this.freeHead < 0 && !this.evict(now)) {
      this.insertFailures++;
      return -1;
    }
    const h = this.freeHead;
    this.freeHead = this.rec[(h << 3) + W_NEXT]!;
    this.count++;
    return h;
  }

  /**
   * Frees one record of a full table. Looks at up to `evictSample` candidates after a rotating
   * cursor: the first one already due is taken back (an expiry, not an eviction); otherwise the one
   * closest to expiry is evicted. Skips the template being attached and templates that still
   * control connections (their connections would dangle).
   */
  private evict(now: number): boolean {
    const cap = this.capacity;
    let best = -1;
    let bestExp = Infinity;
    let seen = 0;
    let h = this.evictCursor;
    for (let i = 0; i < cap; i++) {
      const cur = h;
      h = h + 1 === cap ? 0 : h + 1;
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
   * Unlinks and frees entry h, fixing its real's counters and its template's n_control.
   * `cascade` is a deletion (eviction, removeDest) rather than an expiry: then a template left
   * controlling nothing, and not assured, is dropped too (unless it is the one being attached).
   */
  protected removeEntry(h: number, cascade: boolean): void {
    const rec = this.rec;
    const b = h << 3;
    const meta = rec[b + W_META]!;
    const ports = rec[b + W_PORTS]!;
    const bucket = this.bucketOf(meta & 0xff, rec[b + W_CADDR]!, ports >>> 16, rec[b + W_VADDR]!, ports & 0xffff);
    let cur = this.heads[bucket]!;
    if (cur === h) {
      this.heads[bucket] = rec[b + W_NEXT]!;
    } else {
      while (cur >= 0) {
        const nx = rec[(cur << 3) + W_NEXT]!;
        if (nx === h) { rec[(cur << 3) + W_NEXT] = rec[b + W_NEXT]!; break; }
        cur = nx;
      }
    }
    this.unbind(h, meta);
    rec[b + W_META] = 0;
    rec[b + W_NEXT] = this.freeHead;
    this.freeHead = h;
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

  private resetFreeList(): void {
    const rec = this.rec;
    const cap = this.capacity;
    for (let h = 0; h < cap; h++) {
      rec[(h << 3) + W_META] = 0;
      rec[(h << 3) + W_NEXT] = h + 1 < cap ? h + 1 : -1;
    }
    this.freeHead = 0;
    this.count = 0;
  }
}
