import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameInfo,
  checksumAdjust,
  decodeFrame,
  decrementTtl,
  foldSum,
  internetChecksum,
  ipv4HeaderChecksumOk,
  l4Checksum,
  onesSum,
  pseudoHeaderSum,
  setIpv4HeaderChecksum,
  tcpChecksumOk,
  udpChecksumOk,
} from '../../src/packet/index.ts';
import { hex } from './helpers.ts';

/** A deliberately naive RFC 1071 reference: copy, pad, sum words with DataView, fold until no carry. */
function refChecksum(bytes: Uint8Array): number {
  const padded = new Uint8Array(bytes.length + (bytes.length & 1));
  padded.set(bytes);
  const dv = new DataView(padded.buffer);
  let s = 0;
  for (let i = 0; i < padded.length; i += 2) s += dv.getUint16(i);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

/** A 20-byte IPv4 header with a fresh checksum from the reference. */
function ipHeader(words: number[]): Uint8Array {
  const h = new Uint8Array(20);
  const dv = new DataView(h.buffer);
  words.forEach((w, i) => dv.setUint16(i * 2, w));
  h[0] = 0x45;
  h[10] = 0;
  h[11] = 0;
  const c = refChecksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return h;
}

describe('RFC 1071 checksum', () => {
  it('matches the worked example of RFC 1071 section 3', () => {
    // 00 01 f2 03 f4 f5 f6 f7: the sum is ddf2, the checksum its complement.
    const b = hex('0001f203f4f5f6f7');
    expect(onesSum(b, 0, b.length)).toBe(0xddf2);
    expect(internetChecksum(b, 0, b.length)).toBe(0x220d);
  });

  it('computes a known IPv4 header checksum (192.168.0.1 -> 192.168.0.199, UDP)', () => {
    const h = hex('450000730000400040110000c0a80001c0a800c7');
    expect(internetChecksum(h, 0, 20)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h, 0, 20)).toBe(0);
  });

  it('pads an odd trailing byte with zero', () => {
    expect(onesSum(hex('abcdef'), 0, 3)).toBe(foldSum(0xabcd + 0xef00));
    expect(internetChecksum(hex('ff'), 0, 1)).toBe(0x00ff);
  });

  it('honours the range and clamps it to the buffer', () => {
    const b = hex('ffff0001f203f4f5f6f7ffff');
    expect(internetChecksum(b, 2, 8)).toBe(0x220d);
    // odd start offset: words are taken from the start of the range, not the buffer
    expect(internetChecksum(hex('000102'), 1, 2)).toBe(~0x0102 & 0xffff);
    expect(onesSum(b, 10, 100)).toBe(0xffff);
    expect(onesSum(b, 20, 4)).toBe(0);
    expect(onesSum(b, -5, 7)).toBe(0xffff);
    expect(onesSum(b, Number.NaN, 4)).toBe(onesSum(b, 0, b.length));
  });

  it('folds large sums with end-around carry', () => {
    expect(foldSum(0)).toBe(0);
    expect(foldSum(0xffff)).toBe(0xffff);
    expect(foldSum(0x10000)).toBe(1);
    expect(foldSum(0x1fffe)).toBe(0xffff);
    expect(foldSum(0xffffffff)).toBe(0xffff);
    expect(foldSum(2 ** 40)).toBe(0x100); // 2^16 ≡ 1 (mod 0xffff), so 2^40 ≡ 2^8
    expect(foldSum(2 ** 40 + 0xfeff)).toBe(0xffff);
  });

  it('agrees with the naive reference on random byte strings (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, skip) => {
        const off = Math.min(skip, bytes.length);
        expect(internetChecksum(bytes, off, bytes.length - off)).toBe(refChecksum(bytes.subarray(off)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('pseudo-header', () => {
  it('sums source, destination, protocol and length', () => {
    const src = 0xc0a80001;
    const dst = 0xc0a800c7;
    const manual = hex('c0a80001c0a800c70011001c');
    expect(pseudoHeaderSum(src, dst, 17, 0x1c)).toBe(onesSum(manual, 0, 12));
  });

  it('gives a checksum that verifies to 0 when stored (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.nat(), fc.nat(), (seg, s, d) => {
        const src = s >>> 0;
        const dst = d >>> 0;
        seg[6] = 0;
        seg[7] = 0;
        const c = l4Checksum(seg, 0, seg.length, src, dst, 17);
        const ph = new Uint8Array(12 + seg.length);
        new DataView(ph.buffer).setUint32(0, src);
        new DataView(ph.buffer).setUint32(4, dst);
        ph[9] = 17;
        new DataView(ph.buffer).setUint16(10, seg.length);
        ph.set(seg, 12);
        expect(c).toBe(refChecksum(ph));
        seg[6] = c >> 8;
        seg[7] = c & 0xff;
        expect(l4Checksum(seg, 0, seg.length, src, dst, 17)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RFC 1624 incremental update', () => {
  const arbHeader = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 10, maxLength: 10 }).map(ipHeader);

  it('decrementTtl equals a full recompute for every TTL 1..255', () => {
    for (let ttl = 1; ttl <= 255; ttl++) {
      for (const proto of [1, 6, 17, 0, 255]) {
        const h = ipHeader([0x4500, 0x0054, 0x1c46, 0x4000, (ttl << 8) | proto, 0, 0x0a00, 0x0001, 0x0a00, 0x0002]);
        decrementTtl(h, 0);
        expect(h[8]).toBe(ttl - 1);
        const stored = (h[10]! << 8) | h[11]!;
        h[10] = 0;
        h[11] = 0;
        expect(stored).toBe(refChecksum(h));
      }
    }
  });

  it('decrementTtl equals a full recompute on random headers, repeatedly, at any offset (fast-check)', () => {
    fc.assert(
      fc.property(arbHeader, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 5 }), (h, pad, times) => {
        const buf = new Uint8Array(pad + 20 + 3).fill(0x5a);
        buf.set(h, pad);
        for (let i = 0; i < times; i++) {
          const ttl = buf[pad + 8]!;
          decrementTtl(buf, pad);
          const view = buf.slice(pad, pad + 20);
          expect(view[8]).toBe(ttl === 0 ? 0 : ttl - 1);
          expect(refChecksum(view)).toBe(0); // header verifies
          const stored = (view[10]! << 8) | view[11]!;
          view[10] = 0;
          view[11] = 0;
          expect(stored).toBe(refChecksum(view)); // and is bit-identical to a recompute
        }
        expect(buf.subarray(0, pad).every((b) => b === 0x5a)).toBe(true);
        expect(buf.subarray(pad + 20).every((b) => b === 0x5a)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('handles the 0x0000 / 0xffff corner of RFC 1624 eqn 3', () => {
    // Find headers whose recomputed checksum after the decrement is 0x0000: the naive eqn 2
    // (HC - ~m - m') yields 0xffff there; eqn 3 must give 0x0000 like a recompute.
    let found = 0;
    for (let w = 0; w <= 0xffff && found < 3; w++) {
      const words = [0x4500, 0x0014, w, 0, 0x4006, 0, 0, 0, 0, 0];
      const after = ipHeader(words.map((x, i) => (i === 4 ? 0x3f06 : x)));
      if (after[10] !== 0 || after[11] !== 0) continue;
      found++;
      const h = ipHeader(words);
      decrementTtl(h, 0);
      expect([h[8], h[10], h[11]]).toEqual([0x3f, 0, 0]);
    }
    expect(found).toBeGreaterThan(0);
  });

  it('checksumAdjust is the identity when the word does not change', () => {
    fc.assert(
      fc.property(arbHeader, fc.integer({ min: 0, max: 0xffff }), (h, w) => {
        const hc = (h[10]! << 8) | h[11]!;
        expect(checksumAdjust(hc, w, w)).toBe(hc);
      }),
    );
  });

  it('leaves TTL 0 alone and ignores offsets outside the buffer', () => {
    const h = ipHeader([0x4500, 0x14, 0, 0, 0x0006, 0, 1, 2, 3, 4]);
    const copy = h.slice();
    decrementTtl(h, 0);
    expect(h).toEqual(copy);
    decrementTtl(h, 9);
    decrementTtl(h, -1);
    decrementTtl(h, Number.NaN);
    expect(h).toEqual(copy);
  });

  it('setIpv4HeaderChecksum recomputes the stored checksum', () => {
    const h = hex('45000073000040004011ffffc0a80001c0a800c7');
    setIpv4HeaderChecksum(h, 0);
    expect([h[10], h[11]]).toEqual([0xb8, 0x61]);
  });
});

describe('verification helpers on decoded frames', () => {
  // A UDP frame 10.0.0.1:1024 -> 10.0.0.2:53, payload "hi"; checksums are filled in by each test.
  const frame = hex(
    '020000000002' + '020000000001' + '0800' +
      '4500001e0001000040110000' + '0a000001' + '0a000002' +
      '04000035000a0000' + '6869',
  );

  function fixUdp(f: Uint8Array): void {
    f[40] = 0;
    f[41] = 0;
    const c = l4Checksum(f, 34, 10, 0x0a000001, 0x0a000002, 17);
    f[40] = c >> 8;
    f[41] = c & 0xff;
  }

  it('accepts correct checksums and rejects a flipped bit in header or payload', () => {
    const f = frame.slice();
    setIpv4HeaderChecksum(f, 14);
    fixUdp(f);
    const info = new FrameInfo();
    expect(decodeFrame(f, f.length, info)).toBe(true);
    expect(ipv4HeaderChecksumOk(f, info)).toBe(true);
    expect(udpChecksumOk(f, info)).toBe(true);
    expect(tcpChecksumOk(f, info)).toBe(false); // not TCP
    f[43] ^= 1;
    expect(udpChecksumOk(f, info)).toBe(false);
    f[22] ^= 1; // TTL
    expect(ipv4HeaderChecksumOk(f, info)).toBe(false);
  });

  it('treats a zero UDP checksum as "none" and refuses fragments', () => {
    const f = frame.slice();
    setIpv4HeaderChecksum(f, 14);
    f[40] = 0;
    f[41] = 0;
    const info = new FrameInfo();
    expect(decodeFrame(f, f.length, info)).toBe(true);
    expect(udpChecksumOk(f, info)).toBe(true);
    fixUdp(f);
    f[20] = 0x20; // MF
    setIpv4HeaderChecksum(f, 14);
    expect(decodeFrame(f, f.length, info)).toBe(true);
    expect(udpChecksumOk(f, info)).toBe(false);
    expect(ipv4HeaderChecksumOk(f, info)).toBe(true);
  });

  it('answers false, without reading, for a FrameInfo that does not describe the buffer', () => {
    const info = new FrameInfo();
    expect(ipv4HeaderChecksumOk(new Uint8Array(0), info)).toBe(false);
    decodeFrame(frame, frame.length, info);
    expect(ipv4HeaderChecksumOk(frame.subarray(0, 20), info)).toBe(false);
    expect(udpChecksumOk(frame.subarray(0, 20), info)).toBe(false);
  });
});
