/**
 * A friendly, allocating view of a frame for tools and tests, built on the zero-allocation
 * decodeFrame: `parseFrame(bytes)` gives `{ ok: true, frame }` or `{ ok: false, error }` with a
 * PacketError naming the layer and the byte offset. It never throws.
 *
 * Byte fields (options, payload, trailer) are zero-copy subarrays of the input: they change if the
 * input is changed afterwards. Copy them (`.slice()`) to keep them.
 */

import { DsrlbError } from '../errors/index.ts';
import { ipToString, macToString } from '../model/index.ts';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  FrameInfo,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  decodeFrame,
  describeDecodeError,
} from './decode.ts';
import type { Layer } from './decode.ts';
import { icmpChecksumOk, ipv4HeaderChecksumOk, tcpChecksumOk, udpChecksumOk } from './checksum.ts';
import { tcpFlagNames } from './tcp-flags.ts';
import type { TcpFlagName } from './tcp-flags.ts';

/** A frame that does not decode: `layer` is where, `offset` the absolute byte offset in the frame. */
export class PacketError extends DsrlbError {
  readonly layer: Layer;
  readonly offset: number;
  readonly reason: string;
  constructor(layer: Layer, offset: number, reason: string) {
    super('E_PACKET', `${layer} at byte ${offset}: ${reason}`);
    this.name = 'PacketError';
    this.layer = layer;
    this.offset = offset;
    this.reason = reason;
  }
}

export interface ParsedVlan {
  /** Priority code point (0..7). */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN id (0..4095). */
  id: number;
}

export interface ParsedEthernet {
  dst: string;
  src: string;
  vlan: ParsedVlan | null;
  /** EtherType after any VLAN tag. */
  etherType: number;
  /** 14, or 18 with a VLAN tag. */
  headerLength: number;
}

export interface ParsedIpv4 {
  version: number;
  /** Header length in 32-bit words, as in the header. */
  ihl: number;
  /** Header length in bytes (ihl * 4). */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  flags: { reserved: boolean; df: boolean; mf: boolean };
  /** Fragment offset in 8-byte units, as in the header (and FrameInfo). */
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  checksumOk: boolean;
  src: string;
  dst: string;
  srcU32: number;
  dstU32: number;
  /** Header bytes after the fixed 20. */
  options: Uint8Array;
  /** Bytes after the header up to totalLength (the L4 segment, or a fragment of it). */
  payload: Uint8Array;
}

export interface ParsedTcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes (data offset * 4). */
  headerLength: number;
  /** Flag names from the low bit up: FIN SYN RST PSH ACK URG ECE CWR. */
  flags: TcpFlagName[];
  /** The flags byte. */
  flagBits: number;
  window: number;
  checksum: number;
  /** null when it cannot be checked here (a first fragment). */
  checksumOk: boolean | null;
  urgent: number;
  options: Uint8Array;
  payloadLength: number;
  payload: Uint8Array;
}

export interface ParsedUdp {
  srcPort: number;
  dstPort: number;
  /** The UDP length field (header + payload of the whole datagram). */
  length: number;
  checksum: number;
  /** null when absent (field 0) or not checkable here (a first fragment). */
  checksumOk: boolean | null;
  /** Bytes of payload present in this frame. */
  payloadLength: number;
  payload: Uint8Array;
}

export interface ParsedIcmp {
  type: number;
  code: number;
  checksum: number;
  /** null when it cannot be checked here (a first fragment). */
  checksumOk: boolean | null;
  /** Bytes 4..7 of the header as a u32. */
  rest: number;
  /** Identifier and sequence of an echo request (8) or reply (0); null for other types. */
  id: number | null;
  seq: number | null;
  payload: Uint8Array;
}

export interface ParsedArp {
  htype: number;
  ptype: number;
  op: number;
  sha: string;
  spa: string;
  spaU32: number;
  tha: string;
  tpa: string;
  tpaU32: number;
}

export interface ParsedFrame {
  /** Bytes in the frame. */
  length: number;
  eth: ParsedEthernet;
  /** Offset of the L3 header (14 or 18). */
  l3Offset: number;
  /** Offset of the L4 header, -1 when there is none (not IPv4, later fragment). */
  l4Offset: number;
  ipv4: ParsedIpv4 | null;
  tcp: ParsedTcp | null;
  udp: ParsedUdp | null;
  icmp: ParsedIcmp | null;
  arp: ParsedArp | null;
  /** Bytes after the IPv4 packet or the ARP body (Ethernet padding); empty for other EtherTypes. */
  trailer: Uint8Array;
}

export type ParseResult = { ok: true; frame: ParsedFrame } | { ok: false; error: PacketError };

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Parses one Ethernet frame. Every field read here lies inside the ranges decodeFrame has checked,
 * so any byte string gives either a frame or a PacketError — never another exception.
 */
export function parseFrame(bytes: Uint8Array): ParseResult {
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, error: new PacketError('ethernet', 0, 'input is not a Uint8Array') };
  }
  const info = new FrameInfo();
  if (!decodeFrame(bytes, bytes.length, info)) {
    return { ok: false, error: new PacketError(info.errLayer, info.errOffset, describeDecodeError(info)) };
  }
  const b = bytes.subarray(0, info.len);
  const tagged = info.vlanId >= 0;
  const eth: ParsedEthernet = {
    dst: macToString(b, 0),
    src: macToString(b, 6),
    vlan: tagged ? { pcp: b[14]! >> 5, dei: (b[14]! & 0x10) !== 0, id: info.vlanId } : null,
    etherType: info.etherType,
    headerLength: info.l3Off,
  };
  const frame: ParsedFrame = {
    length: info.len,
    eth,
    l3Offset: info.l3Off,
    l4Offset: -1,
    ipv4: null,
    tcp: null,
    udp: null,
    icmp: null,
    arp: null,
    trailer: b.subarray(info.len),
  };
  if (info.etherType === ETHERTYPE_ARP) {
    frame.arp = parseArp(b, info);
    frame.trailer = b.subarray(info.l3Off + 28);
  } else if (info.etherType === ETHERTYPE_IPV4) {
    frame.ipv4 = parseIpv4(b, info);
    frame.trailer = b.subarray(info.l3End);
    frame.l4Offset = info.l4Off;
    if (info.l4Off >= 0) {
      if (info.ipProto === IPPROTO_TCP) frame.tcp = parseTcp(b, info);
      else if (info.ipProto === IPPROTO_UDP) frame.udp = parseUdp(b, info);
      else if (info.ipProto === IPPROTO_ICMP) frame.icmp = parseIcmp(b, info);
    }
  }
  return { ok: true, frame };
}

function parseArp(b: Uint8Array, info: FrameInfo): ParsedArp {
  const o = info.l3Off;
  return {
    htype: u16(b, o),
    ptype: u16(b, o + 2),
    op: info.arpOp,
    sha: macToString(b, info.arpShaOff),
    spa: ipToString(info.arpSpa),
    spaU32: info.arpSpa,
    tha: macToString(b, info.arpThaOff),
    tpa: ipToString(info.arpTpa),
    tpaU32: info.arpTpa,
  };
}

function parseIpv4(b: Uint8Array, info: FrameInfo): ParsedIpv4 {
  const o = info.l3Off;
  return {
    version: b[o]! >> 4,
    ihl: b[o]! & 15,
    headerLength: info.ipHeaderLen,
    tos: b[o + 1]!,
    totalLength: info.ipTotalLen,
    id: u16(b, o + 4),
    flags: { reserved: (b[o + 6]! & 0x80) !== 0, df: info.dontFragment, mf: info.moreFragments },
    fragOffset: info.fragOffset,
    ttl: info.ttl,
    protocol: info.ipProto,
    checksum: u16(b, o + 10),
    checksumOk: ipv4HeaderChecksumOk(b, info),
    src: ipToString(info.ipSrc),
    dst: ipToString(info.ipDst),
    srcU32: info.ipSrc,
    dstU32: info.ipDst,
    options: b.subarray(o + 20, o + info.ipHeaderLen),
    payload: b.subarray(o + info.ipHeaderLen, info.l3End),
  };
}

function fragmented(info: FrameInfo): boolean {
  return info.moreFragments || info.fragOffset !== 0;
}

function parseTcp(b: Uint8Array, info: FrameInfo): ParsedTcp {
  const o = info.l4Off;
  return {
    srcPort: info.srcPort,
    dstPort: info.dstPort,
    seq: u32(b, o + 4),
    ack: u32(b, o + 8),
    headerLength: info.payloadOff - o,
    flags: tcpFlagNames(info.tcpFlags),
    flagBits: info.tcpFlags,
    window: u16(b, o + 14),
    checksum: u16(b, o + 16),
    checksumOk: fragmented(info) ? null : tcpChecksumOk(b, info),
    urgent: u16(b, o + 18),
    options: b.subarray(o + 20, info.payloadOff),
    payloadLength: info.l3End - info.payloadOff,
    payload: b.subarray(info.payloadOff, info.l3End),
  };
}

function parseUdp(b: Uint8Array, info: FrameInfo): ParsedUdp {
  const o = info.l4Off;
  const length = u16(b, o + 4);
  const checksum = u16(b, o + 6);
  const end = o + length < info.l3End ? o + length : info.l3End;
  return {
    srcPort: info.srcPort,
    dstPort: info.dstPort,
    length,
    checksum,
    checksumOk: checksum === 0 || fragmented(info) ? null : udpChecksumOk(b, info),
    payloadLength: end - info.payloadOff,
    payload: b.subarray(info.payloadOff, end),
  };
}

function parseIcmp(b: Uint8Array, info: FrameInfo): ParsedIcmp {
  const o = info.l4Off;
  const echo = info.icmpType === 0 || info.icmpType === 8;
  return {
    type: info.icmpType,
    code: info.icmpCode,
    checksum: u16(b, o + 2),
    checksumOk: fragmented(info) ? null : icmpChecksumOk(b, info),
    rest: u32(b, o + 4),
    id: echo ? u16(b, o + 4) : null,
    seq: echo ? u16(b, o + 6) : null,
    payload: b.subarray(info.payloadOff, info.l3End),
  };
}
