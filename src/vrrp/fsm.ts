/**
 * The VRRP router's state machine (RFC 5798 6.4, RFC 3768 6.4), with time as an argument:
 * Initialize -> Backup (or Master at once with priority 255), the Master_Down timer
 * (3 x Master_Adver_Interval + Skew_Time, Skew_Time = (256 - Priority) x Master_Adver_Interval / 256),
 * the Adver timer, priority 0 (the master is leaving: take over after Skew_Time; as master, answer at
 * once), preemption (`nopreempt`; `preempt_delay` after start-up) and the tie-break on the higher
 * source address. Fault (a tracked interface or script down) as keepalived has it. The caller feeds
 * accepted adverts (check.ts) and calls tick() at nextDeadline(); the actions say what to do.
 */

export type VrrpState = 'init' | 'backup' | 'master' | 'fault';

export interface RouterConfig {
  version: 2 | 3;
  priority: number;
  /** Centiseconds. */
  advertIntCs: number;
  preempt: boolean;
  /** Centiseconds after start-up during which a higher priority backup does not preempt. */
  preemptDelayCs: number;
  /** This router's address (the tie-break compares it with the master's). */
  self: number;
}

export type VrrpAction =
  | { type: 'send'; priority: number }
  | { type: 'state'; from: VrrpState; to: VrrpState; why: string };

export interface AcceptedAdvert {
  src: number;
  priority: number;
  advertIntCs: number;
}

export class VrrpRouter {
  state: VrrpState = 'init';
  /** Centiseconds: the master's interval as learnt (VRRPv3), else ours. */
  masterAdverCs: number;
  /** The priority adverts carry (tracking may change it). */
  priority: number;
  private masterDownAt = Infinity;
  private adverAt = Infinity;
  private startedAt = 0;
  /** The master we last heard (0: none). */
  masterAddr = 0;
  transitions = 0;

  constructor(private readonly cfg: RouterConfig) {
    this.masterAdverCs = cfg.advertIntCs;
    this.priority = cfg.priority;
  }

  /** Skew_Time in ms: RFC 5798 scales it by Master_Adver_Interval; RFC 3768 uses (256 - Priority) / 256 s. */
  skewMs(): number {
    if (this.cfg.version === 2) return ((256 - this.priority) * 1000) / 256;
    return ((256 - this.priority) * this.masterAdverCs * 10) / 256;
  }

  masterDownMs(): number {
    const adv = this.cfg.version === 2 ? Math.max(1, Math.round(this.cfg.advertIntCs / 100)) * 1000 : this.masterAdverCs * 10;
    return 3 * adv + this.skewMs();
  }

  private adverMs(): number {
    return this.cfg.version === 2 ? Math.max(1, Math.round(this.cfg.advertIntCs / 100)) * 1000 : this.cfg.advertIntCs * 10;
  }

  private go(to: VrrpState, why: string, out: VrrpAction[]): void {
    if (to === this.state) return;
    out.push({ type: 'state', from: this.state, to, why });
    this.state = to;
    this.transitions++;
  }

  private becomeMaster(now: number, why: string, out: VrrpAction[]): void {
    out.push({ type: 'send', priority: this.priority });
    this.adverAt = now + this.adverMs();
    this.masterDownAt = Infinity;
    this.masterAddr = this.cfg.self;
    this.go('master', why, out);
  }

  private becomeBackup(now: number, why: string, out: VrrpAction[]): void {
    this.adverAt = Infinity;
    this.masterDownAt = now + this.masterDownMs();
    this.go('backup', why, out);
  }

  start(now: number): VrrpAction[] {
    const out: VrrpAction[] = [];
    this.startedAt = now;
    if (this.priority === 255) this.becomeMaster(now, 'priority 255: the address owner', out);
    else this.becomeBackup(now, 'start-up', out);
    return out;
  }

  /** The next time tick() has something to do. */
  nextDeadline(): number {
    return Math.min(this.masterDownAt, this.adverAt);
  }

  tick(now: number): VrrpAction[] {
    const out: VrrpAction[] = [];
    if (this.state === 'master' && now >= this.adverAt) {
      out.push({ type: 'send', priority: this.priority });
      this.adverAt = now + this.adverMs();
    } else if (this.state === 'backup' && now >= this.masterDownAt) {
      this.becomeMaster(now, 'no advertisement within the master down interval', out);
    }
    return out;
  }

  /** An advert that passed every check (check.ts). */
  receive(a: AcceptedAdvert, now: number): VrrpAction[] {
    const out: VrrpAction[] = [];
    if (this.state === 'backup') {
      if (a.priority === 0) {
        this.masterDownAt = now + this.skewMs();
        return out;
      }
      const inDelay = now < this.startedAt + this.cfg.preemptDelayCs * 10;
      if (!this.cfg.preempt || inDelay || a.priority >= this.priority) {
        if (this.cfg.version === 3) this.masterAdverCs = a.advertIntCs;
        this.masterAddr = a.src;
        this.masterDownAt = now + this.masterDownMs();
      }
      // else: a lower priority master while we preempt: let the timer run out and take over.
      return out;
    }
    if (this.state === 'master') {
      if (a.priority === 0) {
        out.push({ type: 'send', priority: this.priority });
        this.adverAt = now + this.adverMs();
        return out;
      }
      if (a.priority > this.priority || (a.priority === this.priority && a.src > this.cfg.self)) {
        if (this.cfg.version === 3) this.masterAdverCs = a.advertIntCs;
        this.masterAddr = a.src;
        this.becomeBackup(now, `advertisement with priority ${a.priority} from a higher router`, out);
      }
      // else: ignore a lower priority one; our next advert makes it go back to backup.
    }
    return out;
  }

  /** A tracked interface or script failed (weight 0): FAULT, no adverts. */
  fault(now: number, why: string): VrrpAction[] {
    const out: VrrpAction[] = [];
    if (this.state === 'master') out.push({ type: 'send', priority: 0 });
    this.adverAt = Infinity;
    this.masterDownAt = Infinity;
    void now;
    this.go('fault', why, out);
    return out;
  }

  /** Back from fault: as at start-up. */
  recover(now: number): VrrpAction[] {
    if (this.state !== 'fault') return [];
    const out: VrrpAction[] = [];
    this.becomeBackup(now, 'fault cleared', out);
    return out;
  }

  /** A tracked item with a weight changed the priority (bounded to 1..254, as keepalived). */
  setPriority(p: number): void {
    if (this.cfg.priority === 255) return;
    this.priority = Math.max(1, Math.min(254, p));
  }

  /** Graceful stop: a master says priority 0 so that a backup takes over after Skew_Time. */
  shutdown(): VrrpAction[] {
    const out: VrrpAction[] = [];
    if (this.state === 'master') out.push({ type: 'send', priority: 0 });
    this.adverAt = Infinity;
    this.masterDownAt = Infinity;
    this.go('init', 'stopping', out);
    return out;
  }
}
