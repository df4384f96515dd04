/**
 * A director's life as systemd sees it (Type=notify): READY=1 once the packet path is up and the
 * VIP is served, RELOADING=1 … READY=1 around a SIGHUP reload, STOPPING=1 when it stops, STATUS=
 * lines an operator sees in `systemctl status`, and WATCHDOG=1 while the packet path answers (only
 * when the unit sets WatchdogSec=). Outside systemd (no $NOTIFY_SOCKET) every call does nothing.
 */
import { monotonicUsec, sdNotifier, type SdNotifier } from '../io/index.ts';
import type { Logger } from '../ports/index.ts';

export class ServiceNotify {
  private wdTimer: NodeJS.Timeout | null = null;

  constructor(private readonly log: Logger, private readonly n: SdNotifier = sdNotifier()) {}

  get enabled(): boolean {
    return this.n.enabled;
  }

  private send(fields: Record<string, string | number>): void {
    try {
      this.n.notify(fields);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, fields: Object.keys(fields) }, 'sd_notify failed');
    }
  }

  ready(status: string): void {
    this.send({ READY: 1, STATUS: status, MAINPID: process.pid });
  }

  status(status: string): void {
    this.send({ STATUS: status });
  }

  /** RELOADING=1 with the monotonic time systemd wants, `fn`, then READY=1 (whatever fn returned). */
  async reloading<T>(fn: () => Promise<T>, statusAfter: (r: T | undefined) => string): Promise<T | undefined> {
    this.send({ RELOADING: 1, MONOTONIC_USEC: String(monotonicUsec()), STATUS: 'reloading the configuration' });
    let r: T | undefined;
    try {
      r = await fn();
    } finally {
      this.send({ READY: 1, STATUS: statusAfter(r) });
    }
    return r;
  }

  stopping(why: string): void {
    this.stopWatchdog();
    this.send({ STOPPING: 1, STATUS: `stopping (${why})` });
  }

  /**
   * Feeds systemd's watchdog every half interval, but only after `healthy()` answered true within
   * that half interval: a packet path that hangs starves the watchdog and systemd restarts the unit.
   */
  startWatchdog(healthy: (timeoutMs: number) => Promise<boolean>): void {
    const ms = this.n.watchdogMs;
    if (ms === null || this.wdTimer) return;
    const half = Math.max(100, Math.floor(ms / 2));
    let busy = false;
    this.wdTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      healthy(half).then((ok) => {
        if (ok && this.wdTimer) this.send({ WATCHDOG: 1 });
        else if (!ok) this.log.warn({}, 'watchdog not fed: the packet path did not answer');
      }, () => this.log.warn({}, 'watchdog not fed: the packet path did not answer')).finally(() => {
        busy = false;
      });
    }, half);
    this.wdTimer.unref();
  }

  stopWatchdog(): void {
    if (this.wdTimer) clearInterval(this.wdTimer);
    this.wdTimer = null;
  }
}
