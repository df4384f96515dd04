/**
 * Offline replay: runs recorded frames through a data plane with the capture's timestamps as the
 * clock and collects what the director would transmit. No I/O here: the caller reads and writes files.
 */
import { DROP_REASON_NAMES, VerdictKind, type Dataplane } from '../dataplane/index.ts';
import { endpoint6ToString, endpointToString, type Dest } from '../model/index.ts';

export interface ReplayFrame {
  timeMs: number;
  data: Uint8Array;
}

export interface ReplayChoice {
  /** Index of the input frame that created the connection. */
  frame: number;
  client: string;
  virtual: string;
  real: string;
}

export interface ReplaySummary {
  frames: number;
  forwarded: number;
  local: number;
  /** Frames the director answered itself: ARP replies for the VIPs and ICMP (echo replies, time exceeded). */
  replies: number;
  /** Of those, ICMP. */
  icmpReplies: number;
  dropped: number;
  passed: number;
  /** Per drop/pass reason name → frames. */
  reasons: Record<string, number>;
  /** Per real "ip:port" ("[ip6]:port" for IPv6) → flows (new connections), packets, bytes (IP length, as ipvsadm counts InBytes). */
  reals: Record<string, { flows: number; packets: number; bytes: number }>;
  /** Every scheduling decision, in order. */
  choices: ReplayChoice[];
  /** Indexes of the input frames that were not forwarded (dropped, passed, or answered with a reply). */
  notForwarded: number[];
}

export interface ReplayOptions {
  /** Keep every scheduling decision (memory grows with the flows; default true). */
  choices?: boolean;
  /** Keep the index of every frame not forwarded (memory grows with them; default true). */
  notForwarded?: boolean;
}

/**
 * Feeds frames one at a time (a stream of any length): `feed` runs a frame through the data plane
 * and hands what the director sends to `emit` (bytes valid only during the call). The frame is
 * copied into one scratch buffer first — the data path rewrites in place and the caller's bytes
 * stay as they were — so nothing is allocated per frame. `summary()` adds the per-real figures.
 */
export class Replayer {
  private readonly s: ReplaySummary = { frames: 0, forwarded: 0, local: 0, replies: 0, icmpReplies: 0, dropped: 0, passed: 0, reasons: {}, reals: {}, choices: [], notForwarded: [] };
  private scratch = new Uint8Array(65536 + 64);
  private readonly keepChoices: boolean;
  private readonly keepNotForwarded: boolean;

  constructor(
    private readonly dp: Dataplane,
    private readonly emit: (timeMs: number, bytes: Uint8Array, len: number) => void,
    o: ReplayOptions = {},
  ) {
    this.keepChoices = o.choices ?? true;
    this.keepNotForwarded = o.notForwarded ?? true;
  }

  feed(timeMs: number, data: Uint8Array): void {
    const s = this.s;
    const i = s.frames;
    if (data.length > this.scratch.length) this.scratch = new Uint8Array(data.length);
    const buf = this.scratch;
    buf.set(data);
    const dp = this.dp;
    const v = dp.process(buf, data.length, timeMs);
    s.frames++;
    if (this.keepChoices && v.newConn && v.dest) {
      if (dp.lastWasIPv6) {
        // The addresses are where the decoder found them in the (possibly rewritten) frame.
        const fi = dp.frameInfo6;
        s.choices.push({
          frame: i,
          client: endpoint6ToString(v.frame!, fi.srcPort, fi.srcOff),
          virtual: endpoint6ToString(v.frame!, fi.dstPort, fi.dstOff),
          real: destToString(v.dest),
        });
      } else {
        const fi = dp.frameInfo;
        s.choices.push({
          frame: i,
          client: endpointToString(fi.ipSrc, fi.srcPort),
          virtual: endpointToString(fi.ipDst, fi.dstPort),
          real: endpointToString(v.dest.addr, v.dest.port),
        });
      }
    }
    if (this.keepNotForwarded && v.kind !== VerdictKind.Forward) s.notForwarded.push(i);
    switch (v.kind) {
      case VerdictKind.Forward:
        s.forwarded++;
        // A reassembled datagram goes out in fragments again.
        if (v.parts > 0) for (let p = 0; p < v.parts; p++) this.emit(timeMs, v.partBufs[p]!, v.partLens[p]!);
        else this.emit(timeMs, v.frame!, v.len);
        break;
      case VerdictKind.Local: s.local++; break;
      case VerdictKind.Reply:
        s.replies++;
        if (v.icmp) s.icmpReplies++;
        if (v.reason !== 0) count(s, DROP_REASON_NAMES[v.reason]!);
        this.emit(timeMs, v.frame!, v.len);
        break;
      case VerdictKind.Drop: s.dropped++; count(s, DROP_REASON_NAMES[v.reason]!); break;
      case VerdictKind.Pass: s.passed++; count(s, DROP_REASON_NAMES[v.reason]!); break;
    }
  }

  summary(): ReplaySummary {
    const s = this.s;
    s.reals = {};
    for (const d of this.dp.services.destsById) {
      const key = destToString(d);
      const st = this.dp.services.destStats[d.id]!;
      const r = (s.reals[key] ??= { flows: 0, packets: 0, bytes: 0 });
      r.flows += st.conns;
      r.packets += st.inPkts;
      r.bytes += st.inBytes;
    }
    return s;
  }
}

/**
 * Replays frames in order. `emit(timeMs, bytes, len)` receives each frame the director sends
 * (forwarded and ARP replies), in order; `bytes` is only valid during the call.
 */
export function replayFrames(
  dp: Dataplane,
  frames: Iterable<ReplayFrame>,
  emit: (timeMs: number, bytes: Uint8Array, len: number) => void,
  o: ReplayOptions = {},
): ReplaySummary {
  const r = new Replayer(dp, emit, o);
  for (const f of frames) r.feed(f.timeMs, f.data);
  return r.summary();
}

/** ip:port, or [ip6]:port for a real of an IPv6 service. */
function destToString(d: Dest): string {
  return d.addr6 !== undefined ? endpoint6ToString(d.addr6, d.port) : endpointToString(d.addr, d.port);
}

function count(s: ReplaySummary, reason: string): void {
  s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
}
