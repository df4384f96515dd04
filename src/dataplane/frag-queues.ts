/**
 * What IPv4 and IPv6 reassembly share (defrag.ts, defrag6.ts): datagrams in progress keyed by
 * their identity, each a list of pieces [start, end) of its data; a time limit per datagram, a
 * number of datagrams and a byte budget for all; overlap discards the datagram, as Linux does since
 * it refuses overlapping fragments (RFC 5722 for IPv6). What a duplicate is, and when a datagram
 * is inconsistent, differs by family and stays with each defragmenter.
 */

export const enum FragResult {
  /** Kept, waiting for the rest. */
  Held = 0,
  /** The datagram is complete: the defragmenter's `out` holds it as one frame. */
  Complete = 1,
  /** It overlapped a fragment already held: the whole datagram is gone. */
  Overlap = 2,
  /** Inconsistent (too long, two different ends, …) or no room: the datagram is gone. */
  Invalid = 3,
}

export interface FragPiece { start: number; end: number; data: Uint8Array }

export interface FragQueue {
  pieces: FragPiece[];
  /** Data length once the last fragment is known, else -1. */
  total: number;
  bytes: number;
  expires: number;
}

/** The base of each family's defragmenter: held datagrams, their limits and expiry. */
export class FragQueues<Q extends FragQueue> {
  private readonly queues = new Map<string, Q>();
  private bytes = 0;
  /** Datagrams dropped because their time ran out. */
  timeouts = 0;

  constructor(protected readonly timeoutMs: number, private readonly maxQueues: number, private readonly maxBytes: number) {}

  get held(): number {
    return this.queues.size;
  }

  /** The live datagram under `key`; one whose time ran out is dropped (and counted) first. */
  protected live(key: string, now: number): Q | undefined {
    const q = this.queues.get(key);
    if (q !== undefined && q.expires <= now) {
      this.discard(key, q);
      this.timeouts++;
      return undefined;
    }
    return q;
  }

  /** A new datagram under `key` (made by `make`), or null when the table holds as many as it may. */
  protected open(key: string, make: () => Q): Q | null {
    if (this.queues.size >= this.maxQueues) return null;
    const q = make();
    this.queues.set(key, q);
    return q;
  }

  /**
   * Adds a piece unless it is a duplicate (`isDuplicate` of a held piece: Held) or overlaps one
   * (Overlap) or would pass the byte budget (Invalid); the last two drop the datagram. null: added.
   */
  protected insert(key: string, q: Q, piece: FragPiece, isDuplicate: (held: FragPiece) => boolean): FragResult | null {
    const { start, end } = piece;
    for (const p of q.pieces) {
      if (isDuplicate(p)) return FragResult.Held;
      if (start < p.end && p.start < end) {
        this.discard(key, q);
        return FragResult.Overlap;
      }
    }
    const len = end - start;
    if (this.bytes + len > this.maxBytes) {
      this.discard(key, q);
      return FragResult.Invalid;
    }
    q.pieces.push(piece);
    q.bytes += len;
    this.bytes += len;
    return null;
  }

  /** Whether the pieces cover [0, total) without a gap (sorts them by start). */
  protected whole(q: Q): boolean {
    if (q.total < 0) return false;
    q.pieces.sort((a, b) => a.start - b.start);
    let at = 0;
    for (const p of q.pieces) {
      if (p.start !== at) return false;
      at = p.end;
    }
    return at === q.total;
  }

  protected discard(key: string, q: Q): void {
    this.bytes -= q.bytes;
    this.queues.delete(key);
  }

  /** Drops the datagrams whose time ran out; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const [k, q] of this.queues) {
      if (q.expires <= now) {
        this.discard(k, q);
        n++;
      }
    }
    this.timeouts += n;
    return n;
  }
}
