/**
 * Flow hash for the connection table: murmur3-style mixing of the 4-tuple and the protocol, then
 * the murmur3 32-bit finaliser. Every input bit reaches the low bits the table indexes with, so
 * keys that differ only in high bits, or that share a constant low bit (Linux clients pick even
 * source ports for connect()), still spread over all buckets. A seed passed in by the caller keeps
 * the bucket of a flow unpredictable to clients when that matters (hash flooding).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** 32-bit hash (as a signed int32) of (proto, caddr, cport, vaddr, vport) under `seed`. */
export function flowHash(
  seed: number, proto: number, caddr: number, cport: number, vaddr: number, vport: number,
): number {
  let h = seed | 0;
  h = mixWord(h, caddr | 0);
  h = mixWord(h, vaddr | 0);
  h = mixWord(h, (cport << 16) | (vport & 0xffff));
  h = mixWord(h, proto);
  h ^= 16;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
