/**
 * The hash primitives against published vectors: SipHash-2-4 from the SipHash reference
 * implementation, and the kernel's 64-bit hsiphash (SipHash-1-3, 32-bit output) self-test vectors
 * (lib/siphash_kunit.c, BITS_PER_LONG == 64), both with key 00 01 .. 0f and message 00 01 .. len-1.
 */
import { describe, expect, it } from 'vitest';
import {
  GOLDEN_RATIO_32, fls, gcd, hash32, hsiphash1u32, hsiphash2u32, hsiphash3u32, hsiphash4u32, hsiphashBytes,
  siphash24Bytes, sipKey,
} from '../../src/sched/hash.ts';

const KEY = sipKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n);
const MSG = Uint8Array.from({ length: 64 }, (_, i) => i);

// [message length, expected] pairs, a sample of each 64-entry table.
const SIPHASH24: [number, bigint][] = [
  [0, 0x726fdb47dd0e0e31n], [1, 0x74f839c593dc67fdn], [4, 0xcf2794e0277187b7n], [7, 0xab0200f58b01d137n],
  [8, 0x93f5f5799a932462n], [15, 0xa129ca6149be45e5n], [16, 0x3f2acc7f57c29bdbn], [63, 0x958a324ceb064572n],
];
const HSIPHASH64: [number, number][] = [
  [0, 0x050fc4dc], [1, 0x7d57ca93], [3, 0xe7ddf7fb], [4, 0x88d38328], [7, 0x9bb11140], [8, 0x8d299a8e],
  [12, 0x57b4d9a2], [15, 0x2a519956], [16, 0x7d908b66], [31, 0x8c21d1bc], [63, 0xb7bbb3a8],
];

describe('siphash', () => {
  it.each(SIPHASH24)('SipHash-2-4 of %i bytes', (len, want) => {
    expect(siphash24Bytes(MSG, KEY, 0, len)).toBe(want);
  });

  it.each(HSIPHASH64)('hsiphash (64-bit kernel) of %i bytes', (len, want) => {
    expect(hsiphashBytes(MSG, KEY, 0, len)).toBe(want);
  });

  it('does not depend on the buffer offset', () => {
    const shifted = new Uint8Array(65);
    shifted.set(MSG, 1);
    for (let len = 0; len < 64; len++) expect(hsiphashBytes(shifted, KEY, 1, len)).toBe(hsiphashBytes(MSG, KEY, 0, len));
  });

  it('hsiphash_Nu32 helpers equal hsiphash over the same little-endian words', () => {
    expect(hsiphash1u32(0x03020100, KEY)).toBe(0x88d38328);
    expect(hsiphash2u32(0x03020100, 0x07060504, KEY)).toBe(0x8d299a8e);
    expect(hsiphash3u32(0x03020100, 0x07060504, 0x0b0a0908, KEY)).toBe(0x57b4d9a2);
    expect(hsiphash4u32(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c, KEY)).toBe(0x7d908b66);
  });

  it('returns unsigned 32-bit values', () => {
    for (let v = 0; v < 1000; v++) {
      const h = hsiphash1u32(v * 2654435761, KEY);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });
});

describe('hash32, gcd, fls', () => {
  it('is the top bits of val * GOLDEN_RATIO_32 mod 2^32', () => {
    expect(hash32(1, 8)).toBe(GOLDEN_RATIO_32 >>> 24);
    expect(hash32(0, 8)).toBe(0);
    for (const v of [1, 2, 0x0a7b0115, 0xffffffff, 0x80000000]) {
      const want = Number((BigInt(v) * BigInt(GOLDEN_RATIO_32)) % (1n << 32n)) >>> 24;
      expect(hash32(v, 8)).toBe(want);
    }
    expect(hash32(0xdeadbeef, 32)).toBe(Number((0xdeadbeefn * 0x61c88647n) % (1n << 32n)));
  });

  it('gcd and fls behave as the kernel helpers', () => {
    expect(gcd(12, 18)).toBe(6);
    expect(gcd(7, 1)).toBe(1);
    expect(gcd(200, 64)).toBe(8);
    expect(fls(0)).toBe(0);
    expect(fls(1)).toBe(1);
    expect(fls(200)).toBe(8);
    expect(fls(0x80000000)).toBe(32);
  });
});
