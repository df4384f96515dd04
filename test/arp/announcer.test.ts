import { describe, expect, it } from 'vitest';
import { GarpAnnouncer, GARP_IPADDR, GARP_IPADDR2 } from '../../src/arp/index.ts';
import { isDsrlbError } from '../../src/errors/index.ts';
import { DIR_MAC, norm, pad, toHex, VIP, VIP2 } from './helpers.ts';

const GREQ_VIP = norm(`ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000064 000000000000 0a000064 ${pad(18)}`);
const GREP_VIP = norm(`ffffffffffff 020000000001 0806 0001 0800 06 04 0002 020000000001 0a000064 020000000001 0a000064 ${pad(18)}`);
const GREQ_VIP2 = norm(`ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000065 000000000000 0a000065 ${pad(18)}`);
const GREP_VIP2 = norm(`ffffffffffff 020000000001 0806 0001 0800 06 04 0002 020000000001 0a000065 020000000001 0a000065 ${pad(18)}`);

function kind(f: Uint8Array): string {
  const h = toHex(f);
  return h === GREQ_VIP ? 'req' : h === GREP_VIP ? 'rep' : h === GREQ_VIP2 ? 'req2' : h === GREP_VIP2 ? 'rep2' : `?${h}`;
}

/** Drives the announcer exactly at each nextAt(), like an engine timer would: [time, frame kinds]. */
function timeline(a: GarpAnnouncer, limit = 1000): [number, string[]][] {
  const out: [number, string[]][] = [];
  for (let i = 0; i < limit; i++) {
    const t = a.nextAt();
    if (t === null) break;
    expect(a.due(t - 1)).toEqual([]); // nothing early
    out.push([t, a.due(t).map(kind)]);
  }
  return out;
}

describe('arp/announcer: gratuitous ARP plan', () => {
  it('defaults are heartbeat IPaddr: 10 pairs, 500 ms apart, reply half an interval after the request', () => {
    expect(GARP_IPADDR).toEqual({ count: 10, intervalMs: 500 });
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP] });
    expect([a.count, a.intervalMs, a.mode]).toEqual([10, 500, 'pair']);
    a.start(10_000);
    const tl = timeline(a);
    const expected: [number, string[]][] = [];
    for (let k = 0; k < 10; k++) {
      expected.push([10_000 + k * 500, ['req']]);
      expected.push([10_000 + k * 500 + 250, ['rep']]);
    }
    expect(tl).toEqual(expected);
    expect(a.done).toBe(true);
    expect(a.nextAt()).toBeNull();
    expect(a.due(1e9)).toEqual([]);
    expect([a.sent, a.skipped]).toEqual([20, 0]);
  });

  it('exact frame bytes: broadcast request (tha zero) and broadcast reply (tha = sha), spa = tpa = VIP', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 1 });
    a.start(0);
    const [req] = a.due(0);
    const [rep] = a.due(250);
    expect(toHex(req!)).toBe(GREQ_VIP);
    expect(toHex(rep!)).toBe(GREP_VIP);
    expect(a.done).toBe(true);
  });

  it('IPaddr2 preset: 5 pairs, 200 ms apart', () => {
    expect(GARP_IPADDR2).toEqual({ count: 5, intervalMs: 200 });
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], ...GARP_IPADDR2 });
    a.start(0);
    expect(timeline(a)).toEqual([
      [0, ['req']], [100, ['rep']], [200, ['req']], [300, ['rep']], [400, ['req']],
      [500, ['rep']], [600, ['req']], [700, ['rep']], [800, ['req']], [900, ['rep']],
    ]);
  });

  it('several VIPs are announced at the same instants, in the order given', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP, VIP2], count: 2, intervalMs: 1000 });
    a.start(0);
    expect(timeline(a)).toEqual([
      [0, ['req', 'req2']], [500, ['rep', 'rep2']], [1000, ['req', 'req2']], [1500, ['rep', 'rep2']],
    ]);
  });

  it('odd interval: the half is rounded down, as send_arp sleeps interval/2 in integer ms', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 2, intervalMs: 201 });
    a.start(0);
    expect(timeline(a).map(([t]) => t)).toEqual([0, 100, 201, 301]);
  });

  it("mode 'request' with requestTarget 'broadcast' reproduces arping -U: requests only, tha ff", () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 3, intervalMs: 1000, mode: 'request', requestTarget: 'broadcast' });
    a.start(0);
    const frames: [number, string][] = [];
    for (let t = a.nextAt(); t !== null; t = a.nextAt()) for (const f of a.due(t)) frames.push([t, toHex(f)]);
    const arpingU = norm(`ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000064 ffffffffffff 0a000064 ${pad(18)}`);
    expect(frames).toEqual([[0, arpingU], [1000, arpingU], [2000, arpingU]]);
  });

  it("mode 'reply' reproduces arping -A: replies only", () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 2, intervalMs: 300, mode: 'reply' });
    a.start(0);
    expect(timeline(a)).toEqual([[0, ['rep']], [300, ['rep']]]);
  });

  it('VLAN-tagged announcements', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 1, vlan: 10 });
    a.start(0);
    expect(toHex(a.due(0)[0]!)).toBe(
      norm(`ffffffffffff 020000000001 8100 000a 0806 0001 0800 06 04 0001 020000000001 0a000064 000000000000 0a000064 ${pad(14)}`),
    );
  });

  it('a late call sends the latest request and the latest reply once, not a burst; the schedule stays anchored', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP] }); // 0,250,500,750,1000,1250,1500,...
    a.start(0);
    expect(a.due(1600).map(kind)).toEqual(['rep', 'req']); // reply of 1250, request of 1500
    expect(a.skipped).toBe(5);
    expect(a.nextAt()).toBe(1750);
    expect(a.due(1750).map(kind)).toEqual(['rep']);
    expect(a.due(1e6).map(kind)).toEqual(['req', 'rep']); // jump to the end: last pair only
    expect(a.done).toBe(true);
    expect(a.sent + a.skipped).toBe(20);
  });

  it('interval 0 sends every pair at once', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 3, intervalMs: 0 });
    a.start(5);
    expect(a.due(5).map(kind)).toEqual(['req', 'rep', 'req', 'rep', 'req', 'rep']);
    expect(a.done).toBe(true);
  });

  it('before start: nothing; stop() abandons the plan; start() again restarts it', () => {
    const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP], count: 2, intervalMs: 100 });
    expect([a.started, a.done, a.nextAt()]).toEqual([false, false, null]);
    expect(a.due(1e9)).toEqual([]);
    a.start(0);
    expect(a.due(0).map(kind)).toEqual(['req']);
    a.stop();
    expect([a.done, a.nextAt()]).toEqual([true, null]);
    expect(a.due(1e9)).toEqual([]);
    a.start(1000);
    expect(timeline(a)).toEqual([[1000, ['req']], [1050, ['rep']], [1100, ['req']], [1150, ['rep']]]);
  });

  it('rejects bad options with E_ARP_ARGS', () => {
    const bads = [
      { mac: DIR_MAC, ips: [VIP], count: 0 },
      { mac: DIR_MAC, ips: [VIP], count: 1.5 },
      { mac: DIR_MAC, ips: [VIP], intervalMs: -1 },
      { mac: DIR_MAC, ips: [VIP], intervalMs: Number.POSITIVE_INFINITY },
      { mac: DIR_MAC, ips: [] },
      { mac: new Uint8Array(4), ips: [VIP] },
      { mac: DIR_MAC, ips: [-5] },
      { mac: DIR_MAC, ips: [VIP], mode: 'both' as 'pair' },
      { mac: DIR_MAC, ips: [VIP], vlan: 5000 },
    ];
    for (const o of bads) {
      let err: unknown;
      try {
        new GarpAnnouncer(o);
      } catch (e) {
        err = e;
      }
      expect(isDsrlbError(err) && err.code === 'E_ARP_ARGS').toBe(true);
    }
  });
});
