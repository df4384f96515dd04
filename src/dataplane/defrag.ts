/**
 * IPv4 reassembly and re-fragmentation as the director's kernel does them for IPVS (checked with the
 * oracle, test/fixtures/ipvs-oracle/edges): the VIP is a local address, so ip_local_deliver
 * reassembles a fragmented datagram before IPVS sees it; IPVS schedules the whole datagram and the
 * DR transmit sends it out again in fragments no larger than the largest fragment that came in
 * (IPCB frag_max_size) or the link MTU.
 *
 * - fragments are kept per (source, destination, protocol, identification), bounded in queues and
 *   bytes (net.ipv4.ipfrag_high_thresh 4 MiB), dropped after ipfrag_time (30 s);
 * - an overlap discards the whole datagram (Linux since 4.19); an exact duplicate is ignored;
 * - a datagram that would exceed 65535 bytes, or a second "last" fragment that disagrees, discards it.
 *
 * Pure: time is an argument (ms). Fragments are copied (they are rare); the hot path never comes here.
 */
import { setIpv4HeaderChecksum, type FrameInfo } from '../packet/index.ts';
import { FragQueues, FragResult, type FragQueue } from './frag-queues.ts';

export interface DefragOptions {
  timeoutMs?: number;
  maxQueues?: number;
  maxBytes?: number;
}

export { FragResult };

interface Queue extends FragQueue {
  /** Largest fragment seen (IPv4 total length): the kernel's frag_max_size. */
  maxSize: number;
  /** Link and IPv4 header of the fragment at offset 0, once seen. */
  head: Uint8Array | null;
  headL3: number;
  headHl: number;
}

export class Defragmenter extends FragQueues<Queue> {
  /** The last complete datagram, as one frame. */
  out = new Uint8Array(65535 + 18);
  outLen = 0;
  /** frag_max_size of the last complete datagram. */
  outMaxSize = 0;

  constructor(o: DefragOptions = {}) {
    super(o.timeoutMs ?? 30_000, o.maxQueues ?? 1024, o.maxBytes ?? 4 << 20);
  }

  add(frame: Uint8Array, info: FrameInfo, now: number): FragResult {
    const key = `${info.ipSrc}:${info.ipDst}:${info.ipProto}:${(frame[info.l3Off + 4]! << 8) | frame[info.l3Off + 5]!}`;
    let q = this.live(key, now);
    const hl = info.ipHeaderLen;
    const start = info.fragOffset * 8;
    const len = info.ipTotalLen - hl;
    const end = start + len;
    const last = !info.moreFragments;
    if (end > 65535 - hl || (!last && len % 8 !== 0) || len === 0) {
      if (q) this.discard(key, q);
      return FragResult.Invalid;
    }
    if (q === undefined) {
      const made = this.open(key, () => ({ pieces: [], total: -1, maxSize: 0, head: null, headL3: 0, headHl: 0, bytes: 0, expires: now + this.timeoutMs }));
      if (made === null) return FragResult.Invalid;
      q = made;
    }
    if (last) {
      if ((q.total >= 0 && q.total !== end) || q.pieces.some((p) => p.end > end)) {
        this.discard(key, q);
        return FragResult.Invalid;
      }
      q.total = end;
    } else if (q.total >= 0 && end > q.total) {
      this.discard(key, q);
      return FragResult.Invalid;
    }
    // ip_frag_queue: only an exact duplicate is ignored; any other overlap drops the datagram.
    const r = this.insert(key, q, { start, end, data: frame.slice(info.l3Off + hl, info.l3Off + hl + len) }, (p) => p.start === start && p.end === end);
    if (r !== null) return r;
    if (info.ipTotalLen > q.maxSize) q.maxSize = info.ipTotalLen;
    if (start === 0) {
      q.head = frame.slice(0, info.l3Off + hl);
      q.headL3 = info.l3Off;
      q.headHl = hl;
    }
    if (q.head === null || !this.whole(q)) return FragResult.Held;
    this.assemble(q);
    this.discard(key, q);
    return FragResult.Complete;
  }

  private assemble(q: Queue): void {
    const head = q.head!;
    const l3 = q.headL3;
    const hl = q.headHl;
    const total = hl + q.total;
    const out = this.out;
    out.set(head, 0);
    for (const p of q.pieces) out.set(p.data, l3 + hl + p.start);
    out[l3 + 2] = total >>> 8;
    out[l3 + 3] = total & 0xff;
    out[l3 + 6] &= 0x40; // keep DF, clear MF and the offset
    out[l3 + 7] = 0;
    setIpv4HeaderChecksum(out, l3);
    this.outLen = l3 + total;
    this.outMaxSize = q.maxSize;
  }
}

/**
 * Splits the IPv4 packet in `frame` (link header of `l3Off` bytes, IPv4 header of `hl`) into
 * fragments of at most `mtu` bytes of IPv4 each, as ip_do_fragment does: every fragment but the
 * last carries a multiple of 8 bytes; each gets a copy of the link and IPv4 headers with its own
 * length, offset, MF flag and checksum. Writes them into `parts` (reused buffers) and returns how
 * many. A packet that fits is one part, unchanged but for nothing.
 */
export function fragmentPacket(frame: Uint8Array, l3Off: number, hl: number, mtu: number, parts: Uint8Array[], lens: number[]): number {
  const total = (frame[l3Off + 2]! << 8) | frame[l3Off + 3]!;
  const payload = total - hl;
  const step = Math.max(8, (mtu - hl) & ~7);
  const baseOff = ((frame[l3Off + 6]! << 8) | frame[l3Off + 7]!) & 0x1fff;
  const baseMf = (frame[l3Off + 6]! & 0x20) !== 0;
  let n = 0;
  for (let at = 0; at < payload || (payload === 0 && n === 0); at += step) {
    const len = Math.min(step, payload - at);
    const size = l3Off + hl + len;
    let buf = parts[n];
    if (buf === undefined || buf.length < size) buf = parts[n] = new Uint8Array(Math.max(size, 2048));
    buf.set(frame.subarray(0, l3Off + hl), 0);
    buf.set(frame.subarray(l3Off + hl + at, l3Off + hl + at + len), l3Off + hl);
    const t = hl + len;
    buf[l3Off + 2] = t >>> 8;
    buf[l3Off + 3] = t & 0xff;
    const more = at + len < payload || baseMf;
    const off = baseOff + at / 8;
    buf[l3Off + 6] = (frame[l3Off + 6]! & 0x40) | (more ? 0x20 : 0) | ((off >> 8) & 0x1f);
    buf[l3Off + 7] = off & 0xff;
    setIpv4HeaderChecksum(buf, l3Off);
    lens[n] = size;
    n++;
    if (payload === 0) break;
  }
  return n;
}
