import { describe, expect, it } from 'vitest';
import { ACK, CLIENT, SYN, TCP, VIP, counts, openTcp, setup } from './helpers.ts';

describe('bounded size and eviction', () => {
  it('never holds more than capacity; counts evictions; counters stay right', () => {
    const { t, d } = setup({ capacity: 64 });
    for (let i = 0; i < 1000; i++) {
      const h = openTcp(t, CLIENT + i, 2000 + 2 * (i % 7), i % 3, i);
      expect(h).toBeGreaterThanOrEqual(0);
      if (i % 2) t.tcpInput(h, ACK, i);
      expect(t.size).toBeLessThanOrEqual(64);
    }
    expect(t.size).toBe(64);
    expect(t.evictions).toBe(1000 - 64);
    expect(d.reduce((s, x) => s + x.activeConns + x.inactConns, 0)).toBe(64);
    expect(t.insertFailures).toBe(0);
  });

  it('takes an expired entry first (not counted as an eviction)', () => {
    const { t } = setup({ capacity: 4 });
    for (let i = 0; i < 3; i++) t.tcpInput(openTcp(t, CLIENT + i, 1, 0, 0), ACK, 0); // 900 s
    openTcp(t, CLIENT + 3, 1, 0, 0); // SYN_RECV: due at 60 s
    openTcp(t, CLIENT + 4, 1, 0, 60_000);
    expect(t.evictions).toBe(0);
    expect(t.expirations).toBe(1);
    expect(t.lookup(TCP, CLIENT + 3, 1, VIP, 80, 60_000)).toBe(-1);
    for (let i = 0; i < 3; i++) expect(t.lookup(TCP, CLIENT + i, 1, VIP, 80, 60_000)).toBeGreaterThanOrEqual(0);
  });

  it('else evicts the live entry closest to expiry', () => {
    const { t, d } = setup({ capacity: 4 });
    const hs = [0, 1, 2, 3].map((i) => openTcp(t, CLIENT + i, 1, i % 3, 0));
    for (const h of hs) t.tcpInput(h, ACK, 0); // all due at 900 000
    t.tcpInput(hs[2]!, ACK | 0x08, 0);
    t.tcpInput(hs[2]!, 0x01, 5); // FIN: due at 120 005, the earliest
    openTcp(t, CLIENT + 9, 1, 0, 10);
    expect(t.evictions).toBe(1);
    expect(t.lookup(TCP, CLIENT + 2, 1, VIP, 80, 10)).toBe(-1);
    expect(counts(d[2]!)).toEqual([0, 0, 0]);
    for (const i of [0, 1, 3]) expect(t.lookup(TCP, CLIENT + i, 1, VIP, 80, 10)).toBeGreaterThanOrEqual(0);
  });

  it('never evicts the template being attached nor a template that controls connections', () => {
    const { t } = setup({ capacity: 2 });
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, 1000, 0); // earliest expiry of all
    const a = t.create(TCP, CLIENT, 1, VIP, 80, 0, 0, tp);
    t.tcpInput(a, SYN, 0);
    const b = t.create(TCP, CLIENT, 2, VIP, 80, 0, 1, tp); // must evict a, not tp
    expect(b).toBeGreaterThanOrEqual(0);
    expect(t.isTemplate(tp)).toBe(true);
    expect(t.templateOf(b)).toBe(tp);
    expect(t.nControl(tp)).toBe(1);
    expect(t.evictions).toBe(1);
  });

  it('an evicted connection takes its unassured template with it', () => {
    const { t, d } = setup({ capacity: 3 });
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 1, 900_000, 0);
    const a = t.create(TCP, CLIENT, 1, VIP, 80, 1, 0, tp);
    t.tcpInput(a, SYN, 0); // due at 60 000, the earliest
    t.tcpInput(openTcp(t, CLIENT + 1, 1, 0, 0), ACK, 0);
    openTcp(t, CLIENT + 2, 1, 0, 1);
    expect(t.evictions).toBe(1);
    expect(t.size).toBe(2); // a and tp both gone
    expect(counts(d[1]!)).toEqual([0, 0, 0]);
  });

  it('an assured template stays when its evicted connection goes', () => {
    const { t, d } = setup({ capacity: 3 });
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 1, 900_000, 0);
    const a = t.create(TCP, CLIENT, 1, VIP, 80, 1, 0, tp);
    t.tcpInput(a, SYN, 0);
    t.tcpInput(a, ACK, 0);
    t.tcpInput(a, 0x01, 0); // FIN_WAIT: due at 120 000
    t.tcpInput(openTcp(t, CLIENT + 1, 1, 0, 0), ACK, 0);
    openTcp(t, CLIENT + 2, 1, 0, 1);
    expect(t.size).toBe(3);
    expect(counts(d[1]!)).toEqual([0, 0, 1]);
  });

  it('fails the insert (and counts it) when nothing can be evicted', () => {
    const { t } = setup({ capacity: 1 });
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, 300_000, 0);
    expect(t.create(TCP, CLIENT, 1, VIP, 80, 0, 5, tp)).toBe(-1);
    expect(t.insertFailures).toBe(1);
    expect(t.expiresAt(tp)).toBe(300_005); // re-armed all the same, as ip_vs_sched_persist does
  });
});
