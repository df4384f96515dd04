/** The kernel's ICMP limits for the errors the director sends (icmp_send → icmpv4_xrlim_allow). */
import { describe, expect, it } from 'vitest';
import { IcmpRateLimit } from '../../src/dataplane/icmp-limit.ts';

describe('IcmpRateLimit', () => {
  it('one destination: a burst of 6, then one per icmp_ratelimit (1 s)', () => {
    const l = new IcmpRateLimit();
    const at0 = Array.from({ length: 10 }, () => l.allow(0x0a000001, 1000));
    expect(at0.filter(Boolean)).toHaveLength(6);
    expect(l.allow(0x0a000001, 1500)).toBe(false);
    expect(l.allow(0x0a000001, 2001)).toBe(true);
    expect(l.allow(0x0a000001, 2002)).toBe(false);
    expect(l.limited).toBe(6);
  });

  it('many destinations: the global bucket (burst 50, 1000/s) caps the total', () => {
    const l = new IcmpRateLimit();
    let sent = 0;
    for (let i = 0; i < 200; i++) if (l.allow(i, 0)) sent++;
    expect(sent).toBe(50);
    // 10 ms later, 10 more tokens (1000/s)
    let more = 0;
    for (let i = 200; i < 260; i++) if (l.allow(i, 10)) more++;
    expect(more).toBe(10);
  });

  it('the per-destination limit can be turned off (icmp_ratelimit 0); the peer table is bounded', () => {
    const off = new IcmpRateLimit({ peerIntervalMs: 0 });
    expect(Array.from({ length: 20 }, () => off.allow(1, 0)).every(Boolean)).toBe(true);
    const small = new IcmpRateLimit({ maxPeers: 2, burst: 1000 });
    for (let i = 0; i < 6; i++) small.allow(1, 0); // peer 1 exhausted
    small.allow(2, 0);
    small.allow(3, 0); // evicts peer 1, the oldest
    expect(small.allow(1, 0)).toBe(true); // a forgotten peer starts afresh
  });
});
