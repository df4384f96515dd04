/**
 * Offline replay: runs recorded frames through a data plane with the capture's timestamps as the
 * clock and collects what the director would transmit. No I/O here: the caller reads and writes files.
 */
import { DROP_REASON_NAMES, VerdictKind, type Dataplane } from '../dataplane/index.ts';
import { endpointToString } from '../model/index.ts';

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
  replies: number;
  dropped: number;
  passed: number;
  /** Per drop/pass reason name → frames. */
  reasons: Record<string, number>;
  /** Per real "ip:port" → flows (new connections), packets, bytes (IP length, as ipvsadm counts InBytes). */
  reals: Record<string, { flows: number; packets: number; bytes: number }>;
  /** Every scheduling decision, in order. */
  choices: ReplayChoice[];
  /** Indexes of the input frames that were not forwarded (dropped, passed, or answered with a reply). */
  notForwarded: number[];
}

/**
 * Replays frames in order. `emit(timeMs, bytes, len)` receives each frame the director sends
 * (forwarded and ARP replies), in order; `bytes` is only valid during the call.
 */
export function replayFrames(
  dp: Dataplane,
  frames: Iterable<ReplayFrame>,
  emit: (timeMs: number, bytes: Uint8Array, len: number) => void,
): ReplaySummary {
  const s: ReplaySummary = { frames: 0, forwarded: 0, local: 0, replies: 0, dropped: 0, passed: 0, reasons: {}, reals: {}, choices: [], notForwarded: [] };
  let i = 0;
  for (const f of frames) {
    // The data path rewrites in place: work on a copy so the caller's input stays as it was.
    const buf = Uint8Array.from(f.data);
    const v = dp.process(buf, buf.length, f.timeMs);
    s.frames++;
    if (v.newConn && v.dest) {
      const fi = dp.frameInfo;
      s.choices.push({
        frame: i,
        client: endpointToString(fi.ipSrc, fi.srcPort),
        virtual: endpointToString(fi.ipDst, fi.dstPort),
        real: endpointToString(v.dest.addr, v.dest.port),
      });
    }
    if (v.kind !== VerdictKind.Forward) s.notForwarded.push(i);
    switch (v.kind) {
      case VerdictKind.Forward: s.forwarded++; emit(f.timeMs, v.frame!, v.len); break;
      case VerdictKind.Local: s.local++; break;
      case VerdictKind.Reply: s.replies++; emit(f.timeMs, v.frame!, v.len); break;
      case VerdictKind.Drop: s.dropped++; count(s, DROP_REASON_NAMES[v.reason]!); break;
      case VerdictKind.Pass: s.passed++; count(s, DROP_REASON_NAMES[v.reason]!); break;
    }
    i++;
  }
  for (const d of dp.services.destsById) {
    const key = endpointToString(d.addr, d.port);
    const st = dp.services.destStats[d.id]!;
    const r = (s.reals[key] ??= { flows: 0, packets: 0, bytes: 0 });
    r.flows += st.conns;
    r.packets += st.inPkts;
    r.bytes += st.inBytes;
  }
  return s;
}

function count(s: ReplaySummary, reason: string): void {
  s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
}
