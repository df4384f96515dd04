/** Small frame builders for the io tests (their own, so the tests do not depend on src/packet). */
import { parseIPv4, parseMac } from '../../src/model/index.ts';

function mac(s: string): Uint8Array {
  const m = parseMac(s);
  if (!m) throw new Error(`bad MAC ${s}`);
  return m;
}
function ip(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad IP ${s}`);
  return n;
}

function ipv4Checksum(b: Buffer, off: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface L4Frame {
  dstMac: string;
  srcMac: string;
  srcIp: string;
  dstIp: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  /** Marker written into the payload (u32) so a receiver can tell frames apart. */
  tag?: number;
}

/** Ethernet + IPv4 + TCP (SYN) or UDP, 64 bytes or more, valid IPv4 header checksum. */
export function l4Frame(f: L4Frame): Buffer {
  const l4len = f.proto === 'tcp' ? 20 : 8;
  const payload = 8;
  const total = 20 + l4len + payload;
  const b = Buffer.alloc(Math.max(60, 14 + total));
  b.set(mac(f.dstMac), 0);
  b.set(mac(f.srcMac), 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(total, 16);
  b[22] = 64;
  b[23] = f.proto === 'tcp' ? 6 : 17;
  b.writeUInt32BE(ip(f.srcIp), 26);
  b.writeUInt32BE(ip(f.dstIp), 30);
  b.writeUInt16BE(ipv4Checksum(b, 14), 24);
  b.writeUInt16BE(f.sport, 34);
  b.writeUInt16BE(f.dport, 36);
  if (f.proto === 'tcp') {
    b[46] = 0x50;
    b[47] = 0x02; // SYN
    b.writeUInt16BE(64240, 48);
  } else {
    b.writeUInt16BE(8 + payload, 38);
  }
  b.writeUInt32BE((f.tag ?? 0) >>> 0, 14 + 20 + l4len);
  return b;
}

/** The tag written by l4Frame (reads it back from a captured frame). */
export function tagOf(b: Buffer): number {
  const l4len = b[23] === 6 ? 20 : 8;
  return b.readUInt32BE(14 + 20 + l4len);
}

export function arpRequest(srcMac: string, srcIp: string, targetIp: string): Buffer {
  const b = Buffer.alloc(60);
  b.fill(0xff, 0, 6);
  b.set(mac(srcMac), 6);
  b.writeUInt16BE(0x0806, 12);
  b.writeUInt16BE(1, 14);
  b.writeUInt16BE(0x0800, 16);
  b[18] = 6;
  b[19] = 4;
  b.writeUInt16BE(1, 20);
  b.set(mac(srcMac), 22);
  b.writeUInt32BE(ip(srcIp), 28);
  b.writeUInt32BE(ip(targetIp), 38);
  return b;
}
