/**
 * IPv6 address text <-> 16 bytes (RFC 4291 section 2.2 input forms, RFC 5952 output form).
 *
 * Used by the real-server side of IPv6 (NDP suppression rules, the doctor's checks) and by the
 * schedulers' IPv6 side (foldIPv6, below); the packet path does not handle IPv6. No exceptions: bad
 * text gives null, and the caller says what was expected.
 *
 * ipv6ToString() writes what inet_ntop(), and so ipvsadm, writes, except that glibc gives IPv4-mapped
 * and IPv4-compatible addresses a dotted tail (::ffff:10.1.2.3) where this stays in hex (::ffff:a01:203).
 */

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const V4_TAIL = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** 16-bit groups of one side of '::' (or of the whole address); null when a group is malformed. */
function groups(part: string, allowV4Tail: boolean): number[] | null {
  if (part === '') return [];
  const items = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const g = items[i]!;
    if (allowV4Tail && i === items.length - 1 && g.includes('.')) {
      const m = V4_TAIL.exec(g);
      if (!m) return null;
      const b = m.slice(1, 5).map(Number);
      if (b.some((x) => x > 255 || Number.isNaN(x))) return null;
      out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      continue;
    }
    if (!HEX_GROUP.test(g)) return null;
    out.push(Number.parseInt(g, 16));
  }
  return out;
}

/**
 * Parses an IPv6 address in text form (`2001:db8::10`, `::1`, `::ffff:192.0.2.1`, full form) into
 * 16 bytes; null for anything else: no prefix length, no zone (`%eth0`), no brackets.
 */
export function parseIPv6(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return null;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return null;
  let words: number[];
  if (dbl === -1) {
    const g = groups(s, true);
    if (!g || g.length !== 8) return null;
    words = g;
  } else {
    const head = groups(s.slice(0, dbl), false);
    const tail = groups(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (two groups or more, first on a tie) as '::'. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt === -1) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

/** The canonical text of an IPv6 address given as text, or null when it is not one. */
export function canonicalIPv6(s: string): string | null {
  const b = parseIPv6(s);
  return b ? ipv6ToString(b) : null;
}

/** The address as 32 hex digits (how nft takes a 128-bit raw payload value: `0x…`). */
export function ipv6ToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** The solicited-node multicast group of an address (RFC 4291 2.7.1): ff02::1:ffXX:XXXX. */
export function solicitedNode(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
  return out;
}

/** The Ethernet multicast address of an IPv6 multicast group (RFC 2464 7): 33:33 and its last 4 bytes. */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}

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

/** [addr]:port, as ipvsadm prints an IPv6 endpoint. */
export function endpoint6ToString(b: Uint8Array, port: number, off = 0): string {
  return `[${ipv6ToString(b, off)}]:${port}`;
}

/** True when the 16 bytes at a[ao] and b[bo] are the same address. No allocation. */
export function ipv6Equals(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 16; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/**
 * libipvs's order of two IPv6 addresses (text), as ipvsadm sorts its listing: the four 32-bit words
 * read big-endian (ntohl of s6_addr32), compared one by one, each difference wrapped like C's int.
 * An address that does not parse counts as ::.
 */
export function compareIPv6AsLibipvs(a: string, b: string): number {
  const x = parseIPv6(a) ?? new Uint8Array(16);
  const y = parseIPv6(b) ?? new Uint8Array(16);
  for (let i = 0; i < 16; i += 4) {
    const wx = ((x[i]! << 24) | (x[i + 1]! << 16) | (x[i + 2]! << 8) | x[i + 3]!) >>> 0;
    const wy = ((y[i]! << 24) | (y[i + 1]! << 16) | (y[i + 2]! << 8) | y[i + 3]!) >>> 0;
    const r = (wx - wy) | 0;
    if (r !== 0) return r;
  }
  return 0;
}
