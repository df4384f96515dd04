import { describe, expect, it } from 'vitest';
import { ArpResolver, RESOLVER_DEFAULTS, type ResolverEvent } from '../../src/arp/index.ts';
import { isDsrlbError } from '../../src/errors/index.ts';
import { arpReply, arpRequest, gratuitousArp } from '../../src/packet/arp.ts';
import { decodeFrame, FrameInfo } from '../../src/packet/index.ts';
import {
  CLIENT_IP, DIR_IP, DIR_MAC, hex, ip, norm, OTHER_MAC, pad, R1_IP, R1_MAC, R1_NEW_MAC, R2_IP, R2_MAC, toHex,
} from './helpers.ts';

const REQ = '0001 0800 06 04 0001';
/** The probe a fresh resolver sends for 10.0.0.21: broadcast, spa 0.0.0.0, tha zero. */
const PROBE_R1 = norm(`ffffffffffff 020000000001 0806 ${REQ} 020000000001 00000000 000000000000 0a000015 ${pad(18)}`);
/** The refresh probe: the same, unicast to the known MAC. */
const UPROBE_R1 = norm(`020000000021 020000000001 0806 ${REQ} 020000000001 00000000 000000000000 0a000015 ${pad(18)}`);

const info = new FrameInfo();

/** Feeds one frame as the engine would: decode, then input. */
function feed(r: ArpResolver, frame: Uint8Array, now: number): ResolverEvent | null {
  decodeFrame(frame, frame.length, info);
  return r.input(info, frame, now);
}

/** What a Linux real server sends back to our probe: unicast to us, tpa = the probe's spa (0). */
function answer(realMac: Uint8Array, realIp: number, tpa = 0): Uint8Array {
  return arpReply({ senderMac: realMac, senderIp: realIp, targetMac: DIR_MAC, targetIp: tpa });
}

const hexes = (fs: Uint8Array[]): string[] => fs.map(toHex);
const macHex = (m: Uint8Array | null | undefined): string | null => (m ? toHex(m) : null);

describe('arp/resolver', () => {
  it('defaults are the Linux ARP table defaults', () => {
    expect(RESOLVER_DEFAULTS).toEqual({
      senderIp: 0, retransMs: 1000, reachableMs: 30_000, ucastProbes: 3, mcastProbes: 3, failedRetryMs: 5000, lockMs: 1000,
    });
  });

  it('resolves: probe at once, reply -> resolved, reachable, lookup gives the MAC', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    expect(r.watch(R1_IP)).toBe(true);
    expect(r.state(R1_IP)).toBe('incomplete');
    expect(r.lookup(R1_IP)).toBeNull();
    expect(hexes(r.tick(0))).toEqual([PROBE_R1]);
    expect(r.tick(1)).toEqual([]);
    const ev = feed(r, answer(R1_MAC, R1_IP), 3);
    expect(ev).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
    expect(r.state(R1_IP)).toBe('reachable');
    expect(macHex(r.lookup(R1_IP))).toBe('020000000021');
    expect(r.get(R1_IP)).toMatchObject({ state: 'reachable', confirmedAt: 3, probes: 0, nextAt: 27_003 });
  });

  // Frames captured from Linux 6.18 in a network namespace (real server 10.0.0.21 at 02:00:00:00:00:21
  // with arp_ignore=1, arp_announce=2; veth does not pad, hence 42 bytes).
  it('learns from the reply Linux really sends to our 0.0.0.0 probe (captured)', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    expect(hexes(r.tick(0))).toEqual([PROBE_R1]);
    // unicast to us, spa = RIP, tha = our MAC, tpa = 0.0.0.0 (arp_process's sip == 0 case)
    const linuxReply = hex('020000000001 020000000021 0806 0001 0800 06 04 0002 020000000021 0a000015 020000000001 00000000');
    expect(feed(r, linuxReply, 1)).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
    expect(r.state(R1_IP)).toBe('reachable');
  });

  it("learns from Linux's own request (captured: who has 10.0.0.1? tell 10.0.0.21, tha zero)", () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    const linuxRequest = hex('ffffffffffff 020000000021 0806 0001 0800 06 04 0001 020000000021 0a000015 000000000000 0a000001');
    expect(feed(r, linuxRequest, 1)).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
    expect(r.state(R1_IP)).toBe('stale');
  });

  it('retransmits every second, fails after 3 requests, then retries every 5 s and recovers', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    const sent: [number, number][] = [];
    for (let t = 0; t <= 20_000; t += 100) {
      const fs = r.tick(t);
      if (fs.length) sent.push([t, fs.length]);
      for (const f of fs) expect(toHex(f)).toBe(PROBE_R1);
      if (t === 2900) expect(r.drainEvents()).toEqual([]);
      if (t === 3000) {
        expect(r.drainEvents()).toEqual([{ kind: 'failed', ip: R1_IP }]);
        expect(r.state(R1_IP)).toBe('failed');
      }
    }
    expect(sent).toEqual([[0, 1], [1000, 1], [2000, 1], [8000, 1], [13_000, 1], [18_000, 1]]);
    expect(r.drainEvents()).toEqual([]); // failed is reported once, not at every retry
    expect(feed(r, answer(R1_MAC, R1_IP), 18_010)).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
    expect(r.state(R1_IP)).toBe('reachable');
    expect(r.nextAt()).toBe(18_010 + 27_000);
  });

  it('refreshes before going stale: unicast probes at 27, 28, 29 s; an answer keeps it reachable, no event', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    feed(r, answer(R1_MAC, R1_IP), 0);
    expect(r.tick(26_999)).toEqual([]);
    expect(hexes(r.tick(27_000))).toEqual([UPROBE_R1]);
    expect(hexes(r.tick(28_000))).toEqual([UPROBE_R1]);
    expect(feed(r, answer(R1_MAC, R1_IP), 28_005)).toBeNull();
    expect(r.get(R1_IP)).toMatchObject({ state: 'reachable', confirmedAt: 28_005, probes: 0 });
    expect(r.tick(29_000)).toEqual([]);
    expect(r.nextAt()).toBe(55_005);
  });

  it('unanswered refresh: stale at 30 s (still used), broadcast probes, failed at 33 s with the last MAC', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    feed(r, answer(R1_MAC, R1_IP), 0);
    const log: string[] = [];
    for (let t = 27_000; t <= 34_000; t += 500) {
      for (const f of r.tick(t)) log.push(`${t} ${toHex(f) === UPROBE_R1 ? 'unicast' : toHex(f) === PROBE_R1 ? 'broadcast' : '?'}`);
      log.push(`${t} ${r.state(R1_IP)} ${macHex(r.lookup(R1_IP))}`);
    }
    expect(log.filter((l) => /cast/.test(l))).toEqual([
      '27000 unicast', '28000 unicast', '29000 unicast', '30000 broadcast', '31000 broadcast', '32000 broadcast',
    ]);
    expect(log).toContain('29500 reachable 020000000021');
    expect(log).toContain('30000 stale 020000000021');
    expect(log).toContain('32500 stale 020000000021');
    expect(log).toContain('33000 failed null');
    expect(r.drainEvents()).toEqual([{ kind: 'failed', ip: R1_IP, mac: R1_MAC }]);
  });

  it('a broadcast probe during refresh finds a server whose MAC changed -> changed event', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    feed(r, answer(R1_MAC, R1_IP), 0);
    for (const t of [27_000, 28_000, 29_000, 30_000]) r.tick(t);
    const held = r.lookup(R1_IP)!;
    const ev = feed(r, answer(R1_NEW_MAC, R1_IP), 30_002);
    expect(ev).toEqual({ kind: 'changed', ip: R1_IP, mac: R1_NEW_MAC, previous: R1_MAC });
    expect(macHex(r.lookup(R1_IP))).toBe('020000000031');
    expect(toHex(held)).toBe('020000000021'); // an array handed out earlier never changes
    expect(r.state(R1_IP)).toBe('reachable');
  });

  it('MAC change from a unicast reply outside locktime -> changed; inside locktime -> ignored', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    feed(r, answer(R1_MAC, R1_IP), 100);
    expect(feed(r, answer(R1_NEW_MAC, R1_IP), 600)).toBeNull(); // 500 ms after the update: first answer wins
    expect(macHex(r.lookup(R1_IP))).toBe('020000000021');
    expect(feed(r, answer(R1_NEW_MAC, R1_IP), 1100)).toEqual({ kind: 'changed', ip: R1_IP, mac: R1_NEW_MAC, previous: R1_MAC });
  });

  it('a gratuitous ARP overrides locktime (as Linux: override || is_garp)', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    feed(r, answer(R1_MAC, R1_IP), 100);
    const ev = feed(r, gratuitousArp(R1_NEW_MAC, R1_IP, 'reply'), 200);
    expect(ev).toEqual({ kind: 'changed', ip: R1_IP, mac: R1_NEW_MAC, previous: R1_MAC });
    // a broadcast reply does not prove reachability: stale, confirmed by a unicast probe right away
    expect(r.state(R1_IP)).toBe('stale');
    expect(hexes(r.tick(200))).toEqual([norm(`020000000031 020000000001 0806 ${REQ} 020000000001 00000000 000000000000 0a000015 ${pad(18)}`)]);
  });

  it('learns from a request whose sender is watched (stale, then confirmed by a unicast probe)', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    // the real server asks for its gateway before we asked anything
    const ask = arpRequest({ senderMac: R1_MAC, senderIp: R1_IP, targetIp: ip('10.0.0.254') });
    expect(feed(r, ask, 50)).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
    expect(r.state(R1_IP)).toBe('stale');
    expect(macHex(r.lookup(R1_IP))).toBe('020000000021');
    expect(hexes(r.tick(50))).toEqual([UPROBE_R1]);
    expect(feed(r, answer(R1_MAC, R1_IP), 52)).toBeNull();
    expect(r.state(R1_IP)).toBe('reachable');
    // the same request again changes nothing
    expect(feed(r, ask, 60)).toBeNull();
    expect(r.state(R1_IP)).toBe('reachable');
  });

  it('a request with the same MAC brings a failed entry back', () => {
    const r = new ArpResolver({ mac: DIR_MAC, mcastProbes: 1 });
    r.watch(R1_IP);
    r.tick(0);
    r.tick(1000);
    expect(r.drainEvents()).toEqual([{ kind: 'failed', ip: R1_IP }]);
    expect(feed(r, arpRequest({ senderMac: R1_MAC, senderIp: R1_IP, targetIp: CLIENT_IP }), 1500)).toEqual({
      kind: 'resolved', ip: R1_IP, mac: R1_MAC,
    });
    // fail again, then the same MAC answers: resolved again
    for (let t = 1500; t <= 10_000; t += 1000) r.tick(t);
    expect(r.drainEvents()).toEqual([{ kind: 'failed', ip: R1_IP, mac: R1_MAC }]);
    expect(feed(r, answer(R1_MAC, R1_IP), 10_001)).toEqual({ kind: 'resolved', ip: R1_IP, mac: R1_MAC });
  });

  it('ignores what the host would not take: unwatched IPs, promiscuous unicast, own frames, bad senders, other VLANs', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    r.tick(0);
    const ignored: [string, Uint8Array][] = [
      ['unwatched sender', answer(R2_MAC, R2_IP)],
      ['reply to another host', arpReply({ senderMac: R1_MAC, senderIp: R1_IP, targetMac: OTHER_MAC, targetIp: CLIENT_IP })],
      ['our own MAC as sender', arpReply({ senderMac: DIR_MAC, senderIp: R1_IP, targetMac: DIR_MAC, targetIp: 0 })],
      ['multicast sender MAC', hex(`020000000001 020000000021 0806 0001 0800 06 04 0002 01005e000001 0a000015 020000000001 00000000 ${pad(18)}`)],
      ['zero sender MAC', hex(`020000000001 020000000021 0806 0001 0800 06 04 0002 000000000000 0a000015 020000000001 00000000 ${pad(18)}`)],
      ['tagged, resolver untagged', arpReply({ senderMac: R1_MAC, senderIp: R1_IP, targetMac: DIR_MAC, targetIp: 0, vlan: 10 })],
      ['operation 3', hex(`020000000001 020000000021 0806 0001 0800 06 04 0003 020000000021 0a000015 020000000001 00000000 ${pad(18)}`)],
      ['truncated', answer(R1_MAC, R1_IP).slice(0, 40)],
      ['IPv4', hex(`020000000001 020000000021 0800 4500 0014 0000 4000 4000 0000 0a000015 0a000001 ${pad(26)}`)],
    ];
    for (const [what, f] of ignored) {
      expect([what, feed(r, f, 5)]).toEqual([what, null]);
    }
    expect(r.state(R1_IP)).toBe('incomplete');
    expect(r.lookup(R2_IP)).toBeNull();
    expect(r.state(R2_IP)).toBeNull();
  });

  it('on a VLAN: requests are tagged, only that VLAN is learnt', () => {
    const r = new ArpResolver({ mac: DIR_MAC, vlan: 10 });
    r.watch(R1_IP);
    expect(hexes(r.tick(0))).toEqual([
      norm(`ffffffffffff 020000000001 8100 000a 0806 ${REQ} 020000000001 00000000 000000000000 0a000015 ${pad(14)}`),
    ]);
    expect(feed(r, answer(R1_MAC, R1_IP), 1)).toBeNull();
    expect(feed(r, arpReply({ senderMac: R1_MAC, senderIp: R1_IP, targetMac: DIR_MAC, targetIp: 0, vlan: 11 }), 1)).toBeNull();
    expect(feed(r, arpReply({ senderMac: R1_MAC, senderIp: R1_IP, targetMac: DIR_MAC, targetIp: 0, vlan: 10 }), 2)).toEqual({
      kind: 'resolved', ip: R1_IP, mac: R1_MAC,
    });
  });

  it('sends from the configured address when the host has one on the subnet', () => {
    const r = new ArpResolver({ mac: DIR_MAC, senderIp: DIR_IP });
    r.watch(R1_IP);
    expect(hexes(r.tick(0))).toEqual([norm(`ffffffffffff 020000000001 0806 ${REQ} 020000000001 0a000001 000000000000 0a000015 ${pad(18)}`)]);
    r.setSenderIp(0);
    expect(r.senderIp).toBe(0);
    expect(hexes(r.tick(1000))).toEqual([PROBE_R1]);
  });

  it('several entries: one request each per tick, nextAt is the earliest, unwatch stops everything', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    expect(r.nextAt()).toBeNull();
    r.watch(R1_IP);
    expect(r.watch(R1_IP)).toBe(false);
    r.watch(R2_IP);
    expect(r.watched().sort()).toEqual([R1_IP, R2_IP].sort());
    expect(r.nextAt()).toBe(-Infinity);
    expect(r.tick(0).length).toBe(2);
    feed(r, answer(R2_MAC, R2_IP), 500);
    expect(r.nextAt()).toBe(1000); // R1's retransmission comes before R2's refresh
    expect(r.tick(1000).length).toBe(1);
    expect(r.unwatch(R1_IP)).toBe(true);
    expect(r.unwatch(R1_IP)).toBe(false);
    expect(r.nextAt()).toBe(27_500);
    expect(r.tick(20_000)).toEqual([]);
    expect(r.entries().map((e) => [e.ip, e.state, macHex(e.mac)])).toEqual([[R2_IP, 'reachable', '020000000022']]);
  });

  it('a late tick sends one request per entry, not a burst', () => {
    const r = new ArpResolver({ mac: DIR_MAC });
    r.watch(R1_IP);
    expect(r.tick(0).length).toBe(1);
    expect(r.tick(100_000).length).toBe(1);
    expect(r.get(R1_IP)!.probes).toBe(2);
  });

  it('rejects bad arguments with E_ARP_ARGS', () => {
    const bads: (() => unknown)[] = [
      () => new ArpResolver({ mac: new Uint8Array(3) }),
      () => new ArpResolver({ mac: DIR_MAC, senderIp: -1 }),
      () => new ArpResolver({ mac: DIR_MAC, retransMs: 0 }),
      () => new ArpResolver({ mac: DIR_MAC, mcastProbes: 0 }),
      () => new ArpResolver({ mac: DIR_MAC, vlan: -2 }),
      () => new ArpResolver({ mac: DIR_MAC }).watch(0),
      () => new ArpResolver({ mac: DIR_MAC }).watch(ip('224.0.0.1')),
      () => new ArpResolver({ mac: DIR_MAC }).watch(ip('127.0.0.1')),
      () => new ArpResolver({ mac: DIR_MAC }).watch(ip('255.255.255.255')),
      () => new ArpResolver({ mac: DIR_MAC }).setSenderIp(2 ** 33),
    ];
    for (const f of bads) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isDsrlbError(err) && err.code === 'E_ARP_ARGS').toBe(true);
    }
  });
});
