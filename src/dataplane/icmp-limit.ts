/**
 * The kernel's limits on the ICMP errors a host sends (icmp_send → icmpv4_xrlim_allow), for the
 * messages the director itself generates (time exceeded): a global token bucket
 * (net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50) and one per destination host
 * (net.ipv4.icmp_ratelimit 1000 ms a message, a burst of 6: XRLIM_BURST_FACTOR). Echo replies are
 * not limited (icmp_ratemask leaves them out), as in the kernel.
 *
 * Pure: time is an argument (ms); the peer map is bounded (the oldest peer goes first).
 */
export interface IcmpLimitOptions {
  /** Global rate, messages per second (icmp_msgs_per_sec). */
  perSecond?: number;
  /** Global burst (icmp_msgs_burst). */
  burst?: number;
  /** One message per destination every N ms (icmp_ratelimit); 0 turns the per-destination limit off. */
  peerIntervalMs?: number;
  /** Destinations remembered at most. */
  maxPeers?: number;
}

const XRLIM_BURST_FACTOR = 6;

export class IcmpRateLimit {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly interval: number;
  private readonly maxPeers: number;
  private credit: number;
  private last = -Infinity;
  /** Per destination: an IPv4 address, or an IPv6 address as hex text (ICMPv6 shares the global bucket). */
  private readonly peers = new Map<number | string, { tokens: number; last: number }>();
  /** Messages refused so far. */
  limited = 0;

  constructor(o: IcmpLimitOptions = {}) {
    this.perMs = (o.perSecond ?? 1000) / 1000;
    this.burst = o.burst ?? 50;
    this.interval = o.peerIntervalMs ?? 1000;
    this.maxPeers = o.maxPeers ?? 4096;
    this.credit = this.burst;
  }

  /**
   * May a message go to `dst` at `now`? Takes the tokens when it may. `scale` shortens the
   * per-destination interval (ICMPv6 scales it by the route's prefix length).
   */
  allow(dst: number | string, now: number, scale = 1): boolean {
    if (this.last !== -Infinity) this.credit = Math.min(this.burst, this.credit + (now - this.last) * this.perMs);
    this.last = now;
    if (this.credit < 1) {
      this.limited++;
      return false;
    }
    const interval = this.interval * scale;
    if (interval > 0) {
      let p = this.peers.get(dst);
      if (p === undefined) {
        if (this.peers.size >= this.maxPeers) this.peers.delete(this.peers.keys().next().value!);
        p = { tokens: XRLIM_BURST_FACTOR * interval, last: now };
        this.peers.set(dst, p);
      }
      const tokens = Math.min(XRLIM_BURST_FACTOR * interval, p.tokens + (now - p.last));
      p.last = now;
      if (tokens < interval) {
        p.tokens = tokens;
        this.limited++;
        return false;
      }
      p.tokens = tokens - interval;
    }
    this.credit -= 1;
    return true;
  }
}
