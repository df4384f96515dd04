/** IPv4 reassembly and re-fragmentation (defrag.ts), beside the oracle vectors in test/replay/edges-oracle.test.ts. */
import { describe, expect, it } from 'vitest';
import { Defragmenter, FragResult, fragmentPacket } from '../../src/dataplane/defrag.ts';
import { decodeFrame, ethernet, ETHERTYPE_IPV4, FrameInfo, internetChecksum, ipv4, udp } from '../../src/packet/index.ts';

const info = new FrameInfo();
const SRC = '10.0.0.1';
const DST = '10.0.0.100';
const whole = udp({ src: SRC, dst: DST, sport: 1, dport: 53, payload: new Uint8Array(100).map((_, i) => i) });
function frag(off8: number, len: number, more: boolean, id = 7): Uint8Array {
  return ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', ETHERTYPE_IPV4, ipv4({ src: SRC, dst: DST, proto: 'udp', id, payload: whole.subarray(off8 * 8, off8 * 8 + len), flags: { mf: more }, fragOffset: off8 }));
}
function feed(d: Defragmenter, f: Uint8Array, now = 0): FragResult {
  expect(decodeFrame(f, f.length, info)).toBe(true);
  return d.add(f, info, now);
}

describe('Defragmenter', () => {
  it('reassembles in any order, ignores an exact duplicate, and keeps the largest fragment size', () => {
    const d = new Defragmenter();
    expect(feed(d, frag(8, 44, false))).toBe(FragResult.Held);
    expect(feed(d, frag(0, 32, true))).toBe(FragResult.Held);
    expect(feed(d, frag(0, 32, true))).toBe(FragResult.Held); // duplicate
    expect(feed(d, frag(4, 32, true))).toBe(FragResult.Complete);
    const out = d.out.subarray(0, d.outLen);
    expect(decodeFrame(out, out.length, info)).toBe(true);
    expect([info.fragOffset, info.moreFragments, info.ipTotalLen]).toEqual([0, false, 20 + whole.length]);
    expect(internetChecksum(out, 14, 20)).toBe(0);
    expect(Buffer.from(out.subarray(34))).toEqual(Buffer.from(whole));
    expect(d.outMaxSize).toBe(20 + 44);
    expect(d.held).toBe(0);
  });

  it('discards a datagram on overlap, on two different ends, and past 65535 bytes', () => {
    const d = new Defragmenter();
    feed(d, frag(0, 32, true));
    expect(feed(d, frag(2, 16, true))).toBe(FragResult.Overlap);
    expect(d.held).toBe(0);
    feed(d, frag(8, 44, false, 8));
    expect(feed(d, frag(8, 40, false, 8))).toBe(FragResult.Invalid);
    expect(feed(d, frag(8189, 16, true, 9))).toBe(FragResult.Invalid);
  });

  it('drops what is not complete after 30 s, and bounds the queues', () => {
    const d = new Defragmenter({ maxQueues: 2 });
    feed(d, frag(0, 32, true, 1), 0);
    feed(d, frag(0, 32, true, 2), 0);
    expect(feed(d, frag(0, 32, true, 3), 0)).toBe(FragResult.Invalid);
    expect(d.expire(29_999)).toBe(0);
    expect(d.expire(30_000)).toBe(2);
    expect(d.timeouts).toBe(2);
  });
});

describe('fragmentPacket', () => {
  it('cuts at the largest multiple of 8 that fits the MTU; offsets, MF and checksums right; reassembles to the original', () => {
    const pkt = ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', ETHERTYPE_IPV4, ipv4({ src: SRC, dst: DST, proto: 'udp', id: 5, payload: whole }));
    const parts: Uint8Array[] = [];
    const lens: number[] = [];
    const n = fragmentPacket(pkt, 14, 20, 64, parts, lens);
    expect(n).toBe(3); // 108 bytes of payload: 40 + 40 + 28
    const d = new Defragmenter();
    let r = FragResult.Held;
    for (let i = 0; i < n; i++) {
      const f = parts[i]!.subarray(0, lens[i]);
      expect(internetChecksum(f, 14, 20)).toBe(0);
      expect(decodeFrame(f, f.length, info)).toBe(true);
      expect([info.fragOffset, info.moreFragments, info.ipTotalLen]).toEqual([i * 5, i < n - 1, 20 + (i < 2 ? 40 : 28)]);
      r = d.add(f, info, 0);
    }
    expect(r).toBe(FragResult.Complete);
    expect(Buffer.from(d.out.subarray(0, d.outLen))).toEqual(Buffer.from(pkt));
    expect(fragmentPacket(pkt, 14, 20, 1500, parts, lens)).toBe(1);
    expect(Buffer.from(parts[0]!.subarray(0, lens[0]))).toEqual(Buffer.from(pkt));
  });
});

describe('ipHeaderChecksumOk', () => {
  it('the unrolled 20-byte sum agrees with the RFC 1071 checksum on any header (fuzz), and on headers with options', async () => {
    const fc = (await import('fast-check')).default;
    const { ipHeaderChecksumOk } = await import('../../src/dataplane/icmp.ts');
    fc.assert(fc.property(fc.uint8Array({ minLength: 24, maxLength: 24 }), fc.boolean(), fc.constantFrom(20, 24), (h, fix, hl) => {
      const b = new Uint8Array(30);
      b.set(h, 2);
      if (fix) {
        b[12] = 0; b[13] = 0;
        const c = internetChecksum(b, 2, hl);
        b[12] = c >> 8; b[13] = c & 255;
      }
      expect(ipHeaderChecksumOk(b, 2, hl)).toBe(internetChecksum(b, 2, hl) === 0);
    }), { numRuns: 5000 });
  });
});
