/**
 * IPv6 address helpers. An IPv6 address is 16 bytes in network order (a Uint8Array, or 16 bytes at
 * an offset inside a frame). The schedulers never see the 16 bytes: IPVS reduces an IPv6 address to
 * 32 bits first (foldIPv6) and hashes that exactly as it hashes an IPv4 address.
 */

/**
 * The kernel's IPv6 address fold: the xor of the address's four 32-bit words, read big-endian.
 *
 * Every IPVS scheduler that hashes an address (ip_vs_sh_hashkey, ip_vs_mh_hashkey, ip_vs_dh_hashkey,
 * ip_vs_lblc_hashkey, ip_vs_lblcr_hashkey) does `addr_fold = ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3]` on the
 * __be32 words and then uses ntohl(addr_fold) where an IPv4 service uses ntohl(addr->ip). Xor works
 * byte by byte, so folding the network-order words and then swapping equals folding the words read
 * big-endian: the result is a u32 in the same "host order" as our IPv4 numbers.
 * Reads bytes [off, off + 16) of `b` (the caller checks the length); no allocation.
 */
export function foldIPv6(b: Uint8Array, off = 0): number {
  return foldIPv6Int(b, off) >>> 0;
}

/**
 * foldIPv6() as a signed int32 (the same 32 bits), which is never boxed when the call is not
 * inlined: what the per-packet callers pass to a scheduler (they accept int32 addresses).
 */
export function foldIPv6Int(b: Uint8Array, off = 0): number {
  // Column by column: byte k of the fold is the xor of byte k of each word.
  const o = off;
  return ((b[o]! ^ b[o + 4]! ^ b[o + 8]! ^ b[o + 12]!) << 24)
    | ((b[o + 1]! ^ b[o + 5]! ^ b[o + 9]! ^ b[o + 13]!) << 16)
    | ((b[o + 2]! ^ b[o + 6]! ^ b[o + 10]! ^ b[o + 14]!) << 8)
    | (b[o + 3]! ^ b[o + 7]! ^ b[o + 11]! ^ b[o + 15]!);
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses one side of "::" into 16-bit groups (an IPv4 tail counts as two); null when malformed. */
function groupsOf(s: string, allowV4Tail: boolean): number[] | null {
  if (s === '') return [];
  const parts = s.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && allowV4Tail && p.includes('.')) {
      const m = DOTTED.exec(p);
      if (!m) return null;
      const o = [m[1], m[2], m[3], m[4]].map(Number);
      if (o.some((v) => v > 255)) return null;
      out.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
      continue;
    }
    if (!HEX_GROUP.test(p)) return null;
    out.push(parseInt(p, 16));
  }
  return out;
}

/**
 * Parses an IPv6 address in text form (RFC 4291 section 2.2: hex groups, one "::", an optional
 * dotted IPv4 tail; no zone index, no brackets) into 16 bytes; null for anything else.
 */
export function parseIPv6(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return null;
  const dbl = s.indexOf('::');
  let groups: number[];
  if (dbl < 0) {
    const g = groupsOf(s, true);
    if (g === null || g.length !== 8) return null;
    groups = g;
  } else {
    if (s.indexOf('::', dbl + 1) >= 0) return null;
    const head = groupsOf(s.slice(0, dbl), false);
    const tail = groupsOf(s.slice(dbl + 2), true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/**
 * The RFC 5952 text form (lower case, no leading zeros, the longest run of two or more zero groups
 * — the first one on a tie — written "::"), which is also what inet_ntop(), and so ipvsadm, prints,
 * except that glibc writes IPv4-mapped and IPv4-compatible addresses with a dotted tail
 * (::ffff:10.1.2.3), where this stays in hex (::ffff:a01:203). Allocates: control path and tools only.
 */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestAt = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((v) => v.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** [addr]:port, as ipvsadm prints an IPv6 endpoint. */
export function endpoint6ToString(b: Uint8Array, port: number, off = 0): string {
  return `[${ipv6ToString(b, off)}]:${port}`;
}

/** True when the 16 bytes at a[ao] and b[bo] are the same address. No allocation. */
export function ipv6Equals(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 16; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
