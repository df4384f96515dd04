/**
 * The connection table for IPv6 flows (ipv6: true): records keyed on the kernel's 32-bit folds of
 * the addresses, with the full addresses compared on lookup. Clients whose addresses fold alike
 * (the IPv6 vectors have such pairs, e.g. 2001:db8::2001:db8 folds to 0) must stay separate flows.
 */
import { describe, expect, it } from 'vitest';
import { ConnState, loadKey6 } from '../../src/conn/index.ts';
import { foldIPv6, parseIPv6 } from '../../src/model/index.ts';
import { ACK, FIN, SYN, TCP, UDP, counts, setup } from './helpers.ts';

const VIP6 = parseIPv6('2001:db8::10')!;

function key(client: string, vip = VIP6): Int32Array {
  const buf = new Uint8Array(32);
  buf.set(parseIPv6(client)!, 0);
  buf.set(vip, 16);
  return loadKey6(buf, 0, 16, new Int32Array(8));
}

describe('IPv6 connection table', () => {
  // Three addresses with one fold: xor of the four big-endian words.
  const a = '2001:db8::2001:db8';
  const b = '2001:db8:1::2000:db8';
  const c = '::';
  it('the test addresses do fold alike (else this file proves nothing)', () => {
    expect(foldIPv6(parseIPv6(a)!)).toBe(0);
    expect(foldIPv6(parseIPv6(b)!)).toBe(0);
    expect(foldIPv6(parseIPv6(c)!)).toBe(0);
  });

  it('keeps flows whose clients fold alike apart, with their own reals and states', () => {
    const { t, d } = setup({ ipv6: true });
    const ha = t.create6(TCP, key(a), 30000, 80, 0, 1000);
    t.tcpInput(ha, SYN, 1000);
    expect(t.lookup6(TCP, key(b), 30000, 80, 1001)).toBe(-1);
    const hb = t.create6(TCP, key(b), 30000, 80, 1, 1001);
    t.tcpInput(hb, SYN, 1001);
    expect(hb).not.toBe(ha);
    expect(t.lookup6(TCP, key(a), 30000, 80, 1002)).toBe(ha);
    expect(t.lookup6(TCP, key(b), 30000, 80, 1002)).toBe(hb);
    expect(t.lookup6(TCP, key(c), 30000, 80, 1002)).toBe(-1);
    expect(t.destId(ha)).toBe(0);
    expect(t.destId(hb)).toBe(1);
    // The state machine applies to each on its own.
    expect(t.tcpInput(ha, ACK, 1003)).toBe(ConnState.Established);
    expect(t.tcpInput(hb, FIN, 1003)).toBe(ConnState.TimeWait);
    expect(counts(d[0]!)).toEqual([1, 0, 0]);
    expect(counts(d[1]!)).toEqual([0, 1, 0]);
    // Expiring one leaves the other.
    t.remove(ha);
    expect(t.lookup6(TCP, key(a), 30000, 80, 1004)).toBe(-1);
    expect(t.lookup6(TCP, key(b), 30000, 80, 1004)).toBe(hb);
    expect(t.size).toBe(1);
  });

  it('tells apart virtual addresses that fold alike, and protocols', () => {
    const { t } = setup({ ipv6: true });
    const otherVip = parseIPv6('2001:db9::11')!; // the same fold as 2001:db8::10
    expect(foldIPv6(otherVip)).toBe(foldIPv6(VIP6));
    const h1 = t.create6(TCP, key(a), 1, 80, 0, 0);
    const h2 = t.create6(TCP, key(a, otherVip), 1, 80, 1, 0);
    const h3 = t.create6(UDP, key(a), 1, 80, 2, 0);
    expect(new Set([h1, h2, h3]).size).toBe(3);
    expect(t.lookup6(TCP, key(a), 1, 80, 1)).toBe(h1);
    expect(t.lookup6(TCP, key(a, otherVip), 1, 80, 1)).toBe(h2);
    expect(t.lookup6(UDP, key(a), 1, 80, 1)).toBe(h3);
  });

  it('finds flows on overflow chains: many colliding clients in a small table', () => {
    const { t } = setup({ ipv6: true, capacity: 64 });
    const hs: number[] = [];
    // 40 clients with fold 0 and the same ports: one line, so all but two sit on its chain.
    for (let i = 0; i < 40; i++) {
      const w = (0x1000 + i).toString(16);
      expect(foldIPv6(parseIPv6(`2001:db8:${w}:0:${w}:0:2001:db8`)!)).toBe(0);
      hs.push(t.create6(TCP, key(`2001:db8:${w}:0:${w}:0:2001:db8`), 5000, 80, i % 3, 0));
    }
    expect(new Set(hs).size).toBe(40);
    for (let i = 0; i < 40; i++) {
      const w = (0x1000 + i).toString(16);
      expect(t.lookup6(TCP, key(`2001:db8:${w}:0:${w}:0:2001:db8`), 5000, 80, 1)).toBe(hs[i]);
    }
    // Remove every other one; the rest stay reachable, the removed are gone.
    for (let i = 0; i < 40; i += 2) t.remove(hs[i]!);
    for (let i = 0; i < 40; i++) {
      const w = (0x1000 + i).toString(16);
      expect(t.lookup6(TCP, key(`2001:db8:${w}:0:${w}:0:2001:db8`), 5000, 80, 1)).toBe(i % 2 === 0 ? -1 : hs[i]);
    }
  });

  it('reaps a due IPv6 entry on lookup, as lookup() does', () => {
    const { t } = setup({ ipv6: true });
    const h = t.create6(UDP, key(a), 53, 53, 0, 0);
    t.udpInput(h, 0);
    expect(t.lookup6(UDP, key(a), 53, 53, t.expiresAt(h) - 1)).toBe(h);
    expect(t.lookup6(UDP, key(a), 53, 53, t.expiresAt(h))).toBe(-1);
    expect(t.size).toBe(0);
  });

  it('an IPv4 table carries no IPv6 side array', () => {
    const v4 = setup({ capacity: 1024 }).t.bytesPerEntry();
    const v6 = setup({ capacity: 1024, ipv6: true }).t.bytesPerEntry();
    expect(v6 - v4).toBe(64);
  });
});
