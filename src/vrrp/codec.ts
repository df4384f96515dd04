/**
 * VRRP on the wire, as keepalived 2.2.7 sends and checks it: VRRPv2 (RFC 3768; authentication none,
 * PASS = 8 clear bytes, or keepalived's IPSEC-AH: an AH header before VRRP, HMAC-MD5-96 over the IP
 * header with its mutable fields zeroed, the AH header with a zero ICV and the VRRP packet, keyed
 * with the 8-byte password, SPI = source address, sequence numbers from 1) and VRRPv3 (RFC 5798:
 * centisecond interval, checksum over the IPv4 pseudo-header). Pure: bytes in, values out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const VRRP_PROTO = 112;
export const AH_PROTO = 51;
export const VRRP_GROUP = 0xe0000012; // 224.0.0.18
export const VRRP_TTL = 255;

/** 'unknown': a VRRPv2 auth type other than 0, 1, 2 (decoded, then rejected). */
export type VrrpAuthType = 'none' | 'pass' | 'ah' | 'unknown';

export interface VrrpAdvert {
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds (VRRPv2 carries whole seconds: 100 x its field). */
  advertIntCs: number;
  addresses: number[];
  /** VRRPv2 only. */
  authType: VrrpAuthType;
  /** VRRPv2 PASS: the 8 bytes as carried. */
  authData: Buffer;
}

/** An IPv4 packet carrying VRRP (with AH when present), decoded but not yet checked against a router. */
export interface VrrpPacket {
  src: number;
  dst: number;
  ttl: number;
  advert: VrrpAdvert;
  /** The VRRP checksum was right. */
  checksumOk: boolean;
  /** AH, when the IP protocol was 51. */
  ah: { spi: number; seq: number; icv: Buffer; icvOk: (key: Buffer) => boolean } | null;
}

export type DecodeError = 'short' | 'not-ipv4' | 'not-vrrp' | 'bad-length' | 'bad-version' | 'bad-type';

/** RFC 1071 one's complement sum. */
function sum16(buf: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  for (let i = start; i + 1 < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if ((end - start) & 1) s += buf[end - 1]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return (~x) & 0xffff;
}

/** The VRRP checksum: v2 over the VRRP packet, v3 with the IPv4 pseudo-header in front. */
export function vrrpChecksum(vrrp: Uint8Array, version: 2 | 3, src: number, dst: number): number {
  let acc = 0;
  if (version === 3) {
    acc += (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + VRRP_PROTO + vrrp.length;
  }
  return fold(sum16(vrrp, 0, vrrp.length, acc));
}

/** The 8-byte key keepalived uses for PASS and AH: the password, zero padded, cut at 8 bytes. */
export function authKey(pass: string): Buffer {
  const k = Buffer.alloc(8);
  Buffer.from(pass, 'latin1').copy(k, 0, 0, 8);
  return k;
}

/** The VRRP packet alone (checksum filled in). */
export function encodeVrrp(a: VrrpAdvert, src: number, dst: number): Buffer {
  const v2 = a.version === 2;
  const len = 8 + 4 * a.addresses.length + (v2 ? 8 : 0);
  const b = Buffer.alloc(len);
  b[0] = (a.version << 4) | 1;
  b[1] = a.vrid;
  b[2] = a.priority;
  b[3] = a.addresses.length;
  if (v2) {
    b[4] = a.authType === 'none' ? 0 : a.authType === 'pass' ? 1 : 2;
    b[5] = Math.max(1, Math.round(a.advertIntCs / 100)) & 0xff;
  } else {
    b.writeUInt16BE(a.advertIntCs & 0x0fff, 4);
  }
  a.addresses.forEach((ad, i) => b.writeUInt32BE(ad >>> 0, 8 + 4 * i));
  if (v2 && a.authType === 'pass') a.authData.copy(b, 8 + 4 * a.addresses.length, 0, 8);
  b.writeUInt16BE(vrrpChecksum(b, a.version, src, dst), 6);
  return b;
}

function ipHeader(totalLen: number, proto: number, src: number, dst: number, id: number, ttl: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = 0xc0; // precedence: internetwork control, as keepalived sends
  h.writeUInt16BE(totalLen, 2);
  h.writeUInt16BE(id & 0xffff, 4);
  h[8] = ttl;
  h[9] = proto;
  h.writeUInt32BE(src >>> 0, 12);
  h.writeUInt32BE(dst >>> 0, 16);
  h.writeUInt16BE(fold(sum16(h, 0, 20)), 10);
  return h;
}

/** AH's ICV (HMAC-MD5-96) over ip (mutable fields zeroed) + ah (ICV zeroed) + vrrp, as keepalived. */
export function ahIcv(ip: Uint8Array, ah: Uint8Array, vrrp: Uint8Array, key: Buffer, unicast: boolean): Buffer {
  const iph = Buffer.from(ip);
  iph[1] = 0;
  iph[6] = 0;
  iph[7] = 0;
  iph[10] = 0;
  iph[11] = 0;
  if (unicast) iph[8] = 0;
  const ahz = Buffer.from(ah);
  ahz.fill(0, 12, 24);
  return createHmac('md5', key).update(iph).update(ahz).update(vrrp).digest().subarray(0, 12);
}

export interface EncodeIpOptions {
  src: number;
  dst: number;
  /** IP identification. */
  id: number;
  ttl?: number;
  /** AH: key and sequence number (the advert's authType must be 'ah'). */
  ah?: { key: Buffer; seq: number };
}

/** The whole IPv4 packet (header, AH when asked, VRRP): what a raw socket with IP_HDRINCL sends. */
export function encodeVrrpIp(a: VrrpAdvert, o: EncodeIpOptions): Buffer {
  const vrrp = encodeVrrp(a, o.src, o.dst);
  const ttl = o.ttl ?? VRRP_TTL;
  if (!o.ah) return Buffer.concat([ipHeader(20 + vrrp.length, VRRP_PROTO, o.src, o.dst, o.id, ttl), vrrp]);
  const ah = Buffer.alloc(24);
  ah[0] = VRRP_PROTO;
  ah[1] = 4; // (24 / 4) - 2
  ah.writeUInt32BE(o.src >>> 0, 4);
  ah.writeUInt32BE(o.ah.seq >>> 0, 8);
  const ip = ipHeader(20 + 24 + vrrp.length, AH_PROTO, o.src, o.dst, o.id, ttl);
  ahIcv(ip, ah, vrrp, o.ah.key, o.dst !== VRRP_GROUP).copy(ah, 12);
  return Buffer.concat([ip, ah, vrrp]);
}

/** Decodes an IPv4 packet carrying VRRP (raw socket view: from the IP header). */
export function decodeVrrpIp(p: Uint8Array): { ok: true; packet: VrrpPacket } | { ok: false; error: DecodeError } {
  if (p.length < 20) return { ok: false, error: 'short' };
  if (p[0]! >> 4 !== 4) return { ok: false, error: 'not-ipv4' };
  const ihl = (p[0]! & 0x0f) * 4;
  const buf = Buffer.from(p.buffer, p.byteOffset, p.length);
  const total = Math.min(buf.readUInt16BE(2), p.length);
  if (ihl < 20 || total < ihl + 8) return { ok: false, error: 'short' };
  const proto = p[9]!;
  const src = buf.readUInt32BE(12);
  const dst = buf.readUInt32BE(16);
  let off = ihl;
  let ah: VrrpPacket['ah'] = null;
  if (proto === AH_PROTO) {
    if (total < ihl + 24 + 8) return { ok: false, error: 'short' };
    if (p[ihl] !== VRRP_PROTO) return { ok: false, error: 'not-vrrp' };
    const ahb = buf.subarray(ihl, ihl + 24);
    const ipb = buf.subarray(0, ihl);
    const vr = buf.subarray(ihl + 24, total);
    const icv = Buffer.from(ahb.subarray(12, 24));
    ah = {
      spi: ahb.readUInt32BE(4), seq: ahb.readUInt32BE(8), icv,
      icvOk: (key) => timingSafeEqual(ahIcv(ipb, ahb, vr, key, dst !== VRRP_GROUP), icv),
    };
    off = ihl + 24;
  } else if (proto !== VRRP_PROTO) return { ok: false, error: 'not-vrrp' };
  const v = buf.subarray(off, total);
  const version = v[0]! >> 4;
  if (version !== 2 && version !== 3) return { ok: false, error: 'bad-version' };
  if ((v[0]! & 0x0f) !== 1) return { ok: false, error: 'bad-type' };
  const count = v[3]!;
  const need = 8 + 4 * count + (version === 2 ? 8 : 0);
  if (v.length < need) return { ok: false, error: 'bad-length' };
  const vr = v.subarray(0, need);
  const addresses: number[] = [];
  for (let i = 0; i < count; i++) addresses.push(vr.readUInt32BE(8 + 4 * i));
  const at = vr[4]!;
  const advert: VrrpAdvert = {
    version,
    vrid: vr[1]!,
    priority: vr[2]!,
    advertIntCs: version === 2 ? vr[5]! * 100 : vr.readUInt16BE(4) & 0x0fff,
    addresses,
    authType: version === 3 ? 'none' : at === 0 ? 'none' : at === 1 ? 'pass' : at === 2 ? 'ah' : 'unknown',
    authData: version === 2 ? Buffer.from(vr.subarray(8 + 4 * count, 16 + 4 * count)) : Buffer.alloc(0),
  };
  const checksumOk = vrrpChecksum(vr, version, src, dst) === 0;
  return { ok: true, packet: { src, dst, ttl: p[8]!, advert, checksumOk, ah } };
}
