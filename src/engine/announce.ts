/**
 * The packet path's announcements when it becomes active: gratuitous ARP for the VIPs and
 * unsolicited Neighbor Advertisements for the VIP6s (to all nodes, Override set, as Linux's
 * ndisc_send_unsol_na), both on one plan (arp/announcer.ts: count repeats, intervalMs apart). The
 * frames go out at their own instants through a one-shot timer when the clock has after() (the
 * plans' frames are often 5 or 10 ms apart, the housekeeping tick 100 ms); else at each step().
 */
import { GarpAnnouncer } from '../arp/index.ts';
import { buildUnsolicitedNa } from '../packet/index.ts';
import type { Clock, FrameIO } from '../ports/index.ts';

export class VipAnnouncer {
  private garp: GarpAnnouncer | null = null;
  private na6: GarpAnnouncer | null = null;
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly io: FrameIO,
    private readonly clock: Clock,
    private readonly plan: { count: number; intervalMs: number } | null,
    private readonly router: boolean,
  ) {}

  /** (Re)starts the plan for these VIPs and VIP6s and sends the first frames now. */
  start(vips: readonly number[], vip6s: readonly Uint8Array[]): void {
    if (this.plan === null) return;
    const { count, intervalMs } = this.plan;
    const now = this.clock.now();
    if (vips.length > 0) {
      this.garp = new GarpAnnouncer({ mac: this.io.mac, ips: vips, count, intervalMs });
      this.garp.start(now);
    }
    if (vip6s.length > 0) {
      const frames = vip6s.map((v) => buildUnsolicitedNa(this.io.mac, v, this.router));
      this.na6 = new GarpAnnouncer({ mac: this.io.mac, ips: [], frames, count, intervalMs });
      this.na6.start(now);
    }
    this.step();
  }

  /** Sends what is due of either plan; then waits for the next instant of either. */
  step(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    const plan = this.garp;
    const plan6 = this.na6;
    if (plan === null && plan6 === null) return;
    const now = this.clock.now();
    let next: number | null = null;
    if (plan !== null) {
      for (const f of plan.due(now)) this.io.send(f);
      next = plan.nextAt();
      if (next === null) this.garp = null;
    }
    if (plan6 !== null) {
      for (const f of plan6.due(now)) this.io.send(f);
      const n6 = plan6.nextAt();
      if (n6 === null) this.na6 = null;
      else if (next === null || n6 < next) next = n6;
    }
    if (next === null || !this.clock.after) return;
    this.cancelTimer = this.clock.after(Math.max(0, Math.ceil(next - now)), () => {
      this.cancelTimer = null;
      if (this.garp === plan && this.na6 === plan6) this.step();
    });
  }

  /** Abandons the plans (the director went standby, or closes). */
  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.garp = null;
    this.na6 = null;
  }
}
