/**
 * ConnTable: the director's connection table with Linux 6.1 IPVS DR semantics; bounded, pure (time
 * is an argument), allocation-free per packet. Storage, eviction and sweep: store.ts.
 *
 * API (handles are slot numbers below slotCount, valid until the entry is removed; entries never
 * move, but look a flow up again for each packet):
 *   new ConnTable(opts: ConnTableOptions, resolveDest: (id: number) => Dest | undefined)
 *   lookup(proto, caddr, cport, vaddr, vport, now): handle | -1      connections only, never templates
 *   lookup6(proto, key6, cport, vport, now)  create6(proto, key6, cport, vport, destId, now)
 *     the same for a table built with ipv6: true (key6: Int32Array(8), loadKey6); no templates
 *   inputCheck(h, tcpFlags): ConnVerdict                             ip_vs_in's checks on a found conn
 *   newConnExpected(h, connReuseMode?): boolean   remove(h): void    the pieces inputCheck is made of
 *   tcpCanCreate(tcpFlags): boolean                                  SYN, or anything but RST if sloppy_tcp
 *   create(proto, caddr, cport, vaddr, vport, destId, now, template = -1): handle | -1
 *   tcpInput(h, tcpFlags, now): ConnState                            INPUT_ONLY transition + timer
 *   udpInput(h, now): void                                           timer
 *   markSynced(h) isSynced(h)      known from connection sync only, until a packet passes
 *   lookupTemplate(proto, caddrMasked, vaddr, vport, now): handle | -1   applies ip_vs_check_template
 *   createTemplate(proto, caddrMasked, vaddr, vport, destId, timeoutMs, now): handle | -1
 *   expire(now, budget): number (examines `budget` slots; a pass is slotCount = 2 × capacity)
 *   removeDest(destId): number      flush(): number
 *   destId(h) state(h) expiresAt(h) proto(h) isTemplate(h) templateOf(h) nControl(h)
 *   forEach(cb, now?)  size  capacity  slotCount  evictions  expirations  insertFailures
 *   bytesPerEntry()
 *   setTimeouts(partial)  ConnTable.stateName(state)
 *
 * Per packet (ms time `now`, u32 host-order addresses):
 *   h = lookup(...); if (h >= 0) switch (inputCheck(h, flags)) { case Drop: drop; case NoConn: h = -1 }
 *   if (h < 0) { if (TCP && !tcpCanCreate(flags)) not IPVS's packet;
 *     persistent: t = lookupTemplate(proto, caddr & netmask, vaddr, vport, now);
 *                 if (t < 0) { schedule; t = createTemplate(..., persistenceMs, now) }; real = destId(t)
 *     else schedule; h = create(..., real, now, t) }
 *   TCP ? tcpInput(h, flags, now) : udpInput(h, now); forward to destId(h).
 *
 * Semantics (net/netfilter/ipvs/ip_vs_conn.c, ip_vs_core.c, ip_vs_proto_tcp.c):
 * - create binds the real at once with the connection flagged inactive (InActConn + 1), state NONE
 *   (UDP: UDP), timer 3 s; the first packet's tcpInput moves it (SYN → SYN_RECV: now active).
 *   Counters move only when activity flips (TCP_ACTIVE: SYN_RECV, ESTABLISHED, SYN_SENT, SYNACK).
 *   UDP stays inactive. Templates count in persistConns only. After a bind the real gets
 *   DEST_F_OVERLOAD when uThreshold ≠ 0 and active + inactive ≥ uThreshold; after an unbind the
 *   flag is cleared below lThreshold, or (lThreshold 0) below 3/4 of uThreshold, or (no thresholds)
 *   always.
 * - Every packet re-arms the timer: expiresAt = now + timeout(new state). An entry is due when
 *   now ≥ expiresAt. Expiry is lazy (lookups reap what they find due) plus expire(now, budget).
 * - Templates: key (proto, caddr & netmask, port 0, vaddr, vport). Attaching a connection adds to
 *   the template's n_control and re-arms it to its own timeout (ip_vs_conn_put). A due template that
 *   still controls connections is kept and re-armed by 60 s, and 60 s becomes its timeout (the
 *   kernel's expire_later). A connection reaching ESTABLISHED marks its template assured.
 * - Deleting a connection (eviction, removeDest) also drops its template when that is left
 *   controlling nothing and is not assured; expiring one (timer, remove(h), inputCheck) does not.
 * - A resolver answer of undefined means the real was removed: its counters are left alone. Keep
 *   one Dest object per id while entries refer to it (revive it on re-add, like the dest trash).
 * - Bound (our choice; the kernel has none but memory): size never exceeds capacity. A full table
 *   makes create/createTemplate take back a due entry, else evict the live entry closest to
 *   expiry, chosen among `evictSample` (default 32) entries after a rotating cursor: a sampled
 *   approximation of "closest to expiry", O(sample) per insert, no per-packet bookkeeping. A
 *   template still controlling connections and the template being attached are never chosen.
 *   Live victims count in `evictions`; with nothing evictable the insert fails (-1, insertFailures).
 * - Memory: about 100 bytes of typed arrays per entry of capacity (store.ts has the layout).
 */
import type { Dest } from '../model/index.ts';
import { ConnStore, F_INACTIVE, F_INVALID, F_SYNCED, F_TEMPLATE, F_USED, STATE_MASK, S_TEMPLATE_ASSURED,
  W_CADDR, W_DEST, W_META, W_PORTS, W_VADDR, type DestResolver } from './store.ts';
import {
  INPUT_ONLY, NEW_CONN_TIMEOUT_MS, PROTO_TCP, TCP_ACTIVE, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN,
  stateName, timeoutTableMs,
} from './tcp-states.ts';
import { ConnState, ConnVerdict, type ConnEntry, type ConnTableOptions, type ConnTimeouts } from './types.ts';

export type { DestResolver };

const S_ESTABLISHED = ConnState.Established;
const S_FIN_WAIT = ConnState.FinWait;
const S_TIME_WAIT = ConnState.TimeWait;
const S_CLOSE = ConnState.Close;
const S_UDP = ConnState.Udp;
const S_TEMPLATE = ConnState.Template;
const DEFAULT_SEED = 0x2545f491;

export class ConnTable extends ConnStore {
  readonly sloppyTcp: boolean;
  readonly expireNodestConn: boolean;
  readonly expireQuiescentTemplate: boolean;
  readonly connReuseMode: number;
  private tmoTable: Float64Array;
  private readonly view: ConnEntry = {
    handle: -1, proto: 0, caddr: 0, cport: 0, vaddr: 0, vport: 0, destId: 0,
    state: ConnState.None, expiresAt: 0, isTemplate: false, synced: false, nControl: 0, template: -1,
  };

  constructor(opts: ConnTableOptions, resolveDest: DestResolver) {
    super(opts.capacity, opts.hashSeed ?? DEFAULT_SEED, opts.evictSample ?? 32, resolveDest, opts.ipv6 ?? false);
    this.sloppyTcp = opts.sloppyTcp ?? false;
    this.expireNodestConn = opts.expireNodestConn ?? false;
    this.expireQuiescentTemplate = opts.expireQuiescentTemplate ?? false;
    this.connReuseMode = opts.connReuseMode ?? 1;
    this.tmoTable = timeoutTableMs(opts.timeouts);
  }

  static stateName(state: number): string { return stateName(state); }

  /** Later transitions use these timeouts (defaults for what is left out); running timers stay. */
  setTimeouts(t: Partial<ConnTimeouts>): void { this.tmoTable = timeoutTableMs(t); }

  /** Whether a TCP packet with these flags may create a connection (tcp_conn_schedule). */
  tcpCanCreate(tcpFlags: number): boolean {
    return (tcpFlags & TCP_RST) === 0 && (this.sloppyTcp || (tcpFlags & TCP_SYN) !== 0);
  }

  /** The connection of this flow, or -1. One found due is reaped and reported absent. */
  lookup(proto: number, caddr: number, cport: number, vaddr: number, vport: number, now: number): number {
    const h = this.find(proto, caddr, cport, vaddr, vport, 0xff | F_USED | F_TEMPLATE, proto | F_USED);
    if (h >= 0 && this.exp[h << 2]! <= now) {
      this.expirations++;
      this.removeEntry(h, false);
      return -1;
    }
    return h;
  }

  /**
   * lookup() for an IPv6 flow in a table built with ipv6: true. `key` holds the client address
   * (words 0-3) and the virtual address (words 4-7) as loadKey6 writes them; flows whose addresses
   * only fold alike are different flows.
   */
  lookup6(proto: number, key: Int32Array, cport: number, vport: number, now: number): number {
    const h = this.find6(proto, key, cport, vport, 0xff | F_USED | F_TEMPLATE, proto | F_USED);
    if (h >= 0 && this.exp[h << 2]! <= now) {
      this.expirations++;
      this.removeEntry(h, false);
      return -1;
    }
    return h;
  }

  /**
   * create() for an IPv6 flow (no template) in a table built with ipv6: true: stores the folds in
   * the record and `key` beside it.
   */
  create6(proto: number, key: Int32Array, cport: number, vport: number, destId: number, now: number): number {
    const c = key[0]! ^ key[1]! ^ key[2]! ^ key[3]!;
    const v = key[4]! ^ key[5]! ^ key[6]! ^ key[7]!;
    const h = this.create(proto, c, cport, v, vport, destId, now);
    if (h >= 0) this.setKey6(h, key);
    return h;
  }

  /**
   * The usable template for (proto, caddr & netmask, vaddr, vport), or -1. Applies
   * ip_vs_check_template: a template whose real is unknown to the resolver, not available (removed),
   * or at weight 0 while expireQuiescentTemplate is set, is invalidated and -1 returned, so the
   * client gets scheduled afresh. Without expireQuiescentTemplate (the default) a template keeps
   * pointing at its quiescent (weight 0) real. An invalidated template is removed at once when it
   * controls nothing; else it stays, hidden from lookups, until it expires after its connections.
   * A due template is reaped, unless it still controls connections (then re-armed by 60 s).
   */
  lookupTemplate(proto: number, caddrMasked: number, vaddr: number, vport: number, now: number): number {
    const h = this.find(proto, caddrMasked, 0, vaddr, vport, 0xff | F_USED | F_TEMPLATE | F_INVALID,
      proto | F_USED | F_TEMPLATE);
    if (h < 0) return -1;
    if (this.exp[h << 2]! <= now) {
      if (this.ctl[h]! === 0) {
        this.expirations++;
        this.removeEntry(h, false);
        return -1;
      }
      this.rearmTemplate(h, now);
    }
    const b = h << 3;
    const d = this.resolve(this.rec[b + W_DEST]!);
    if (d === undefined || !d.available || (this.expireQuiescentTemplate && d.weight === 0)) {
      if (this.ctl[h] === 0) this.removeEntry(h, false);
      else this.rec[b + W_META] = this.rec[b + W_META]! | F_INVALID;
      return -1;
    }
    return h;
  }

  /**
   * is_new_conn_expected (6.1) for a TCP SYN on connection h, with the caller's `!cp->control`
   * folded in: h is not controlled by a template and is in TIME_WAIT or CLOSE, or in FIN_WAIT when
   * connReuseMode has bit 2 (DR connections have no output side). Always false for UDP.
   */
  newConnExpected(h: number, connReuseMode = this.connReuseMode): boolean {
    const meta = this.rec[(h << 3) + W_META]!;
    if ((meta & 0xff) !== PROTO_TCP || this.ctl[h]! >= 0 || connReuseMode === 0) return false;
    const st = (meta & STATE_MASK) >>> 8;
    return st === S_TIME_WAIT || st === S_CLOSE || ((connReuseMode & 2) !== 0 && st === S_FIN_WAIT);
  }

  /**
   * Expires connection (or template without connections) h now: ip_vs_conn_expire_now. Counters
   * and its template's n_control are fixed; the template itself stays.
   */
  remove(h: number): void {
    if ((this.rec[(h << 3) + W_META]! & F_USED) === 0) return;
    if (this.isTemplate(h) && this.ctl[h]! > 0) return;
    this.removeEntry(h, false);
  }

  /**
   * ip_vs_in's checks (Linux 6.1) on a connection lookup() found, before its state is updated:
   * 1. A TCP SYN (any packet with SYN set, as is_new_conn) on a connection no template controls:
   *    if expireNodestConn is set and its real has weight 0, or if newConnExpected(h) (port reuse
   *    of a finished connection), the connection is expired at once and NoConn returned: the SYN is
   *    then scheduled as a new flow.
   * 2. Its real is no longer available (resolver gives undefined, or available = false):
   *    - expireNodestConn set: the connection is expired at once and NoConn returned; the packet
   *      goes on as the first of a new flow (a SYN, or with sloppy_tcp anything but a RST, gets a
   *      live real; other packets are not IPVS's and go to the local stack in the kernel). 6.1
   *      drops the packet instead only when it has a confirmed conntrack entry, which a userspace
   *      director never has.
   *    - expireNodestConn clear (the default): Drop. The packet is dropped, the connection keeps
   *      its timer as it was (not re-armed, no state change) and goes when that runs out.
   * 3. Otherwise Forward: apply tcpInput/udpInput and send to destId(h).
   */
  inputCheck(h: number, tcpFlags: number): ConnVerdict {
    const d = this.resolve(this.rec[(h << 3) + W_DEST]!);
    if ((tcpFlags & TCP_SYN) !== 0 && (this.rec[(h << 3) + W_META]! & 0xff) === PROTO_TCP && this.ctl[h]! < 0) {
      if ((this.expireNodestConn && d !== undefined && d.weight === 0) || this.newConnExpected(h)) {
        this.removeEntry(h, false);
        return ConnVerdict.NoConn;
      }
    }
    if (d === undefined || !d.available) {
      if (!this.expireNodestConn) return ConnVerdict.Drop;
      this.removeEntry(h, false);
      return ConnVerdict.NoConn;
    }
    return ConnVerdict.Forward;
  }

  /**
   * Applies one client → server packet to TCP connection h with the INPUT_ONLY table, re-arms its
   * timer, moves the real's active/inactive counters when activity flips, marks its template
   * assured on reaching ESTABLISHED. Returns the new state.
   */
  tcpInput(h: number, tcpFlags: number, now: number): ConnState {
    const rec = this.rec;
    const b = h << 3;
    let meta = rec[b + W_META]!;
    if ((meta & F_SYNCED) !== 0) rec[b + W_META] = meta &= ~F_SYNCED;
    const st = (meta & STATE_MASK) >>> 8;
    const row = (tcpFlags & TCP_RST) !== 0 ? 3 : (tcpFlags & TCP_SYN) !== 0 ? 0
      : (tcpFlags & TCP_FIN) !== 0 ? 1 : (tcpFlags & TCP_ACK) !== 0 ? 2 : -1;
    const ns = row < 0 ? S_CLOSE : INPUT_ONLY[row * 11 + st]!;
    if (ns !== st) {
      const inactive = (meta & F_INACTIVE) !== 0;
      if (inactive === (TCP_ACTIVE[ns] === 1)) {
        const d = this.resolve(rec[b + W_DEST]!);
        if (inactive) {
          if (d !== undefined) { d.activeConns++; d.inactConns--; }
          meta &= ~F_INACTIVE;
        } else {
          if (d !== undefined) { d.activeConns--; d.inactConns++; }
          meta |= F_INACTIVE;
        }
      }
      if (ns === S_ESTABLISHED) {
        const t = this.ctl[h]!;
        if (t >= 0) {
          const tb = (t << 3) + W_META;
          rec[tb] = (rec[tb]! & ~STATE_MASK) | (S_TEMPLATE_ASSURED << 8);
        }
      }
      rec[b + W_META] = (meta & ~STATE_MASK) | (ns << 8);
    }
    this.exp[h << 2] = now + this.tmoTable[ns]!;
    return ns as ConnState;
  }

  /** Applies one client → server UDP packet: re-arms the timer to the UDP timeout. */
  udpInput(h: number, now: number): void {
    const b = (h << 3) + W_META;
    const meta = this.rec[b]!;
    if ((meta & F_SYNCED) !== 0) this.rec[b] = meta & ~F_SYNCED;
    this.exp[h << 2] = now + this.tmoTable[S_UDP]!;
  }

  /**
   * Marks connection h as known from connection sync only (after the import applied its state
   * with tcpInput/udpInput): the next packet of the flow through here clears the mark.
   */
  markSynced(h: number): void {
    this.rec[(h << 3) + W_META] = this.rec[(h << 3) + W_META]! | F_SYNCED;
  }

  /** True while connection h is known from connection sync only (markSynced, no packet since). */
  isSynced(h: number): boolean {
    return (this.rec[(h << 3) + W_META]! & F_SYNCED) !== 0;
  }

  /**
   * A new connection to real `destId`: state NONE (TCP; UDP for anything else), 3 s timer until
   * its first packet is applied, counted inactive. With `template` ≥ 0 it is controlled by that
   * template, whose n_control grows and whose timer is re-armed to its timeout. The caller has
   * made sure with lookup() that the flow is absent. -1 only when the table is full and nothing
   * can be evicted.
   */
  create(
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
    destId: number, now: number, template = -1,
  ): number {
    const st = proto === PROTO_TCP ? ConnState.None : S_UDP;
    this.protect = template;
    const h = this.insert(proto, caddr, cport, vaddr, vport, destId, proto | (st << 8) | F_USED | F_INACTIVE, now);
    this.protect = -1;
    if (template >= 0) this.exp[template << 2] = now + this.tmo[template]!;
    if (h < 0) return -1;
    this.exp[h << 2] = now + NEW_CONN_TIMEOUT_MS;
    this.ctl[h] = template;
    if (template >= 0) this.ctl[template]++;
    const d: Dest | undefined = this.resolve(destId);
    if (d !== undefined) {
      d.inactConns++;
      this.bindCheck(d);
    }
    return h;
  }

  /** A persistence template (client port 0) pointing at `destId`, due `timeoutMs` after `now`. */
  createTemplate(
    proto: number, caddrMasked: number, vaddr: number, vport: number,
    destId: number, timeoutMs: number, now: number,
  ): number {
    const h = this.insert(proto, caddrMasked, 0, vaddr, vport, destId, proto | (S_TEMPLATE << 8) | F_USED | F_TEMPLATE, now);
    if (h < 0) return -1;
    this.exp[h << 2] = now + timeoutMs;
    this.tmo[h] = timeoutMs;
    this.ctl[h] = 0;
    const d = this.resolve(destId);
    if (d !== undefined) {
      d.persistConns++;
      this.bindCheck(d);
    }
    return h;
  }

  /**
   * Calls `cb` for every entry, as `ipvsadm -L -n -c` lists them. The object passed is reused: copy
   * what you keep. With `now`, entries already due (and not kept by their connections) are skipped.
   * Invalidated templates are listed too (the kernel lists them, with real port 65535).
   */
  forEach(cb: (e: Readonly<ConnEntry>) => void, now?: number): void {
    const rec = this.rec;
    const e = this.view;
    for (let h = 0; h < this.slotCount; h++) {
      const b = h << 3;
      const meta = rec[b + W_META]!;
      if ((meta & F_USED) === 0) continue;
      const tpl = (meta & F_TEMPLATE) !== 0;
      if (now !== undefined && this.exp[h << 2]! <= now && !(tpl && this.ctl[h]! > 0)) continue;
      e.handle = h;
      e.proto = meta & 0xff;
      e.caddr = rec[b + W_CADDR]! >>> 0;
      e.vaddr = rec[b + W_VADDR]! >>> 0;
      e.cport = rec[b + W_PORTS]! >>> 16;
      e.vport = rec[b + W_PORTS]! & 0xffff;
      e.destId = rec[b + W_DEST]!;
      e.state = ((meta & STATE_MASK) >>> 8) as ConnState;
      e.expiresAt = this.exp[h << 2]!;
      e.isTemplate = tpl;
      e.synced = (meta & F_SYNCED) !== 0;
      e.nControl = tpl ? this.ctl[h]! : 0;
      e.template = tpl ? -1 : this.ctl[h]!;
      cb(e);
    }
  }
}

/**
 * Writes the lookup key of an IPv6 flow: the 16 bytes at `srcOff` (client) and `dstOff` (virtual
 * address) of `buf` as eight big-endian int32 words. No allocation.
 */
export function loadKey6(buf: Uint8Array, srcOff: number, dstOff: number, key: Int32Array): Int32Array {
  for (let i = 0; i < 4; i++) {
    const s = srcOff + 4 * i;
    const d = dstOff + 4 * i;
    key[i] = (buf[s]! << 24) | (buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!;
    key[4 + i] = (buf[d]! << 24) | (buf[d + 1]! << 16) | (buf[d + 2]! << 8) | buf[d + 3]!;
  }
  return key;
}
