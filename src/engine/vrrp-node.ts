/**
 * One VRRP router (a keepalived.conf vrrp_instance) wired to a transport, a clock and the resources:
 * what arrives is decoded and checked (vrrp/check.ts: rejections counted and logged at most once a
 * second per reason) before the state machine sees it; the state machine's sends become adverts
 * (with AH when configured) and its state changes become takeover / giveup of the VIP and the
 * notify scripts, run one after another in order. stop() says priority 0 when master.
 *
 * Timing: with a Clock that has after(), one timer is armed at the router's next deadline (Master_Down
 * or Adver) and moved whenever an advert or a state change moves that deadline, so a backup takes
 * over when Master_Down expires, as keepalived does, not at the next tick of a poll (a 5 ms poll at
 * 100 ms adverts made the takeover up to 5 ms late). Without after() it polls at tickMs.
 */
import type { VrrpInstanceConfig } from '../config/index.ts';
import type { Clock, Logger, VrrpTransport } from '../ports/index.ts';
import {
  AdvertChecker, authKey, decodeVrrpIp, encodeVrrpIp, VRRP_GROUP, VrrpRouter, type VrrpAction, type VrrpState,
} from '../vrrp/index.ts';

export interface VrrpResources {
  /** Start-up: the VIP released (idempotent). */
  cleanup(): Promise<void>;
  takeover(): Promise<void>;
  giveup(): Promise<void>;
  /** notify_master / notify_backup / notify_fault / notify: the caller runs the script. */
  notify(state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'): Promise<void>;
}

export interface VrrpNodeDeps {
  transport: VrrpTransport;
  clock: Clock;
  log: Logger;
  resources: VrrpResources;
}

export interface VrrpNodeOptions {
  instance: VrrpInstanceConfig;
  /** This host's address on the interface and its prefix length. */
  self: number;
  prefix: number;
  /** Poll period when the clock has no after() (default advert / 20, 2..50 ms). */
  tickMs?: number;
}

export interface VrrpStatus {
  instance: string;
  state: VrrpState;
  priority: number;
  master: number;
  sent: number;
  received: number;
  accepted: number;
  rejected: Record<string, number>;
  transitions: number;
  takeovers: number;
  giveups: number;
}

export class VrrpNode {
  readonly router: VrrpRouter;
  readonly checker: AdvertChecker;
  private stopTimer: (() => void) | null = null;
  /** The one-shot timer at the router's next deadline (clocks with after()), and that deadline. */
  private cancelDeadline: (() => void) | null = null;
  private armedFor = Infinity;
  private running = false;
  private queue: Promise<void> = Promise.resolve();
  private seq = 0;
  private id = 0;
  private sent = 0;
  private received = 0;
  private takeovers = 0;
  private giveups = 0;
  private lastLog = new Map<string, number>();
  private readonly key: Buffer | null;
  private readonly dsts: number[];
  onState: ((s: VrrpState) => void) | null = null;

  constructor(private readonly o: VrrpNodeOptions, private readonly d: VrrpNodeDeps) {
    const i = o.instance;
    this.router = new VrrpRouter({
      version: i.version, priority: i.priority, advertIntCs: i.advertIntCs, preempt: !i.nopreempt,
      preemptDelayCs: i.preemptDelayCs, self: o.self,
    });
    this.checker = new AdvertChecker({
      version: i.version, vrid: i.vrid, advertIntCs: i.advertIntCs, auth: i.version === 2 ? i.auth : null,
      self: o.self, subnet: { address: o.self, prefix: o.prefix }, unicastPeers: i.unicastPeers, vipCount: i.vips.length,
    });
    this.key = i.version === 2 && i.auth ? authKey(i.auth.pass) : null;
    this.dsts = i.unicastPeers.length > 0 ? [...i.unicastPeers] : [VRRP_GROUP];
  }

  async start(): Promise<void> {
    await this.d.resources.cleanup();
    this.d.transport.onPacket((p) => this.onPacket(p));
    this.running = true;
    this.apply(this.router.start(this.d.clock.now()));
    if (this.d.clock.after) return; // apply() armed the deadline timer
    const adv = this.o.instance.advertIntCs * 10;
    const tick = this.o.tickMs ?? Math.max(2, Math.min(50, Math.floor(adv / 20)));
    this.stopTimer = this.d.clock.every(tick, () => {
      const now = this.d.clock.now();
      if (now >= this.router.nextDeadline()) this.apply(this.router.tick(now));
    });
  }

  /** Keeps the one-shot timer on the router's next deadline (clocks with after() only). */
  private arm(): void {
    const after = this.d.clock.after;
    if (!after || !this.running) return;
    const at = this.router.nextDeadline();
    if (at === this.armedFor && this.cancelDeadline !== null) return;
    this.cancelDeadline?.();
    this.cancelDeadline = null;
    this.armedFor = at;
    if (at === Infinity) return;
    this.cancelDeadline = after.call(this.d.clock, Math.max(0, Math.ceil(at - this.d.clock.now())), () => {
      this.cancelDeadline = null;
      this.armedFor = Infinity;
      const now = this.d.clock.now();
      // A timer may fire a fraction of a millisecond before the deadline: then it is armed again.
      if (now >= this.router.nextDeadline()) this.apply(this.router.tick(now));
      else this.arm();
    });
  }

  private onPacket(p: Buffer): void {
    this.received++;
    const r = decodeVrrpIp(p);
    if (!r.ok) {
      this.checker.decodeFailed();
      this.rate('decode', () => this.d.log.warn({ error: r.error }, 'VRRP packet that does not decode: dropped'));
      return;
    }
    const why = this.checker.check(r.packet);
    if (why !== null) {
      this.rate(why, () => this.d.log.warn({ reason: why, src: r.packet.src, vrid: r.packet.advert.vrid }, `VRRP advert rejected: ${why}`));
      return;
    }
    const a = r.packet.advert;
    this.apply(this.router.receive({ src: r.packet.src, priority: a.priority, advertIntCs: a.advertIntCs }, this.d.clock.now()));
  }

  private rate(key: string, fn: () => void): void {
    const now = this.d.clock.now();
    if ((this.lastLog.get(key) ?? -Infinity) + 1000 <= now) {
      this.lastLog.set(key, now);
      fn();
    }
  }

  private advert(priority: number): void {
    const i = this.o.instance;
    const adv = {
      version: i.version, vrid: i.vrid, priority, advertIntCs: i.advertIntCs, addresses: i.vips.map((v) => v.address),
      authType: (i.version === 3 || !i.auth ? 'none' : i.auth.type === 'AH' ? 'ah' : 'pass') as 'none' | 'ah' | 'pass',
      authData: this.key ?? Buffer.alloc(8),
    };
    if (adv.authType === 'ah') this.seq++;
    for (const dst of this.dsts) {
      const pkt = encodeVrrpIp(adv, {
        src: this.o.instance.unicastSrcIp ?? this.o.self, dst, id: ++this.id & 0xffff,
        ah: adv.authType === 'ah' ? { key: this.key!, seq: this.seq } : undefined,
      });
      this.d.transport.send(pkt, dst);
      this.sent++;
    }
  }

  private apply(actions: VrrpAction[]): void {
    this.arm();
    for (const a of actions) {
      if (a.type === 'send') {
        this.advert(a.priority);
        continue;
      }
      this.d.log.info({ instance: this.o.instance.name, from: a.from, to: a.to, why: a.why }, `VRRP ${a.to.toUpperCase()}`);
      this.onState?.(a.to);
      const r = this.d.resources;
      const step = async () => {
        if (a.to === 'master') {
          this.takeovers++;
          this.checker.resetAhSequence();
          await r.takeover();
          await r.notify('MASTER');
        } else if (a.from === 'master') {
          this.giveups++;
          await r.giveup();
        }
        if (a.to === 'backup') await r.notify('BACKUP');
        if (a.to === 'fault') await r.notify('FAULT');
      };
      this.queue = this.queue.then(step).catch((e: Error) => this.d.log.error({ err: e.message }, 'VRRP resource action failed'));
    }
  }

  /**
   * Tracking (track_interface / track_script): the priority adverts carry, and FAULT while a
   * weight-0 item is down (priority 0 sent first when master); back to BACKUP when it comes back.
   */
  track(priority: number, fault: string | null): void {
    const now = this.d.clock.now();
    if (fault !== null && this.router.state !== 'fault' && this.router.state !== 'init') this.apply(this.router.fault(now, fault));
    else if (fault === null && this.router.state === 'fault') this.apply(this.router.recover(now));
    if (priority !== this.router.priority) {
      this.d.log.info({ instance: this.o.instance.name, priority }, 'VRRP priority changed by tracking');
      this.router.setPriority(priority);
    }
  }

  /** Graceful stop: priority 0 first (the backup takes over after its skew time), then the VIP goes. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = null;
    this.running = false;
    this.cancelDeadline?.();
    this.cancelDeadline = null;
    const wasMaster = this.router.state === 'master';
    for (const a of this.router.shutdown()) if (a.type === 'send') this.advert(a.priority);
    await this.queue;
    if (wasMaster) {
      this.giveups++;
      await this.d.resources.giveup().catch((e: Error) => this.d.log.error({ err: e.message }, 'VRRP giveup failed'));
    }
    await this.d.resources.notify('STOP').catch(() => undefined);
    this.d.transport.close();
  }

  status(): VrrpStatus {
    return {
      instance: this.o.instance.name, state: this.router.state, priority: this.router.priority, master: this.router.masterAddr,
      sent: this.sent, received: this.received, accepted: this.checker.accepted, rejected: this.checker.counters(),
      transitions: this.router.transitions, takeovers: this.takeovers, giveups: this.giveups,
    };
  }
}
