/**
 * The merged timeline as a stream, with memory bounded by configuration rather than by the
 * captures' size:
 * - capture streams (one per file, or per in-memory capture) are merged by time, k-way: one record
 *   per stream is held at a time;
 * - the same frame seen at several capture points is joined within a time window (`windowMs`, the
 *   1 s of mergeCaptures): frames leave the window as time moves on, or when it holds
 *   `windowFrames` frames;
 * - a forward (the same IPv4 packet re-sent by the MAC it was sent to) is found among the frames
 *   still in that window: a director re-sends within microseconds.
 *
 * Pure: the records come from a CaptureSource (files are read by the caller's source, src/cli).
 */
import { DsrlbError } from '../errors/index.ts';
import { describeFrame, LINKTYPE_ETHERNET, type CaptureInput, type WireFrame } from './frames.ts';

/** One record of a capture stream. `data` may be a view valid only until the stream's next call. */
export interface StreamRecord {
  /** Capture point name ("client", "www1", "trace.eth0"). */
  point: string;
  /** 1-based frame number at that point. */
  index: number;
  timeMs: number;
  data: Uint8Array;
  origLen: number;
  linkType: number;
}

export interface CaptureStream {
  /** The next record (in time order within this stream), or null at the end. */
  next(): StreamRecord | null;
  close(): void;
}

/** Something that can be read from the start several times (explain reads its input in passes). */
export interface CaptureSource {
  open(): CaptureStream;
  /** Its capture points in its own order, once read through (for the summary; empty ones included). */
  points?(): string[];
}

export interface StreamBounds {
  /** Time window for joining sightings of one frame and finding forwards (ms, default 1000). */
  windowMs?: number;
  /** At most this many frames in that window (default 4096). */
  windowFrames?: number;
}

export const DEFAULT_WINDOW_MS = 1000;
export const DEFAULT_WINDOW_FRAMES = 4096;

/** In-memory captures as sources: each capture sorted by time (stable), as mergeCaptures does. */
export function memorySources(captures: readonly CaptureInput[]): CaptureSource[] {
  return captures.map((c) => {
    const order = c.records.map((r, i) => ({ r, i })).sort((a, b) => a.r.timeMs - b.r.timeMs);
    return {
      points: () => [c.name],
      open(): CaptureStream {
        let k = 0;
        return {
          next() {
            const e = order[k++];
            if (!e) return null;
            return { point: c.name, index: e.i + 1, timeMs: e.r.timeMs, data: e.r.data, origLen: e.r.origLen, linkType: c.linkType };
          },
          close() {},
        };
      },
    };
  });
}

export interface MergedFrame {
  frame: WireFrame;
  /** The frame this one re-sends (a forward), when there is one in the window. */
  fwdOf: WireFrame | null;
}

function bytesKey(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
}

/**
 * Joins sightings and finds forwards over a sliding window; numbers the distinct frames in order.
 * Feed records in time order (mergeStreams does).
 */
export class FrameMerger {
  /** Distinct frames so far. */
  count = 0;
  /** Records read so far, per capture point (in first-seen order). */
  readonly perPoint = new Map<string, number>();
  private readonly windowMs: number;
  private readonly windowFrames: number;
  private readonly byBytes = new Map<string, WireFrame[]>();
  private readonly byL3 = new Map<string, WireFrame[]>();
  private fifo: Array<{ f: WireFrame; key: string }> = [];
  private head = 0;

  constructor(b: StreamBounds = {}) {
    this.windowMs = b.windowMs ?? DEFAULT_WINDOW_MS;
    this.windowFrames = b.windowFrames ?? DEFAULT_WINDOW_FRAMES;
  }

  /** Frames currently held in the window. */
  get held(): number {
    return this.fifo.length - this.head;
  }

  private evict(now: number): void {
    while (this.head < this.fifo.length) {
      const e = this.fifo[this.head]!;
      if (now - e.f.timeMs < this.windowMs && this.held <= this.windowFrames) break;
      this.head++;
      drop(this.byBytes, e.key, e.f);
      if (e.f.l3Key !== '') {
        drop(this.byL3, e.f.l3Key, e.f);
        e.f.l3Key = '';
      }
    }
    if (this.head > 4096 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
  }

  push(r: StreamRecord): MergedFrame | null {
    if (r.linkType !== LINKTYPE_ETHERNET) {
      throw new DsrlbError('E_TEACH_LINKTYPE', `${r.point}: link type ${r.linkType} is not Ethernet (capture on the Ethernet interface, not "any")`);
    }
    this.perPoint.set(r.point, (this.perPoint.get(r.point) ?? 0) + 1);
    this.evict(r.timeMs);
    const key = bytesKey(r.data);
    const same = this.byBytes.get(key);
    const twin = same?.find((f) => !f.seenAt.some((s) => s.point === r.point) && r.timeMs - f.timeMs < this.windowMs);
    if (twin) {
      twin.seenAt.push({ point: r.point, index: r.index });
      return null;
    }
    const f: WireFrame = { n: ++this.count, timeMs: r.timeMs, seenAt: [{ point: r.point, index: r.index }], ...describeFrame(r.data, r.origLen) };
    if (same) same.push(f);
    else this.byBytes.set(key, [f]);
    let fwdOf: WireFrame | null = null;
    if (f.l3Key !== '') {
      const g = this.byL3.get(f.l3Key);
      if (g) {
        for (let i = g.length - 1; i >= 0; i--) {
          const p = g[i]!;
          if (p.dstMac === f.srcMac && p.srcMac !== f.srcMac && p.ip!.ttl >= f.ip!.ttl) {
            fwdOf = p;
            break;
          }
        }
        g.push(f);
      } else this.byL3.set(f.l3Key, [f]);
    }
    this.fifo.push({ f, key });
    return { frame: f, fwdOf };
  }
}

function drop<K>(m: Map<K, WireFrame[]>, k: K, f: WireFrame): void {
  const g = m.get(k);
  if (!g) return;
  const i = g.indexOf(f);
  if (i >= 0) g.splice(i, 1);
  if (g.length === 0) m.delete(k);
}

/**
 * The records of several streams in time order (ties: the earlier stream first), one record per
 * stream held at a time.
 */
export function* mergeStreams(sources: readonly CaptureSource[]): Generator<StreamRecord> {
  const streams = sources.map((s) => s.open());
  try {
    const heads = streams.map((s) => s.next());
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (best < 0 || h.timeMs < heads[best]!.timeMs)) best = i;
      }
      if (best < 0) return;
      yield heads[best]!;
      heads[best] = streams[best]!.next();
    }
  } finally {
    for (const s of streams) s.close();
  }
}

/** The merged, de-duplicated timeline with forwards, streamed. */
export function* wireFrames(sources: readonly CaptureSource[], b: StreamBounds = {}, merger = new FrameMerger(b)): Generator<MergedFrame> {
  for (const r of mergeStreams(sources)) {
    const m = merger.push(r);
    if (m) yield m;
  }
}
