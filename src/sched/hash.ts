/**
 * The hash functions the IPVS schedulers use, bit for bit, with no allocation:
 *
 * - hash32(): the kernel's multiplicative hash_32() (include/linux/hash.h, generic version, which is
 *   what x86_64 uses): multiply by the 32-bit golden-ratio constant, keep the top `bits` bits.
 *   sh and dh index their 256-bucket tables with it.
 * - hsiphash*(): the kernel's "half" SipHash as built on 64-bit kernels. There, lib/siphash.c does
 *   not run HalfSipHash on 32-bit words: it runs SipHash-1-3 (one compression round, three
 *   finalisation rounds) on 64-bit words with a two-u64 key, and returns the low 32 bits of the
 *   usual v0^v1^v2^v3 fold. mh builds and reads its Maglev table with it.
 * - siphash24Bytes(): plain SipHash-2-4, kept beside it so the round function can be checked against
 *   the published SipHash test vectors.
 *
 * 64-bit words are handled as (lo, hi) pairs of int32: in locals for hsiphash1u32 (mh's per-packet
 * hash), in a module-level Int32Array for the other helpers. Nothing is allocated or boxed.
 */

/** 2^32 / phi, the constant of the kernel's hash_32(). */
export const GOLDEN_RATIO_32 = 0x61c88647;

/** Kernel hash_32(val, bits): (val * GOLDEN_RATIO_32 mod 2^32) >> (32 - bits), for 1 <= bits <= 32. */
export function hash32(val: number, bits: number): number {
  return (Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits)) >>> 0;
}

/**
 * A SipHash key: two u64 words k0, k1, stored as [k0.lo, k0.hi, k1.lo, k1.hi] (u32 each).
 * On a 64-bit kernel hsiphash_key_t is `unsigned long key[2]`, i.e. exactly this.
 */
export type SipKey = Uint32Array;

/** Builds a key from its two 64-bit words. Control path only (takes bigints). */
export function sipKey(k0: bigint, k1: bigint): SipKey {
  const m = 0xffffffffn;
  return Uint32Array.of(Number(k0 & m), Number((k0 >> 32n) & m), Number(k1 & m), Number((k1 >> 32n) & m));
}

// Internal state v0..v3 as lo/hi int32 pairs: [v0l, v0h, v1l, v1h, v2l, v2h, v3l, v3h].
const S = new Int32Array(8);

// The initial state is the ASCII text "somepseudorandomlygeneratedbytes", as four u64 words.
const C0L = 0x70736575 | 0, C0H = 0x736f6d65 | 0;
const C1L = 0x6e646f6d | 0, C1H = 0x646f7261 | 0;
const C2L = 0x6e657261 | 0, C2H = 0x6c796765 | 0;
const C3L = 0x79746573 | 0, C3H = 0x74656462 | 0;

/** Loads the key into the state (v0 and v2 take k0, v1 and v3 take k1). */
function sipStart(key: SipKey): void {
  const k0l = key[0]! | 0, k0h = key[1]! | 0, k1l = key[2]! | 0, k1h = key[3]! | 0;
  S[0] = C0L ^ k0l; S[1] = C0H ^ k0h;
  S[2] = C1L ^ k1l; S[3] = C1H ^ k1h;
  S[4] = C2L ^ k0l; S[5] = C2H ^ k0h;
  S[6] = C3L ^ k1l; S[7] = C3H ^ k1h;
}

/** One SipRound over the state: add / rotate / xor on 64-bit lanes, written on 32-bit halves. */
function sipRound(): void {
  let v0l = S[0]!, v0h = S[1]!, v1l = S[2]!, v1h = S[3]!;
  let v2l = S[4]!, v2h = S[5]!, v3l = S[6]!, v3h = S[7]!;
  let lo: number, t: number;

  // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
  lo = (v0l + v1l) | 0;
  v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
  v0l = lo;
  t = v1h;
  v1h = (v1h << 13) | (v1l >>> 19);
  v1l = (v1l << 13) | (t >>> 19);
  v1l ^= v0l; v1h ^= v0h;
  t = v0l; v0l = v0h; v0h = t;

  // v2 += v3; v3 <<<= 16; v3 ^= v2
  lo = (v2l + v3l) | 0;
  v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
  v2l = lo;
  t = v3h;
  v3h = (v3h << 16) | (v3l >>> 16);
  v3l = (v3l << 16) | (t >>> 16);
  v3l ^= v2l; v3h ^= v2h;

  // v0 += v3; v3 <<<= 21; v3 ^= v0
  lo = (v0l + v3l) | 0;
  v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
  v0l = lo;
  t = v3h;
  v3h = (v3h << 21) | (v3l >>> 11);
  v3l = (v3l << 21) | (t >>> 11);
  v3l ^= v0l; v3h ^= v0h;

  // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
  lo = (v2l + v1l) | 0;
  v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
  v2l = lo;
  t = v1h;
  v1h = (v1h << 17) | (v1l >>> 15);
  v1l = (v1l << 17) | (t >>> 15);
  v1l ^= v2l; v1h ^= v2h;
  t = v2l; v2l = v2h; v2h = t;

  S[0] = v0l; S[1] = v0h; S[2] = v1l; S[3] = v1h;
  S[4] = v2l; S[5] = v2h; S[6] = v3l; S[7] = v3h;
}

/** Absorbs one 64-bit message word with `c` compression rounds. */
function sipWord(lo: number, hi: number, c: number): void {
  S[6] ^= lo; S[7] ^= hi;
  for (let i = 0; i < c; i++) sipRound();
  S[0] ^= lo; S[1] ^= hi;
}

/**
 * Absorbs the last word (length byte on top, leftover bytes below) and finalises with `d` rounds.
 * Leaves the 64-bit result in S[0] (lo) and S[1] (hi); returns the low 32 bits, unsigned.
 */
function sipFinish(lastLo: number, lastHi: number, c: number, d: number): number {
  sipWord(lastLo, lastHi, c);
  S[4] ^= 0xff;
  for (let i = 0; i < d; i++) sipRound();
  const lo = S[0]! ^ S[2]! ^ S[4]! ^ S[6]!;
  const hi = S[1]! ^ S[3]! ^ S[5]! ^ S[7]!;
  S[0] = lo; S[1] = hi;
  return lo >>> 0;
}

/** The length byte of the final word: (len mod 256) << 56, i.e. its high half. */
function lenHi(len: number): number {
  return (len & 0xff) << 24;
}

/** SipHash-c-d over bytes [off, off+len) of `data`; result in S[0..1], low 32 bits returned. */
function sipBytes(data: Uint8Array, off: number, len: number, key: SipKey, c: number, d: number): number {
  sipStart(key);
  const end = off + len - (len & 7);
  let p = off;
  for (; p < end; p += 8) {
    const lo = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
    const hi = data[p + 4]! | (data[p + 5]! << 8) | (data[p + 6]! << 16) | (data[p + 7]! << 24);
    sipWord(lo, hi, c);
  }
  let tailLo = 0, tailHi = lenHi(len);
  const left = len & 7;
  for (let i = 0; i < left; i++) {
    const byte = data[end + i]!;
    if (i < 4) tailLo |= byte << (8 * i);
    else tailHi |= byte << (8 * (i - 4));
  }
  return sipFinish(tailLo, tailHi, c, d);
}

/** Kernel hsiphash() over a byte buffer, 64-bit build (SipHash-1-3, low 32 bits). */
export function hsiphashBytes(data: Uint8Array, key: SipKey, off = 0, len = data.length - off): number {
  return sipBytes(data, off, len, key, 1, 3);
}

/** SipHash-2-4 over a byte buffer, as an unsigned 64-bit bigint (tests and tools only: allocates). */
export function siphash24Bytes(data: Uint8Array, key: SipKey, off = 0, len = data.length - off): bigint {
  sipBytes(data, off, len, key, 2, 4);
  return (BigInt(S[1]! >>> 0) << 32n) | BigInt(S[0]! >>> 0);
}

/**
 * Kernel hsiphash_1u32(a) on a 64-bit build: a 4-byte message, so only the final word
 * (length 4 in the top byte, `a` in the low half), then the three finalisation rounds.
 * This one is on mh's per-packet path, so it keeps the whole state in locals (no typed-array traffic);
 * the loop runs the same SipRound four times, with the finalisation xors before the second.
 */
export function hsiphash1u32(a: number, key: SipKey): number {
  return hsiphash1u32Int(a, key) >>> 0;
}

/**
 * hsiphash1u32() with the result as a signed int32 (same 32 bits). A uint32 above 2^31 - 1 would be
 * returned boxed (a heap number) when the call is not inlined; an int32 never is, so the per-packet
 * callers use this and take `>>> 0` themselves.
 */
export function hsiphash1u32Int(a: number, key: SipKey): number {
  const k0l = key[0]! | 0, k0h = key[1]! | 0, k1l = key[2]! | 0, k1h = key[3]! | 0;
  const bl = a | 0, bh = lenHi(4);
  let v0l = C0L ^ k0l, v0h = C0H ^ k0h;
  let v1l = C1L ^ k1l, v1h = C1H ^ k1h;
  let v2l = C2L ^ k0l, v2h = C2H ^ k0h;
  let v3l = (C3L ^ k1l) ^ bl, v3h = (C3H ^ k1h) ^ bh;
  let lo: number, t: number;
  for (let r = 0; r < 4; r++) {
    if (r === 1) {
      v0l ^= bl; v0h ^= bh;
      v2l ^= 0xff;
    }
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    t = v1h;
    v1h = (v1h << 13) | (v1l >>> 19);
    v1l = (v1l << 13) | (t >>> 19);
    v1l ^= v0l; v1h ^= v0h;
    t = v0l; v0l = v0h; v0h = t;

    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    t = v3h;
    v3h = (v3h << 16) | (v3l >>> 16);
    v3l = (v3l << 16) | (t >>> 16);
    v3l ^= v2l; v3h ^= v2h;

    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    t = v3h;
    v3h = (v3h << 21) | (v3l >>> 11);
    v3l = (v3l << 21) | (t >>> 11);
    v3l ^= v0l; v3h ^= v0h;

    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    t = v1h;
    v1h = (v1h << 17) | (v1l >>> 15);
    v1l = (v1l << 17) | (t >>> 15);
    v1l ^= v2l; v1h ^= v2h;
    t = v2l; v2l = v2h; v2h = t;
  }
  return v0l ^ v1l ^ v2l ^ v3l;
}

/** Kernel hsiphash_2u32(a, b): one full word (b:a), then the length word. */
export function hsiphash2u32(a: number, b: number, key: SipKey): number {
  sipStart(key);
  sipWord(a | 0, b | 0, 1);
  return sipFinish(0, lenHi(8), 1, 3);
}

/** Kernel hsiphash_3u32(a, b, c): one full word (b:a), then c in the length word. */
export function hsiphash3u32(a: number, b: number, c: number, key: SipKey): number {
  sipStart(key);
  sipWord(a | 0, b | 0, 1);
  return sipFinish(c | 0, lenHi(12), 1, 3);
}

/** Kernel hsiphash_4u32(a, b, c, d): two full words (b:a) and (d:c), then the length word. */
export function hsiphash4u32(a: number, b: number, c: number, d: number, key: SipKey): number {
  sipStart(key);
  sipWord(a | 0, b | 0, 1);
  sipWord(c | 0, d | 0, 1);
  return sipFinish(0, lenHi(16), 1, 3);
}

/** Greatest common divisor of two positive integers (the kernel's lib/math/gcd.c result). */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Find-last-set: 1-based index of the highest set bit, 0 for 0 (kernel fls()). */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}
