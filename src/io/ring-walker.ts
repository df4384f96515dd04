/**
 * The JavaScript half of the packet ring (pure: no system call, no native code; the addon only maps
 * the memory). It reads the kernel's slot headers straight from the mapping, hands each ready frame
 * to a callback as a Buffer view over the slot (no copy), and gives the slot back to the kernel by
 * writing its status. The TX writer fills TX slots the same way; the addon's flush() sends them.
 *
 * Every header field is distrusted: a slot whose lengths or offsets would reach outside its own slot
 * (or block) is dropped and counted in `bad`, never read past. Statuses are read and written with
 * Atomics (sequentially consistent): the kernel writes a frame's data before its status, so the data
 * is complete once TP_STATUS_USER is seen.
 *
 * Layouts (linux/if_packet.h, little-endian on the machines this runs on):
 *   tpacket2_hdr (32 B): status u32 @0, len u32 @4, snaplen u32 @8, mac u16 @12, net u16 @14,
 *                        sec u32 @16, nsec u32 @20, vlan_tci u16 @24, vlan_tpid u16 @26
 *   tpacket_block_desc:  version u32 @0, offset_to_priv u32 @4, then tpacket_hdr_v1: block_status
 *                        u32 @8, num_pkts u32 @12, offset_to_first_pkt u32 @16, blk_len u32 @20 …
 *   tpacket3_hdr (48 B): next_offset u32 @0, sec u32 @4, nsec u32 @8, snaplen u32 @12, len u32 @16,
 *                        status u32 @20, mac u16 @24, net u16 @26 …
 */

export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_COPY = 2;
export const TP_STATUS_LOSING = 4;
/** TX slot statuses. */
export const TP_STATUS_AVAILABLE = 0;
export const TP_STATUS_SEND_REQUEST = 1;
export const TP_STATUS_SENDING = 2;
export const TP_STATUS_WRONG_FORMAT = 4;

export const TPACKET2_HDR_SIZE = 32;
export const TPACKET3_HDR_SIZE = 48;
/** Where a V2 TX frame's data starts: TPACKET2_HDRLEN (52) - sizeof(sockaddr_ll) (20). */
export const TX_DATA_OFFSET = 32;
/** Smallest frame the TX writer accepts (an Ethernet header). */
export const MIN_TX_FRAME = 14;

export interface RxGeometry {
  version: 2 | 3;
  blockSize: number;
  blockNr: number;
  /** V2: slot size. V3: only the kernel's sizing hint (frames are packed in blocks). */
  frameSize: number;
}

export interface TxGeometry {
  blockSize: number;
  blockNr: number;
  frameSize: number;
}

/** Called for every good frame: a view of its bytes, its length, the kernel's receive time. */
export type RingFrameFn = (frame: Buffer, len: number, sec: number, nsec: number) => void;

export interface WalkCounters {
  /** Frames handed to the callback. */
  frames: number;
  /** Slots (V2) or blocks/frames (V3) dropped because their header did not make sense. */
  bad: number;
  /** Frames longer than what the slot held (tp_snaplen < tp_len) or copied aside: dropped. */
  truncated: number;
  /** Exceptions thrown by the callback (caught here: the walk goes on). */
  callbackErrors: number;
}

export interface RxWalker {
  readonly counters: WalkCounters;
  /** True when the next slot (V2) or block (V3) belongs to userspace. */
  ready(): boolean;
  /** Walks up to `max` ready frames (V3: whole blocks), releasing each; returns frames seen. */
  walk(max: number, fn: RingFrameFn): number;
}

function checkGeometry(byteLength: number, g: { blockSize: number; blockNr: number; frameSize: number }): void {
  const ok =
    Number.isInteger(g.blockSize) && Number.isInteger(g.blockNr) && Number.isInteger(g.frameSize) &&
    g.blockSize > 0 && g.blockNr > 0 && g.frameSize >= TPACKET3_HDR_SIZE && g.frameSize % 16 === 0 &&
    g.blockSize % g.frameSize === 0 && g.blockSize % 4 === 0 && g.blockSize * g.blockNr <= byteLength;
  if (!ok) throw new RangeError(`ring geometry ${JSON.stringify(g)} does not fit a ${byteLength}-byte mapping`);
}

class V2Walker implements RxWalker {
  readonly counters: WalkCounters = { frames: 0, bad: 0, truncated: 0, callbackErrors: 0 };
  private readonly u32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly offsets: Uint32Array;
  private readonly views: (Buffer | null)[];
  private readonly viewMac: Uint16Array;
  private readonly frameNr: number;
  private cursor = 0;

  constructor(private readonly buf: ArrayBuffer, private readonly g: RxGeometry) {
    checkGeometry(buf.byteLength, g);
    const perBlock = g.blockSize / g.frameSize;
    this.frameNr = perBlock * g.blockNr;
    this.offsets = new Uint32Array(this.frameNr);
    for (let i = 0; i < this.frameNr; i++) this.offsets[i] = Math.floor(i / perBlock) * g.blockSize + (i % perBlock) * g.frameSize;
    this.u32 = new Int32Array(buf, 0, (g.blockSize * g.blockNr) >>> 2);
    this.u16 = new Uint16Array(buf, 0, (g.blockSize * g.blockNr) >>> 1);
    this.views = new Array<Buffer | null>(this.frameNr).fill(null);
    this.viewMac = new Uint16Array(this.frameNr);
  }

  ready(): boolean {
    return (Atomics.load(this.u32, this.offsets[this.cursor]! >>> 2) & TP_STATUS_USER) !== 0;
  }

  walk(max: number, fn: RingFrameFn): number {
    const c = this.counters;
    const fs = this.g.frameSize;
    let n = 0;
    while (n < max) {
      const i = this.cursor;
      const off = this.offsets[i]!;
      const w = off >>> 2;
      const status = Atomics.load(this.u32, w);
      if ((status & TP_STATUS_USER) === 0) break;
      n++;
      const len = this.u32[w + 1]! >>> 0;
      const snap = this.u32[w + 2]! >>> 0;
      const mac = this.u16[(off >>> 1) + 6]!;
      if (mac < TPACKET2_HDR_SIZE || snap === 0 || snap > fs - mac || snap > len) {
        c.bad++;
      } else if (snap < len || (status & TP_STATUS_COPY) !== 0) {
        c.truncated++;
      } else {
        let view = this.views[i]!;
        if (view === null || this.viewMac[i] !== mac) {
          view = Buffer.from(this.buf, off + mac, fs - mac);
          this.views[i] = view;
          this.viewMac[i] = mac;
        }
        c.frames++;
        try {
          fn(view, snap, this.u32[w + 4]! >>> 0, this.u32[w + 5]! >>> 0);
        } catch {
          c.callbackErrors++;
        }
      }
      Atomics.store(this.u32, w, TP_STATUS_KERNEL);
      this.cursor = i + 1 === this.frameNr ? 0 : i + 1;
    }
    return n;
  }
}

class V3Walker implements RxWalker {
  readonly counters: WalkCounters = { frames: 0, bad: 0, truncated: 0, callbackErrors: 0 };
  private readonly u32: Int32Array;
  private readonly u16: Uint16Array;
  private block = 0;

  constructor(private readonly buf: ArrayBuffer, private readonly g: RxGeometry) {
    checkGeometry(buf.byteLength, g);
    this.u32 = new Int32Array(buf, 0, (g.blockSize * g.blockNr) >>> 2);
    this.u16 = new Uint16Array(buf, 0, (g.blockSize * g.blockNr) >>> 1);
  }

  ready(): boolean {
    return (Atomics.load(this.u32, ((this.block * this.g.blockSize) >>> 2) + 2) & TP_STATUS_USER) !== 0;
  }

  walk(max: number, fn: RingFrameFn): number {
    const c = this.counters;
    const bs = this.g.blockSize;
    let n = 0;
    // Whole blocks only: a block goes back to the kernel as one piece.
    while (n < max) {
      const base = this.block * bs;
      const bw = (base >>> 2) + 2;
      if ((Atomics.load(this.u32, bw) & TP_STATUS_USER) === 0) break;
      const num = this.u32[bw + 1]! >>> 0;
      let rel = this.u32[bw + 2]! >>> 0;
      for (let k = 0; k < num; k++) {
        n++;
        // The frame header must lie inside the block, 4-byte aligned, and its data too.
        if (rel % 4 !== 0 || rel < 24 || rel > bs - TPACKET3_HDR_SIZE) {
          c.bad += num - k;
          break;
        }
        const off = base + rel;
        const w = off >>> 2;
        const next = this.u32[w]! >>> 0;
        const snap = this.u32[w + 3]! >>> 0;
        const len = this.u32[w + 4]! >>> 0;
        const status = this.u32[w + 5]! >>> 0;
        const mac = this.u16[(off >>> 1) + 12]!;
        if (mac < TPACKET3_HDR_SIZE || snap === 0 || snap > len || snap > bs - rel - mac) {
          c.bad++;
        } else if (snap < len || (status & TP_STATUS_COPY) !== 0) {
          c.truncated++;
        } else {
          c.frames++;
          try {
            fn(Buffer.from(this.buf, off + mac, snap), snap, this.u32[w + 1]! >>> 0, this.u32[w + 2]! >>> 0);
          } catch {
            c.callbackErrors++;
          }
        }
        if (k + 1 < num) {
          if (next === 0) {
            c.bad += num - k - 1;
            break;
          }
          rel += next;
        }
      }
      Atomics.store(this.u32, bw, TP_STATUS_KERNEL);
      this.block = this.block + 1 === this.g.blockNr ? 0 : this.block + 1;
      if (num === 0) n++; // an empty retired block still counts as work, so the loop ends
    }
    return n;
  }
}

export function createRxWalker(buf: ArrayBuffer, g: RxGeometry): RxWalker {
  return g.version === 3 ? new V3Walker(buf, g) : new V2Walker(buf, g);
}

export const TX_OK = 0;
export const TX_TOO_BIG = -1;
export const TX_FULL = -2;
export const TX_CLOSED = -3;

/**
 * Fills V2 TX slots in ring order (the kernel sends them in the same order from its own head, so the
 * two stay in step). Bounds are checked here before every write.
 */
export class TxWriter {
  /** Slots written since the last flush. */
  pending = 0;
  readonly maxFrame: number;
  readonly frameNr: number;
  private readonly u8: Uint8Array;
  private readonly u32: Int32Array;
  private readonly offsets: Uint32Array;
  private cursor = 0;

  constructor(private readonly buf: ArrayBuffer, g: TxGeometry) {
    checkGeometry(buf.byteLength, g);
    const perBlock = g.blockSize / g.frameSize;
    this.frameNr = perBlock * g.blockNr;
    this.offsets = new Uint32Array(this.frameNr);
    for (let i = 0; i < this.frameNr; i++) this.offsets[i] = Math.floor(i / perBlock) * g.blockSize + (i % perBlock) * g.frameSize;
    this.u8 = new Uint8Array(buf, 0, g.blockSize * g.blockNr);
    this.u32 = new Int32Array(buf, 0, (g.blockSize * g.blockNr) >>> 2);
    this.maxFrame = g.frameSize - TX_DATA_OFFSET;
  }

  /**
   * True when the last slot written is still waiting for the kernel (TP_STATUS_SEND_REQUEST): a
   * send() stopped early (socket send buffer full) and the rest must be sent by another flush.
   */
  unsent(): boolean {
    if (this.buf.byteLength === 0) return false;
    const last = this.cursor === 0 ? this.frameNr - 1 : this.cursor - 1;
    return Atomics.load(this.u32, this.offsets[last]! >>> 2) === TP_STATUS_SEND_REQUEST;
  }

  /** Copies frame[0..len) into the next slot and marks it for sending. TX_OK or a TX_* failure. */
  write(frame: Uint8Array, len: number): number {
    if (this.buf.byteLength === 0) return TX_CLOSED; // detached: the ring was closed
    if (!(len >= MIN_TX_FRAME && len <= this.maxFrame && len <= frame.length)) return TX_TOO_BIG;
    const off = this.offsets[this.cursor]!;
    const w = off >>> 2;
    if (Atomics.load(this.u32, w) !== TP_STATUS_AVAILABLE) return TX_FULL;
    const at = off + TX_DATA_OFFSET;
    if (at + len > this.u8.length) return TX_TOO_BIG;
    if (Buffer.isBuffer(frame)) frame.copy(this.u8, at, 0, len);
    else this.u8.set(len === frame.length ? frame : frame.subarray(0, len), at);
    this.u32[w + 1] = len;
    this.u32[w + 2] = len;
    Atomics.store(this.u32, w, TP_STATUS_SEND_REQUEST);
    this.cursor = this.cursor + 1 === this.frameNr ? 0 : this.cursor + 1;
    this.pending++;
    return TX_OK;
  }
}
