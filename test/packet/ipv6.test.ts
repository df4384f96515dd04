/**
 * The IPv6 frame decoder: real frames (what Linux 6.1 IPVS forwarded in the oracle run
 * test/fixtures/ipvs-oracle/ipv6/out/rr3.*, and the capture it was given), byte fixtures written out
 * by hand, every named reason, the hop-limit helper, and fuzzing: it never throws, never reports an
 * offset outside the frame, and a chain built at random decodes to what was built.
 */
import fc from 'fast-check';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { readPcapFile } from '../../src/io/index.ts';
import { foldIPv6, ipv6ToString, parseIPv6 } from '../../src/model/index.ts';
import {
  ETHERTYPE_IPV6, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_ROUTING,
  IPPROTO_TCP, IPPROTO_UDP, IPV6_DROP_REASONS, IPV6_DROP_REASON_HELP, Ipv6Info, TCP_ACK, TCP_SYN,
  decodeIPv6Frame, decrementHopLimit, describeIpv6Error, ethernet, fragmentHeader, ipv6, optionsHeader, routingHeader, tcp6, udp6,
} from '../../src/packet/index.ts';
import type { Ipv6DropReason } from '../../src/packet/index.ts';

const FIX = new URL('../fixtures/ipvs-oracle/ipv6/', import.meta.url).pathname;
const DIR_MAC = '02:ce:00:00:00:02';
const CLI_MAC = '02:c6:00:00:00:01';
const C = '2001:db8::1';
const VIP = '2001:db8::10';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));
const decode = (f: Uint8Array, len = f.length) => {
  const info = new Ipv6Info();
  const ok = decodeIPv6Frame(f, len, info);
  return { ok, info };
};
const addr = (f: Uint8Array, off: number) => ipv6ToString(f, off);
const frame = (next: number, payload: Uint8Array, o: { hopLimit?: number; payloadLength?: number } = {}) =>
  ethernet(DIR_MAC, CLI_MAC, ETHERTYPE_IPV6, ipv6({ src: C, dst: VIP, next, payload, ...o }));
const cat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => [...x]));
const syn = (sport = 41000) => tcp6({ src: C, dst: VIP, sport, dport: 80, seq: 1000, flags: 'SYN' });

describe('IPv6 addresses', () => {
  it('folds as the kernel does: xor of the four big-endian words', () => {
    expect(foldIPv6(parseIPv6('2001:db8::1')!)).toBe(0x20010db9);
    expect(foldIPv6(parseIPv6('2001:db8::2001:db8')!)).toBe(0);
    expect(foldIPv6(parseIPv6('2001:db8::dffe:f2b8')!)).toBe(0xffffff00);
    expect(foldIPv6(parseIPv6('2001:db8:1:203:405:607:809:a0b')!)).toBe((0x20010db8 ^ 0x00010203 ^ 0x04050607 ^ 0x08090a0b) >>> 0);
    // at an offset inside a frame
    const f = cat(new Uint8Array(3), parseIPv6('2001:db8:ffff:ffff:ffff:ffff:ffff:23')!);
    expect(foldIPv6(f, 3)).toBe(0xdffe0d9b);
  });

  it('parses and prints like the WHATWG URL serialiser (RFC 5952 compression)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 8 }), (b, zeros) => {
      // runs of zero groups make compression choices matter
      for (let i = 0; i < zeros * 2 && i < 16; i++) b[(i + zeros) % 16] = 0;
      const text = ipv6ToString(b);
      const url = new URL(`http://[${text}]/`).hostname;
      expect(`[${text}]`).toBe(url);
      expect([...parseIPv6(text)!]).toEqual([...b]);
    }), { numRuns: 2000 });
    for (const bad of ['', ':', '1:2:3:4:5:6:7', '1::2::3', '12345::', 'g::', '::1.2.3.256', '1:2:3:4:5:6:7:8:9', '[::1]']) {
      expect(parseIPv6(bad), bad).toBeNull();
    }
    expect(ipv6ToString(parseIPv6('::ffff:10.1.2.3')!)).toBe('::ffff:a01:203');
    expect(ipv6ToString(parseIPv6('2001:db8:0:1:0:0:0:1')!)).toBe('2001:db8:0:1::1');
    expect(ipv6ToString(parseIPv6('2001:0:0:1:0:0:0:1')!)).toBe('2001:0:0:1::1');
  });
});

describe('decodeIPv6Frame on real frames', () => {
  // What the kernel forwarded (hop limit 63) in the rr3 oracle run, in its own order.
  const out = readPcapFile(`${FIX}out/rr3.director-out.pcap`).records.map((r) => r.data);
  const input = readPcapFile(`${FIX}pcap/rr3.pcap`).records.map((r) => r.data);
  const bySport = (frames: Uint8Array[], sport: number) => frames.find((f) => {
    const { ok, info } = decode(f);
    return ok && info.srcPort === sport && (info.tcpFlags & TCP_SYN) !== 0;
  })!;

  it('a SYN behind a destination-options header, as IPVS forwarded it', () => {
    const f = bySport(out, 41000);
    const { ok, info } = decode(f);
    expect(ok).toBe(true);
    expect([info.l3Off, info.payloadLen, info.hopLimit, info.nextHeader, info.extCount, info.extLen, info.hasDstOpts]).toEqual([14, 28, 63, IPPROTO_DSTOPTS, 1, 8, true]);
    expect([info.upperProto, info.l4Off, info.srcPort, info.dstPort, info.tcpFlags, info.payloadOff]).toEqual([IPPROTO_TCP, 62, 41000, 80, TCP_SYN, 82]);
    expect([addr(f, info.srcOff), addr(f, info.dstOff)]).toEqual(['2001:db8::1', '2001:db8::10']);
    expect(info.l3End).toBe(f.length);
  });

  it('hop-by-hop then destination options; a routing header with no segments left', () => {
    const a = decode(bySport(out, 41002)).info;
    expect([a.nextHeader, a.extCount, a.extLen, a.hasHopByHop, a.hasDstOpts, a.l4Off, a.srcPort]).toEqual([IPPROTO_HOPOPTS, 2, 16, true, true, 70, 41002]);
    const r = decode(bySport(out, 41006)).info;
    expect([r.nextHeader, r.routingType, r.routingSegmentsLeft, r.l4Off, r.srcPort]).toEqual([IPPROTO_ROUTING, 0, 0, 62, 41006]);
  });

  it('an atomic fragment as sent, and as the kernel forwarded it (reassembled: no fragment header)', () => {
    const sent = decode(bySport(input, 41004)).info;
    expect([sent.isFragment, sent.fragOffset, sent.moreFragments, sent.fragId, sent.l4Off, sent.hopLimit]).toEqual([true, 0, false, 0x5eed0001, 62, 64]);
    const fwd = decode(bySport(out, 41004)).info;
    expect([fwd.isFragment, fwd.extCount, fwd.l4Off, fwd.hopLimit]).toEqual([false, 0, 54, 63]);
  });

  it('every frame of the capture and of the kernel output decodes', () => {
    let syns = 0;
    for (const f of [...input, ...out]) {
      const { ok, info } = decode(f);
      expect(ok, describeIpv6Error(info)).toBe(true);
      if (info.upperProto === IPPROTO_TCP && info.tcpFlags === TCP_SYN) syns++;
    }
    expect(syns).toBe(2 * 104);
    const ns = decode(input[0]!).info;
    expect([ns.upperProto, ns.icmpType, ns.hopLimit, addr(input[0]!, ns.dstOff)]).toEqual([IPPROTO_ICMPV6, 135, 255, 'ff02::1:ff00:10']);
  });
});

describe('decodeIPv6Frame on byte fixtures', () => {
  // A UDP datagram written out by hand: 2001:db8::1.5353 > 2001:db8::10.53, 1 byte of data, behind
  // one 802.1Q tag (VLAN 7) and a destination-options header holding a Pad1 and a PadN of 4.
  const tagged = hex(`
    02ce00000002 02c600000001 8100 0007 86dd
    6 00 00000 0011 3c 40
    20010db8000000000000000000000001
    20010db8000000000000000000000010
    11 00 00 01 03 000000
    14f9 0035 0009 0000 41`);

  it('a tagged frame with an options header', () => {
    const { ok, info } = decode(tagged);
    expect(ok, describeIpv6Error(info)).toBe(true);
    expect([info.vlanId, info.l3Off, info.payloadLen, info.hopLimit, info.extLen, info.upperProto, info.l4Off]).toEqual([7, 18, 17, 64, 8, IPPROTO_UDP, 66]);
    expect([info.srcPort, info.dstPort, info.payloadOff, info.l3End]).toEqual([5369, 53, 74, 75]);
  });

  it('Ethernet padding after the packet is not part of it', () => {
    const padded = cat(tagged, new Uint8Array(9));
    expect(decode(padded).info.l3End).toBe(75);
  });

  it('traffic class and flow label', () => {
    const f = hex(`02ce00000002 02c600000001 86dd 6a b1 23 45 0000 3b 01 ${'00'.repeat(32)}`);
    const { ok, info } = decode(f);
    expect(ok).toBe(true);
    expect([info.trafficClass, info.flowLabel, info.upperProto, info.l4Off, info.hopLimit]).toEqual([0xab, 0x12345, IPPROTO_NONE, -1, 1]);
  });

  it('an authentication header is walked by its own length unit (4-byte words + 2)', () => {
    const ah = new Uint8Array(16); // next, payload len 2 -> (2 + 2) * 4 = 16 bytes
    ah[0] = IPPROTO_TCP; ah[1] = 2;
    const { ok, info } = decode(frame(IPPROTO_AH, cat(ah, syn())));
    expect(ok).toBe(true);
    expect([info.hasAuth, info.extLen, info.l4Off, info.srcPort]).toEqual([true, 16, 70, 41000]);
  });

  it('a later fragment has no transport header', () => {
    const { ok, info } = decode(frame(IPPROTO_FRAGMENT, cat(fragmentHeader(IPPROTO_TCP, 3, true, 9), new Uint8Array(24))));
    expect(ok).toBe(true);
    expect([info.isFragment, info.fragOffset, info.moreFragments, info.fragId, info.upperProto, info.l4Off, info.payloadOff]).toEqual([true, 3, true, 9, IPPROTO_TCP, -1, 62]);
  });

  it('odd TCP data offsets and UDP lengths decode (IPVS schedules them), with the values kept', () => {
    const s = syn(); s[12] = 0x40;
    const t = decode(frame(IPPROTO_TCP, s)).info;
    expect([t.tcpDataOffset, t.payloadOff, t.srcPort]).toEqual([16, 74, 41000]);
    const u = udp6({ src: C, dst: VIP, sport: 1, dport: 53 }); u[5] = 7;
    const d = decode(frame(IPPROTO_UDP, u));
    expect([d.ok, d.info.udpLength, d.info.dstPort]).toEqual([true, 7, 53]);
  });

  it('Payload Length 0 before a hop-by-hop header without a Jumbo option: the packet is the whole frame', () => {
    const f = frame(IPPROTO_HOPOPTS, cat(optionsHeader(IPPROTO_TCP), syn()), { payloadLength: 0 });
    const { ok: good, info } = decode(f);
    expect(good).toBe(true);
    expect([info.payloadLen, info.l3End, info.l4Off, info.srcPort]).toEqual([0, f.length, 62, 41000]);
  });

  it('a hop-by-hop header further down is walked, not checked', () => {
    const f = frame(IPPROTO_DSTOPTS, cat(optionsHeader(IPPROTO_HOPOPTS), optionsHeader(IPPROTO_TCP, hex('8002 0000')), syn()));
    const { ok: good, info } = decode(f);
    expect(good).toBe(true);
    expect([info.hasHopByHop, info.hopByHopNotFirst, info.l4Off]).toEqual([false, true, 70]);
  });

  it('a first fragment may end inside its TCP header', () => {
    const { ok, info } = decode(frame(IPPROTO_FRAGMENT, cat(fragmentHeader(IPPROTO_TCP, 0, true, 9), syn().subarray(0, 8))));
    expect(ok).toBe(true);
    expect([info.l4Off, info.srcPort]).toEqual([62, 0]);
  });
});

describe('named reasons', () => {
  const ok = frame(IPPROTO_TCP, syn());
  const cases: Record<Ipv6DropReason, Uint8Array> = {
    'ipv6-truncated-ethernet': ok.subarray(0, 13),
    'ipv6-not-ipv6': ethernet(DIR_MAC, CLI_MAC, 0x0800, new Uint8Array(40)),
    'ipv6-truncated-header': ok.subarray(0, 53),
    'ipv6-bad-version': (() => { const f = ok.slice(); f[14] = 0x45; return f; })(),
    'ipv6-truncated-packet': ok.subarray(0, ok.length - 1),
    'ipv6-bad-source': ethernet(DIR_MAC, CLI_MAC, ETHERTYPE_IPV6, ipv6({ src: 'ff02::1', dst: VIP, next: IPPROTO_TCP, payload: syn() })),
    'ipv6-truncated-ext-header': frame(IPPROTO_DSTOPTS, hex('06 01 01 04 00000000')),
    'ipv6-hop-by-hop-option': frame(IPPROTO_HOPOPTS, cat(optionsHeader(IPPROTO_TCP, hex('8002 0000')), syn())),
    'ipv6-unknown-ext-header': frame(IPPROTO_DSTOPTS, cat(optionsHeader(135), hex('3b00000000000000'))),
    'ipv6-truncated-l4-header': frame(IPPROTO_TCP, syn().subarray(0, 19)),
  };

  it('the reference frame itself decodes', () => {
    expect(decode(ok).ok).toBe(true);
  });

  for (const reason of IPV6_DROP_REASONS) {
    it(`${reason}: ${IPV6_DROP_REASON_HELP[reason]}`, () => {
      const f = cases[reason];
      const { ok: good, info } = decode(f);
      expect(good).toBe(false);
      expect(info.reason).toBe(reason);
      expect(info.errOffset).toBeGreaterThanOrEqual(0);
      expect(info.errOffset).toBeLessThanOrEqual(f.length);
      expect(describeIpv6Error(info)).toContain(reason);
    });
  }

  it('every truncation of a chained SYN is either whole or named', () => {
    const f = frame(IPPROTO_HOPOPTS, cat(optionsHeader(IPPROTO_ROUTING), routingHeader(IPPROTO_DSTOPTS, 0, 0), optionsHeader(IPPROTO_TCP), syn()));
    for (let n = 0; n <= f.length; n++) {
      const { ok: good, info } = decode(f, n);
      expect(good).toBe(n === f.length);
      if (!good) expect(IPV6_DROP_REASONS).toContain(info.reason);
    }
    // the same, with the Payload Length trimmed so that the chain itself is cut short
    for (let cut = 1; cut < 44; cut++) {
      const g = f.slice(0, f.length - cut);
      g[18] = (g.length - 54) >> 8; g[19] = (g.length - 54) & 0xff;
      const { ok: good, info } = decode(g);
      expect(good, `cut ${cut}`).toBe(false);
      expect(['ipv6-truncated-ext-header', 'ipv6-truncated-l4-header']).toContain(info.reason);
    }
  });
});

describe('decrementHopLimit', () => {
  it('lowers the hop limit in place and changes nothing else', () => {
    const f = frame(IPPROTO_TCP, syn(), { hopLimit: 64 });
    const before = f.slice();
    expect(decrementHopLimit(f, 14)).toBe(true);
    expect(f[21]).toBe(63);
    f[21] = 64;
    expect([...f]).toEqual([...before]);
  });

  it('refuses 1 and 0, and a header that is not there, leaving the frame alone', () => {
    for (const h of [0, 1]) {
      const f = frame(IPPROTO_TCP, syn(), { hopLimit: h });
      expect(decrementHopLimit(f, 14)).toBe(false);
      expect(f[21]).toBe(h);
    }
    expect(decrementHopLimit(new Uint8Array(21), 14)).toBe(false);
    expect(decrementHopLimit(new Uint8Array(64), -1)).toBe(false);
  });

  it('what the kernel forwarded is the sent frame with the hop limit lowered by one', () => {
    const sent = readPcapFile(`${FIX}pcap/rr3.pcap`).records.map((r) => r.data);
    const fwd = readPcapFile(`${FIX}out/rr3.director-out.pcap`).records.map((r) => r.data);
    const f = sent.find((x) => decode(x).info.srcPort === 41000)!.slice();
    const k = fwd.find((x) => decode(x).info.srcPort === 41000)!;
    expect(decrementHopLimit(f, 14)).toBe(true);
    expect([...f.subarray(12)]).toEqual([...k.subarray(12)]); // MACs are the forwarder's business
  });
});

describe('fuzz', () => {
  it('never throws on random bytes, and a failure always names a reason inside the frame', () => {
    const info = new Ipv6Info();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -5, max: 250 }), fc.boolean(), (b, len, force) => {
      if (force && b.length >= 55) { b[12] = 0x86; b[13] = 0xdd; b[14] = (b[14]! & 15) | 0x60; }
      const good = decodeIPv6Frame(b, len, info);
      if (!good) {
        expect(IPV6_DROP_REASONS).toContain(info.reason);
        expect(info.errOffset).toBeGreaterThanOrEqual(0);
        expect(info.errOffset).toBeLessThanOrEqual(b.length);
      } else {
        expect(info.reason).toBe('');
        expect(info.l3End).toBeLessThanOrEqual(info.len);
        expect(info.l4Off).toBeLessThanOrEqual(info.l3End);
      }
    }), { numRuns: 20000 });
  });

  it('a chain built at random decodes to what was built; flipping its bytes never throws', () => {
    const ext = fc.constantFrom(IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_AH);
    fc.assert(fc.property(
      fc.boolean(), fc.array(ext, { maxLength: 5 }), fc.boolean(), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 24 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
      (hbh, chain, isUdp, sport, optLen, flips) => {
        const types = [...(hbh ? [IPPROTO_HOPOPTS] : []), ...chain];
        const upper = isUdp ? IPPROTO_UDP : IPPROTO_TCP;
        const l4 = isUdp ? udp6({ src: C, dst: VIP, sport, dport: 53, payload: 'x' }) : tcp6({ src: C, dst: VIP, sport, dport: 80, flags: 'SYN,ACK' });
        const parts = types.map((t, i) => {
          const next = i + 1 < types.length ? types[i + 1]! : upper;
          if (t === IPPROTO_ROUTING) return routingHeader(next, 4, 0, new Uint8Array(4 + 8 * (optLen % 3)));
          if (t === IPPROTO_FRAGMENT) return fragmentHeader(next, 0, false, sport);
          if (t === IPPROTO_AH) { const a = new Uint8Array(12 + 4 * (optLen % 4)); a[0] = next; a[1] = a.length / 4 - 2; return a; }
          // Destination options padded with Pad1 options (not checked before IPVS); a leading
          // hop-by-hop header is checked, so it gets only the default PadN.
          return optionsHeader(next, t === IPPROTO_HOPOPTS ? undefined : new Uint8Array(optLen).fill(0));
        });
        const f = frame(types[0] ?? upper, cat(...parts, l4));
        const { ok: good, info } = decode(f);
        const extLen = parts.reduce((a, p) => a + p.length, 0);
        expect(good, describeIpv6Error(info)).toBe(true);
        expect([info.extCount, info.extLen, info.upperProto, info.l4Off, info.srcPort]).toEqual([types.length, extLen, upper, 54 + extLen, sport]);
        if (!isUdp) expect(info.tcpFlags).toBe(TCP_SYN | TCP_ACK);
        for (const [at, v] of flips) f[at % f.length] = v;
        const again = new Ipv6Info();
        decodeIPv6Frame(f, f.length, again);
      }), { numRuns: 3000 });
  });
});

describe('decodeIPv6Frame allocates nothing', () => {
  async function minorGcs(fn: () => void): Promise<number> {
    let count = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    fn();
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    return count;
  }

  it('a million decodes of chained, fragmented and refused frames run without a minor GC (control: an allocating loop has some)', async () => {
    const frames = [
      frame(IPPROTO_HOPOPTS, cat(optionsHeader(IPPROTO_ROUTING), routingHeader(IPPROTO_DSTOPTS, 0, 0), optionsHeader(IPPROTO_TCP), syn())),
      frame(IPPROTO_FRAGMENT, cat(fragmentHeader(IPPROTO_UDP, 3, true, 9), new Uint8Array(24))),
      frame(IPPROTO_HOPOPTS, cat(optionsHeader(IPPROTO_TCP, hex('8002 0000')), syn())),
      frame(IPPROTO_TCP, syn()).subarray(0, 60),
    ];
    const info = new Ipv6Info();
    let sink = 0;
    const loop = (n: number) => {
      for (let i = 0; i < n; i++) {
        const f = frames[i & 3]!;
        if (decodeIPv6Frame(f, f.length, info)) sink += info.srcPort + info.l4Off;
        else sink += info.errOffset;
      }
    };
    loop(200_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(await minorGcs(() => loop(1_000_000))).toBeLessThanOrEqual(1);
    expect(sink).toBeGreaterThan(0);
    const keep: number[][] = [];
    expect(await minorGcs(() => { for (let i = 0; i < 1_000_000; i++) { const a = [i]; if ((i & 0xffff) === 0) keep.push(a); } })).toBeGreaterThan(0);
  });
});
