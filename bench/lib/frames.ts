/**
 * The benchmark's UDP frames (pure): complete IPv4/UDP datagrams of `flows` different source ports
 * (one flow each for the balancers), a correct IPv4 header checksum and UDP checksum 0 ("none",
 * valid for IPv4). The 60-byte default is the shortest Ethernet frame (without FCS).
 */

export interface UdpFramesSpec {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  dport: number;
  /** First source port; flow i uses sportBase + i. */
  sportBase: number;
  flows: number;
  /** Ethernet frame length without FCS (default 60, the minimum). */
  frameLen?: number;
}

function macBytes(s: string): number[] {
  const p = s.split(':');
  if (p.length !== 6) throw new Error(`bad MAC ${s}`);
  return p.map((x) => {
    const v = parseInt(x, 16);
    if (!/^[0-9a-fA-F]{1,2}$/.test(x) || v > 255) throw new Error(`bad MAC ${s}`);
    return v;
  });
}

function ipBytes(s: string): number[] {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 ${s}`);
  return p;
}

/** RFC 1071 checksum of the bytes [off, off+len) of b. */
export function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export function udpFrames(spec: UdpFramesSpec): Uint8Array[] {
  const len = spec.frameLen ?? 60;
  if (len < 42 || len > 1514) throw new Error(`frame length ${len} out of 42..1514`);
  if (spec.flows < 1 || spec.sportBase + spec.flows - 1 > 65535) throw new Error('bad flow count or source port base');
  const dmac = macBytes(spec.dstMac);
  const smac = macBytes(spec.srcMac);
  const src = ipBytes(spec.src);
  const dst = ipBytes(spec.dst);
  const out: Uint8Array[] = [];
  for (let f = 0; f < spec.flows; f++) {
    const b = new Uint8Array(len);
    b.set(dmac, 0);
    b.set(smac, 6);
    b[12] = 0x08;
    b[13] = 0x00;
    const ipLen = len - 14;
    b.set([0x45, 0, ipLen >> 8, ipLen & 255, 0, 0, 0x40, 0, 64, 17, 0, 0], 14);
    b.set(src, 26);
    b.set(dst, 30);
    const c = ipChecksum(b, 14, 20);
    b[24] = c >> 8;
    b[25] = c & 255;
    const sport = spec.sportBase + f;
    const udpLen = ipLen - 20;
    b.set([sport >> 8, sport & 255, spec.dport >> 8, spec.dport & 255, udpLen >> 8, udpLen & 255, 0, 0], 34);
    out.push(b);
  }
  return out;
}
