/**
 * IPv6 reassembly and re-fragmentation as the director's kernel does them around IPVS (checked
 * against Linux 6.1 with the oracle: edges6 cases 19 and 20, and the icmp6 run; replayed by
 * test/replay/oracle-replay6.test.ts and test/replay/icmp6-oracle.test.ts):
 *
 * - nf_defrag_ipv6 (nf_ct_frag6_gather) takes the fragments before IPVS and hands it the whole
 *   datagram: the fragment header gone, the header before it naming what followed it. Fragments
 *   are kept per (source, destination, identification), 60 s at most (nf_conntrack_frag6_timeout),
 *   4 MiB in all. A fragment that partly overlaps one held discards the datagram (RFC 5722); one
 *   that lies inside what is held is a duplicate and is ignored; a non-final fragment whose end
 *   is not a multiple of 8, a second different end, data past the end or past 65535, an empty
 *   fragment: dropped.
 * - The reassembled datagram remembers the size of the largest fragment (frag_max_size) and,
 *   since netfilter's reassembly never merges the pieces, their geometry. IPVS schedules it as one
 *   packet; on the way out ip6_fragment sends it in fragments again, on its fast path as the
 *   pieces that came in, in offset order: each with the first fragment's headers up to the
 *   fragment header (hop limit lowered once), a fresh fragment header with a new random
 *   identification. When no piece can be kept (the unfragmentable part ip6_find_1stfragopt finds
 *   is not the one the fragments had) it cuts the data to max(frag_max_size, 1280) instead; a
 *   datagram no longer than its largest fragment goes out whole.
 *
 * Pure: time is an argument (ms); fragments are copied (they are rare).
 */
import type { Ipv6Info } from '../packet/index.ts';
import { FragQueues, FragResult, type FragQueue } from './frag-queues.ts';

interface Queue extends FragQueue {
  /** Largest fragment's Payload Length. */
  maxPayload: number;
  /** The first fragment's frame up to its fragment header, and where its fixed header starts. */
  head: Uint8Array | null;
  headL3: number;
  /** Offset (in head) of the Next Header byte that named the fragment header, and what followed it. */
  prevNextOff: number;
  next: number;
}

const IPV6_MIN_MTU = 1280;

export class Defragmenter6 extends FragQueues<Queue> {
  private ident = 0x2545f491;
  readonly out = new Uint8Array(65535 + 40 + 18);
  outLen = 0;
  /** frag_max_size of the last datagram: 40 + its largest fragment's Payload Length. */
  outMaxSize = 0;
  /** Bytes from the fixed header to where the fragment header was (the unfragmentable part). */
  outUnfrag = 0;
  /** The pieces of the last datagram: [start, end) in its fragmentable data. */
  readonly outStarts: number[] = [];
  readonly outEnds: number[] = [];

  constructor(o: { timeoutMs?: number; maxBytes?: number; maxQueues?: number } = {}) {
    super(o.timeoutMs ?? 60_000, o.maxQueues ?? 1024, o.maxBytes ?? 4 << 20);
  }

  /** A fragment (not atomic) decoded in `i6`. */
  add(frame: Uint8Array, i6: Ipv6Info, now: number): FragResult {
    const hex = Buffer.from(frame.buffer, frame.byteOffset + i6.srcOff, 32).toString('hex');
    const key = `${hex}:${i6.fragId}`;
    let q = this.live(key, now);
    const dataOff = i6.fragHeaderOff + 8;
    const start = i6.fragOffset * 8;
    const len = i6.l3End - dataOff;
    const end = start + len;
    const last = !i6.moreFragments;
    if (end > 65535 || len <= 0 || (!last && end % 8 !== 0)) {
      if (q !== undefined && !last && end % 8 !== 0) this.discard(key, q);
      return FragResult.Invalid;
    }
    if (q === undefined) {
      const made = this.open(key, () => ({ pieces: [], total: -1, maxPayload: 0, head: null, headL3: 0, prevNextOff: 0, next: 0, bytes: 0, expires: now + this.timeoutMs }));
      if (made === null) return FragResult.Invalid;
      q = made;
    }
    if (last) {
      if ((q.total >= 0 && q.total !== end) || q.pieces.some((p) => p.end > end)) return FragResult.Invalid;
      q.total = end;
    } else if (q.total >= 0 && end > q.total) return FragResult.Invalid;
    // nf_ct_frag6_queue: a fragment inside one already held is a duplicate; any other overlap drops the datagram.
    const r = this.insert(key, q, { start, end, data: frame.slice(dataOff, dataOff + len) }, (p) => start >= p.start && end <= p.end);
    if (r !== null) return r;
    if (i6.payloadLen > q.maxPayload) q.maxPayload = i6.payloadLen;
    if (start === 0) {
      q.head = frame.slice(0, i6.fragHeaderOff);
      q.headL3 = i6.l3Off;
      q.prevNextOff = i6.fragPrevNextOff;
      q.next = frame[i6.fragHeaderOff]!;
    }
    if (q.head === null || !this.whole(q)) return FragResult.Held;
    if (q.head.length - q.headL3 - 40 + q.total > 65535) {
      // nf_ct_frag6_reasm: the headers before the fragment header and the data exceed a Payload Length.
      this.discard(key, q);
      return FragResult.Invalid;
    }
    this.assemble(q);
    this.discard(key, q);
    return FragResult.Complete;
  }

  private assemble(q: Queue): void {
    const head = q.head!;
    const l3 = q.headL3;
    const out = this.out;
    out.set(head, 0);
    out[q.prevNextOff] = q.next;
    const base = head.length;
    for (const p of q.pieces) out.set(p.data, base + p.start);
    const plen = base - l3 - 40 + q.total;
    out[l3 + 4] = plen >>> 8;
    out[l3 + 5] = plen & 0xff;
    this.outLen = base + q.total;
    this.outMaxSize = 40 + q.maxPayload;
    this.outUnfrag = base - l3;
    this.outStarts.length = 0;
    this.outEnds.length = 0;
    for (const p of q.pieces) {
      this.outStarts.push(p.start);
      this.outEnds.push(p.end);
    }
  }

  /** ipv6_select_ident: a new identification, never 0 (xorshift32 here, random in the kernel). */
  private nextIdent(): number {
    let x = this.ident;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.ident = x >>> 0;
    return this.ident === 0 ? this.nextIdent() : this.ident;
  }

  /**
   * ip6_fragment for the datagram reassembled last, now rewritten in `frame` (its Ethernet
   * addresses and hop limit already those of the way out; `l3` its fixed header, `len` its end):
   * writes the fragments into `parts` and returns how many, or 0 when it goes out whole.
   */
  fragment(frame: Uint8Array, l3: number, len: number, parts: Uint8Array[], lens: number[]): number {
    if (len - l3 <= this.outMaxSize) return 0;
    const unfrag = this.outUnfrag;
    const hlen = firstFragOpt(frame, l3, len);
    const dataAt = l3 + unfrag;
    const next = frame[hlen < 0 ? l3 + 6 : prevNext(frame, l3, hlen)]!;
    let starts: readonly number[] = this.outStarts;
    let ends: readonly number[] = this.outEnds;
    if (hlen !== unfrag) {
      // Slow path: cut anew from where the kernel's unfragmentable part ends.
      if (hlen < 0) return 0;
      const mtu = Math.max(this.outMaxSize, IPV6_MIN_MTU) - hlen - 8;
      const data = len - l3 - hlen;
      const s: number[] = [];
      const e: number[] = [];
      for (let at = 0; at < data;) {
        let n = data - at;
        if (n > mtu) n = mtu & ~7;
        s.push(at);
        e.push(at + n);
        at += n;
      }
      starts = s;
      ends = e;
    }
    const base = l3 + hlen;
    const srcData = hlen === unfrag ? dataAt : base;
    const id = this.nextIdent();
    const total = ends[ends.length - 1]!;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i]!;
      const n = ends[i]! - s;
      const size = base + 8 + n;
      let buf = parts[i];
      if (buf === undefined || buf.length < size) buf = parts[i] = new Uint8Array(Math.max(size, 2048));
      buf.set(frame.subarray(0, base), 0);
      buf[prevNext(frame, l3, hlen)] = 44;
      const plen = size - l3 - 40;
      buf[l3 + 4] = plen >>> 8;
      buf[l3 + 5] = plen & 0xff;
      const w = s | (ends[i]! < total ? 1 : 0);
      buf[base] = next;
      buf[base + 1] = 0;
      buf[base + 2] = w >>> 8;
      buf[base + 3] = w & 0xff;
      buf[base + 4] = id >>> 24;
      buf[base + 5] = (id >>> 16) & 0xff;
      buf[base + 6] = (id >>> 8) & 0xff;
      buf[base + 7] = id & 0xff;
      buf.set(frame.subarray(srcData + s, srcData + s + n), base + 8);
      lens[i] = size;
    }
    return starts.length;
  }
}

/**
 * ip6_find_1stfragopt: the length of the unfragmentable part of the IPv6 packet at `l3` (fixed
 * header, hop-by-hop, routing, and destination options not behind a routing header), or -1.
 */
function firstFragOpt(b: Uint8Array, l3: number, end: number): number {
  let off = 40;
  let nh = b[l3 + 6]!;
  let routing = false;
  while (l3 + off <= end) {
    if (nh === 43) routing = true;
    else if (nh !== 0 && (nh !== 60 || routing)) return off;
    if (l3 + off + 2 > end) return -1;
    nh = b[l3 + off]!;
    off += (b[l3 + off + 1]! + 1) * 8;
  }
  return -1;
}

/** The offset of the Next Header byte that names what starts at `l3 + hlen`. */
function prevNext(b: Uint8Array, l3: number, hlen: number): number {
  let at = l3 + 6;
  let off = 40;
  while (off < hlen) {
    at = l3 + off;
    off += (b[l3 + off + 1]! + 1) * 8;
  }
  return at;
}

/**
 * Removes the fragment header of an atomic fragment in place, as reassembly leaves the datagram:
 * the header that named it now names what followed it, the bytes behind it move up by 8 and the
 * Payload Length shrinks by 8. Returns the new end of the packet (the frame's new length).
 */
export function stripFragmentHeader(frame: Uint8Array, i6: Ipv6Info): number {
  const f = i6.fragHeaderOff;
  frame[i6.fragPrevNextOff] = frame[f]!;
  frame.copyWithin(f, f + 8, i6.l3End);
  const plen = i6.payloadLen - 8;
  frame[i6.l3Off + 4] = plen >>> 8;
  frame[i6.l3Off + 5] = plen & 255;
  return i6.l3End - 8;
}
