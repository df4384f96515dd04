/**
 * Gratuitous ARP after a takeover: a pure plan of which frames to send when.
 *
 * On takeover the new active director tells the segment that its VIPs now live at its MAC.
 * heartbeat's IPaddr resource agent does it by running send_arp with `-i ARP_INTERVAL_MS
 * -r ARP_REPEAT` (defaults 500 ms and 10); the libnet send_arp sends, for each repeat, a gratuitous
 * request, waits half the interval, sends a gratuitous reply, waits the other half. Request and
 * reply because some hosts heed only one of the two; repeats because one frame can be lost and
 * because Linux neighbours ignore a new MAC that comes within `locktime` (1 s) of the previous
 * update, unless the kernel takes the frame as gratuitous (metallb sends the same pair for the same
 * reasons). IPaddr2 uses 5 repeats 200 ms apart (arp_count / arp_interval).
 *
 * The announcer reads no clock and sets no timer: `start(now)`, then call `due(now)` at or after
 * `nextAt()` and send what it returns. All VIPs are announced at the same instants, as heartbeat
 * runs one send_arp per address in parallel.
 *
 * A late caller (a starved event loop) does not get a burst of stale frames: `due` sends the frames
 * of the latest due instant, plus in 'pair' mode the latest due frame of the other kind, and counts
 * the rest in `skipped`. The schedule stays anchored at `start`: lateness does not shift it.
 */

import { DsrlbError } from '../errors/index.ts';
import { gratuitousArp } from '../packet/index.ts';

/** heartbeat IPaddr: ARP_REPEAT=10, ARP_INTERVAL_MS=500 (resource-agents heartbeat/IPaddr). */
export const GARP_IPADDR = Object.freeze({ count: 10, intervalMs: 500 });
/** heartbeat IPaddr2: arp_count=5, arp_interval=200 (resource-agents heartbeat/IPaddr2). */
export const GARP_IPADDR2 = Object.freeze({ count: 5, intervalMs: 200 });

/**
 * - 'pair': request, then reply half an interval later (heartbeat's libnet send_arp; default)
 * - 'request': requests only (iputils `arping -U`, the arping-based send_arp.linux)
 * - 'reply': replies only (`arping -A`)
 */
export type GarpMode = 'pair' | 'request' | 'reply';

export interface GarpAnnouncerOptions {
  /** The MAC the VIPs now live at (the director's). */
  mac: Uint8Array;
  /** VIPs to announce (u32). */
  ips: readonly number[];
  /** Repeats (pairs in 'pair' mode); default 10 (IPaddr). */
  count?: number;
  /** Milliseconds from one repeat to the next; default 500 (IPaddr). */
  intervalMs?: number;
  mode?: GarpMode;
  /** Target MAC of the gratuitous requests, see gratuitousArp(); default 'zero'. */
  requestTarget?: 'zero' | 'broadcast';
  /** 802.1Q VLAN id of the frames; untagged when absent. */
  vlan?: number;
  /**
   * Frames built by the caller, sent at each repeat instead of ARP for `ips` (then `ips` may be
   * empty and the mode is 'request': one instant per repeat). The unsolicited Neighbor
   * Advertisements for the VIP6s take the same plan this way (engine/packet-path.ts).
   */
  frames?: readonly Uint8Array[];
}

export class GarpAnnouncer {
  readonly count: number;
  readonly intervalMs: number;
  readonly mode: GarpMode;
  /** Frames handed out by due(). */
  sent = 0;
  /** Frames left out because due() was called late (see the file comment). */
  skipped = 0;

  readonly #requests: readonly Uint8Array[];
  readonly #replies: readonly Uint8Array[];
  readonly #slots: number;
  #start = 0;
  #next = -1; // -1: not started
  #stopped = false;

  constructor(opts: GarpAnnouncerOptions) {
    const count = opts.count ?? GARP_IPADDR.count;
    const intervalMs = opts.intervalMs ?? GARP_IPADDR.intervalMs;
    const frames = opts.frames;
    const mode = frames !== undefined ? 'request' : opts.mode ?? 'pair';
    if (!Number.isInteger(count) || count < 1) throw new DsrlbError('E_ARP_ARGS', `gratuitous ARP count must be an integer >= 1, not ${count}`);
    if (!Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new DsrlbError('E_ARP_ARGS', `gratuitous ARP interval must be a finite number of ms >= 0, not ${intervalMs}`);
    }
    if (mode !== 'pair' && mode !== 'request' && mode !== 'reply') throw new DsrlbError('E_ARP_ARGS', `unknown gratuitous ARP mode ${String(mode)}`);
    if (frames !== undefined ? frames.length === 0 : !Array.isArray(opts.ips) || opts.ips.length === 0) {
      throw new DsrlbError('E_ARP_ARGS', 'gratuitous ARP needs at least one IP');
    }
    this.count = count;
    this.intervalMs = intervalMs;
    this.mode = mode;
    const o = { vlan: opts.vlan, requestTarget: opts.requestTarget };
    // Built once: the same bytes go out at every repeat (the builders validate mac, ips and vlan).
    this.#requests = frames !== undefined ? [...frames] : mode === 'reply' ? [] : opts.ips.map((ip) => gratuitousArp(opts.mac, ip, 'request', o));
    this.#replies = mode === 'request' ? [] : opts.ips.map((ip) => gratuitousArp(opts.mac, ip, 'reply', o));
    this.#slots = mode === 'pair' ? 2 * count : count;
  }

  /** Starts (or restarts) the plan: the first frames are due at `now`. */
  start(now: number): void {
    this.#start = now;
    this.#next = 0;
    this.#stopped = false;
  }

  /** Abandons the rest of the plan (e.g. the director went standby meanwhile). */
  stop(): void {
    this.#stopped = true;
  }

  get started(): boolean {
    return this.#next >= 0;
  }

  /** True once every frame has been handed out (or skipped), or after stop(). */
  get done(): boolean {
    return this.#stopped || this.#next >= this.#slots;
  }

  /** When the next frames are due, or null when nothing is planned (not started, or done). */
  nextAt(): number | null {
    if (this.#next < 0 || this.done) return null;
    return this.#slotTime(this.#next);
  }

  /** Frames to send now (in order), possibly none. */
  due(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.#next < 0 || this.done) return out;
    let last = this.#next - 1;
    while (last + 1 < this.#slots && this.#slotTime(last + 1) <= now) last++;
    if (last < this.#next) return out;
    const latest = this.#slotTime(last);
    const chosen: number[] = [];
    for (let s = this.#next; s <= last; s++) if (this.#slotTime(s) === latest) chosen.push(s);
    if (this.mode === 'pair') {
      // Make sure a late call still sends one frame of each kind.
      const hasReq = chosen.some((s) => (s & 1) === 0);
      const hasRep = chosen.some((s) => (s & 1) === 1);
      for (let s = last; s >= this.#next && (!hasReq || !hasRep); s--) {
        if (chosen.includes(s)) continue;
        if ((s & 1) === 0 && !hasReq) { chosen.unshift(s); break; }
        if ((s & 1) === 1 && !hasRep) { chosen.unshift(s); break; }
      }
      chosen.sort((x, y) => x - y);
    }
    this.skipped += (last - this.#next + 1 - chosen.length) * this.#perSlot();
    for (const s of chosen) {
      const frames = this.#slotIsRequest(s) ? this.#requests : this.#replies;
      for (const f of frames) out.push(f);
    }
    this.sent += out.length;
    this.#next = last + 1;
    return out;
  }

  #perSlot(): number {
    return this.mode === 'reply' ? this.#replies.length : this.#requests.length;
  }

  #slotIsRequest(s: number): boolean {
    return this.mode === 'pair' ? (s & 1) === 0 : this.mode === 'request';
  }

  #slotTime(s: number): number {
    if (this.mode !== 'pair') return this.#start + s * this.intervalMs;
    // send_arp sleeps interval/2 (C integer division) between the request and the reply.
    const half = Math.floor(this.intervalMs / 2);
    return this.#start + (s >> 1) * this.intervalMs + ((s & 1) === 1 ? half : 0);
  }
}
