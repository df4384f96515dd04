/**
 * The frames a streamed explain keeps as evidence for its findings, bounded: per kind of finding
 * the first `maxSamples` frames, and after them only a frame that shows something new (another
 * MAC answering ARP for a VIP, another sender with unfinished checksums, another capture point
 * seeing over-MTU frames) — at most a few per host. The counts in the findings' titles cover every
 * frame (FindingTotals).
 */
import type { FindingTotals } from './findings.ts';
import type { FlowSpans } from './flow-builder.ts';
import type { WireFrame } from './frames.ts';
import type { Roles } from './roles.ts';

export const DEFAULT_MAX_SAMPLES = 1000;

type Kind = 'arp' | 'fromRip' | 'badFwd' | 'big' | 'unfinished';

export class Evidence {
  readonly totals: FindingTotals = { fromRip: 0, badFwd: 0, big: 0, bigMax: 0, unfinished: 0 };
  private readonly kept = new Map<number, WireFrame>();
  private readonly count = new Map<Kind, number>();
  private readonly novel = new Set<string>();
  private readonly vips: Set<string>;
  private readonly mtu: number;
  private readonly max: number;
  /** "client|clientPort|port" -> the flows kept in detail with those (a reply from the real's own address). */
  private readonly spanIndex = new Map<string, FlowSpans['flows'][number][]>();

  constructor(roles: Roles, spans: FlowSpans, o: { mtu?: number; maxSamples?: number } = {}) {
    this.vips = new Set(roles.vips);
    this.mtu = o.mtu ?? 1500;
    this.max = o.maxSamples ?? DEFAULT_MAX_SAMPLES;
    for (const fl of spans.flows) {
      const k = `${fl.clientIp}|${fl.clientPort}|${fl.port}`;
      (this.spanIndex.get(k) ?? this.spanIndex.set(k, []).get(k)!).push(fl);
    }
  }

  /** Keeps `f` when it is evidence; true when kept. */
  add(f: WireFrame, fwdOf: WireFrame | null): boolean {
    let kept = false;
    const keep = (kind: Kind, novelty: string | null): void => {
      const c = (this.count.get(kind) ?? 0) + 1;
      this.count.set(kind, c);
      const isNew = novelty !== null && !this.novel.has(`${kind}|${novelty}`);
      if (novelty !== null) this.novel.add(`${kind}|${novelty}`);
      if (c <= this.max || isNew) {
        this.kept.set(f.n, f);
        kept = true;
      }
    };
    if (f.arp && (this.vips.has(f.arp.spa) || this.vips.has(f.arp.tpa))) keep('arp', `${f.arp.op}|${f.arp.sha}|${f.arp.spa}|${f.arp.tha}`);
    if (f.ip && f.l4) {
      const spans = this.spanIndex.get(`${f.ip.dst}|${f.l4.dstPort}|${f.l4.srcPort}`);
      const n = spans?.filter((s) => f.ip!.src !== s.vip && f.timeMs >= s.startMs - 1 && f.timeMs <= s.endMs + 5000).length ?? 0;
      if (n > 0) {
        this.totals.fromRip += n;
        keep('fromRip', null);
      }
      if (f.l4.checksumOk === false) {
        if (fwdOf) {
          this.totals.badFwd++;
          keep('badFwd', fwdOf.srcMac);
          if (this.kept.has(f.n)) this.kept.set(fwdOf.n, fwdOf);
        } else {
          this.totals.unfinished++;
          keep('unfinished', f.srcMac);
        }
      }
    }
    if (f.ip && f.ip.totalLength > this.mtu) {
      this.totals.big++;
      this.totals.bigMax = Math.max(this.totals.bigMax, f.ip.totalLength);
      keep('big', f.seenAt.map((s) => s.point).join(','));
    }
    return kept;
  }

  /** The frames kept, in timeline order. */
  frames(): WireFrame[] {
    return [...this.kept.values()].sort((a, b) => a.n - b.n);
  }
}
