/**
 * What `dsrlb run` says about its frame I/O in its log, from the packet path's snapshots: a warning
 * when the kernel drops frames because the capture ring is full (at most one every `everyMs`, with
 * the count since the last one), and the totals when the director stops. The counters themselves
 * are the kernel's PACKET_STATISTICS (ring backend); libpcap's backend has none to report.
 */
export interface IoCounters {
  backend?: 'ring' | 'pcap';
  workers?: number;
  received: number;
  sent: number;
  sendErrors: number;
  kernelPackets?: number;
  kernelDrops?: number;
}

export interface DropNotice {
  /** Frames the kernel dropped since the last notice. */
  drops: number;
  /** All dropped so far, and all the kernel offered to the ring. */
  totalDrops: number;
  kernelPackets: number;
  /** The share of the frames offered since the last notice that were dropped. */
  share: number;
}

export class DropWatch {
  private lastDrops = 0;
  private lastPackets = 0;
  private lastNoticeAt = -Infinity;
  private pending = 0;
  private pendingPackets = 0;

  constructor(private readonly everyMs = 10_000) {}

  /** Feeds one snapshot's counters (at time `now`, ms); returns a notice when one is due. */
  update(io: IoCounters, now: number): DropNotice | null {
    if (io.kernelDrops === undefined || io.kernelPackets === undefined) return null;
    this.pending += Math.max(0, io.kernelDrops - this.lastDrops);
    this.pendingPackets += Math.max(0, io.kernelPackets - this.lastPackets);
    this.lastDrops = io.kernelDrops;
    this.lastPackets = io.kernelPackets;
    if (this.pending === 0 || now - this.lastNoticeAt < this.everyMs) return null;
    const n: DropNotice = {
      drops: this.pending, totalDrops: io.kernelDrops, kernelPackets: io.kernelPackets,
      share: this.pendingPackets > 0 ? this.pending / this.pendingPackets : 1,
    };
    this.lastNoticeAt = now;
    this.pending = 0;
    this.pendingPackets = 0;
    return n;
  }
}

/** The frame I/O totals for the log line at stop (what reached the director, what it sent, what the kernel lost). */
export function ioSummary(io: IoCounters): Record<string, number | string> {
  const out: Record<string, number | string> = {
    backend: io.backend ?? 'pcap', workers: io.workers ?? 1, received: io.received, sent: io.sent, sendErrors: io.sendErrors,
  };
  if (io.kernelPackets !== undefined) out.kernelPackets = io.kernelPackets;
  if (io.kernelDrops !== undefined) out.kernelDrops = io.kernelDrops;
  return out;
}
