/**
 * ARP frame builders (Ethernet/IPv4 ARP, RFC 826), padded with zeros to the 60-byte Ethernet
 * minimum, as they reach the wire from a Linux host (the FCS is the NIC's business and is not
 * included). The kernel itself hands the driver 42 bytes and the NIC driver or hardware pads them;
 * veth does not pad, so a capture on veth shows 42-byte ARP frames from the kernel.
 *
 * Layout of every frame built here:
 *   dst MAC (6) | src MAC (6) | [0x8100, TCI (4) when tagged] | 0x0806 |
 *   htype 1 | ptype 0x0800 | hlen 6 | plen 4 | op | sha (6) | spa (4) | tha (6) | tpa (4) | zero padding
 *
 * Field choices and where they come from:
 * - The Ethernet source is always the sender hardware address (the director's own MAC).
 * - Requests carry a zero target hardware address, as the kernel's arp_create() writes when it is
 *   given no target (its own solicitations and gratuitous requests) and as RFC 5227 asks.
 * - A reply goes to the asker's sender hardware address (Ethernet destination and tha alike), as
 *   the kernel's arp_process() answers.
 * - A gratuitous reply has tha = sha: Linux's arp_is_garp() only treats a reply as gratuitous when
 *   the two match (iputils `arping -A` and heartbeat's send_arp also write the sender MAC there).
 *
 * `writeArpFrame` writes into a caller-owned buffer and allocates nothing (the responder uses it on
 * the packet path); the other builders allocate a fresh 60-byte frame.
 */

import { DsrlbError } from '../errors/index.ts';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_VLAN } from './decode.ts';

/** Minimum Ethernet frame without FCS; shorter frames are padded with zeros up to it. */
export const ETH_ZLEN = 60;
/** ARP payload for Ethernet/IPv4. */
export const ARP_PAYLOAD_LEN = 28;
export const ARP_HTYPE_ETHER = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
/** Every ARP frame built here is this long (tagged or not: 18 + 28 = 46 < 60). */
export const ARP_FRAME_LEN = ETH_ZLEN;

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);

/** Options of the allocating builders. */
export interface VlanOption {
  /** 802.1Q VLAN id (0..4095); the frame is untagged when absent. Priority bits are 0. */
  vlan?: number;
}

export interface ArpRequestSpec extends VlanOption {
  senderMac: Uint8Array;
  /** u32; 0 makes an RFC 5227 probe ("who has T? tell 0.0.0.0"). */
  senderIp: number;
  targetIp: number;
  /**
   * Ethernet destination; broadcast when absent. A unicast request to the MAC already known is how
   * Linux re-confirms a neighbour (NUD_PROBE). The ARP target hardware address stays zero.
   */
  ethDst?: Uint8Array;
}

export interface ArpReplySpec extends VlanOption {
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export type GarpOp = 'request' | 'reply';

export interface GarpOptions extends VlanOption {
  /**
   * Target hardware address of a gratuitous *request*: 'zero' (default: the kernel's own
   * gratuitous ARP, heartbeat's libnet send_arp, RFC 5227 announcements) or 'broadcast'
   * (iputils `arping -U`, the arping-based send_arp.linux, metallb).
   */
  requestTarget?: 'zero' | 'broadcast';
}

function bad(message: string): never {
  throw new DsrlbError('E_ARP_ARGS', message);
}

function checkMac(mac: unknown, what: string): asserts mac is Uint8Array {
  if (!(mac instanceof Uint8Array) || mac.length !== 6) bad(`${what} must be a Uint8Array of 6 bytes`);
}

function checkIp(ip: unknown, what: string): asserts ip is number {
  if (typeof ip !== 'number' || !Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) {
    bad(`${what} must be an IPv4 address as an unsigned 32-bit integer`);
  }
}

function vlanTci(vlan: number | undefined): number {
  if (vlan === undefined) return -1;
  if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4095) bad(`VLAN id ${String(vlan)} outside 0..4095`);
  return vlan;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function put6(dst: Uint8Array, o: number, src: Uint8Array, so: number): void {
  for (let i = 0; i < 6; i++) dst[o + i] = src[so + i]!;
}

/**
 * Writes one padded ARP frame at the start of `out` and returns its length (ARP_FRAME_LEN), or 0
 * when `out` is shorter than that. Allocates nothing and never throws.
 *
 * The two hardware addresses that come from a received frame are passed as (buffer, offset) so a
 * reply can be built straight from the request without copying them out first.
 *
 * @param tci  full 802.1Q tag control (priority, DEI, VLAN id) to insert, or -1 for no tag
 */
export function writeArpFrame(
  out: Uint8Array,
  op: number,
  senderMac: Uint8Array,
  senderIp: number,
  ethDst: Uint8Array,
  ethDstOff: number,
  targetMac: Uint8Array,
  targetMacOff: number,
  targetIp: number,
  tci: number,
): number {
  if (out.length < ARP_FRAME_LEN) return 0;
  put6(out, 0, ethDst, ethDstOff);
  put6(out, 6, senderMac, 0);
  let o = 12;
  if (tci >= 0) {
    put16(out, 12, ETHERTYPE_VLAN);
    put16(out, 14, tci & 0xffff);
    o = 16;
  }
  put16(out, o, ETHERTYPE_ARP);
  o += 2;
  put16(out, o, ARP_HTYPE_ETHER);
  put16(out, o + 2, ETHERTYPE_IPV4);
  out[o + 4] = 6;
  out[o + 5] = 4;
  put16(out, o + 6, op);
  put6(out, o + 8, senderMac, 0);
  put32(out, o + 14, senderIp);
  put6(out, o + 18, targetMac, targetMacOff);
  put32(out, o + 24, targetIp);
  out.fill(0, o + ARP_PAYLOAD_LEN, ARP_FRAME_LEN);
  return ARP_FRAME_LEN;
}

/** Offset of the ARP payload in a frame built here. */
export function arpPayloadOffset(tagged: boolean): number {
  return tagged ? ETH_HLEN + 4 : ETH_HLEN;
}

/** "Who has targetIp? Tell senderIp": broadcast (or unicast to `ethDst`), zero target MAC. */
export function arpRequest(spec: ArpRequestSpec): Uint8Array {
  checkMac(spec.senderMac, 'senderMac');
  checkIp(spec.senderIp, 'senderIp');
  checkIp(spec.targetIp, 'targetIp');
  if (spec.ethDst !== undefined) checkMac(spec.ethDst, 'ethDst');
  const tci = vlanTci(spec.vlan);
  const out = new Uint8Array(ARP_FRAME_LEN);
  writeArpFrame(out, ARP_OP_REQUEST, spec.senderMac, spec.senderIp, spec.ethDst ?? BROADCAST, 0, ZERO_MAC, 0, spec.targetIp, tci);
  return out;
}

/** "senderIp is at senderMac", unicast to the asker (`targetMac`, also written as tha). */
export function arpReply(spec: ArpReplySpec): Uint8Array {
  checkMac(spec.senderMac, 'senderMac');
  checkMac(spec.targetMac, 'targetMac');
  checkIp(spec.senderIp, 'senderIp');
  checkIp(spec.targetIp, 'targetIp');
  const tci = vlanTci(spec.vlan);
  const out = new Uint8Array(ARP_FRAME_LEN);
  writeArpFrame(out, ARP_OP_REPLY, spec.senderMac, spec.senderIp, spec.targetMac, 0, spec.targetMac, 0, spec.targetIp, tci);
  return out;
}

/**
 * A gratuitous ARP announcing `ip` at `mac`: broadcast, sender IP = target IP = ip.
 * - 'request': tha zero (or broadcast with `requestTarget: 'broadcast'`), like `arping -U`.
 * - 'reply': tha = mac, like `arping -A`; Linux requires tha = sha to take a reply as gratuitous.
 */
export function gratuitousArp(mac: Uint8Array, ip: number, op: GarpOp, options: GarpOptions = {}): Uint8Array {
  checkMac(mac, 'mac');
  checkIp(ip, 'ip');
  if (op !== 'request' && op !== 'reply') bad(`gratuitous ARP op must be 'request' or 'reply', not ${String(op)}`);
  const rt = options.requestTarget ?? 'zero';
  if (rt !== 'zero' && rt !== 'broadcast') bad(`requestTarget must be 'zero' or 'broadcast', not ${String(rt)}`);
  const tci = vlanTci(options.vlan);
  const out = new Uint8Array(ARP_FRAME_LEN);
  if (op === 'request') {
    writeArpFrame(out, ARP_OP_REQUEST, mac, ip, BROADCAST, 0, rt === 'zero' ? ZERO_MAC : BROADCAST, 0, ip, tci);
  } else {
    writeArpFrame(out, ARP_OP_REPLY, mac, ip, BROADCAST, 0, mac, 0, ip, tci);
  }
  return out;
}

/** True when the 6 bytes at `off` are ff:ff:ff:ff:ff:ff. */
export function isBroadcastMac(b: Uint8Array, off = 0): boolean {
  return (b[off]! & b[off + 1]! & b[off + 2]! & b[off + 3]! & b[off + 4]! & b[off + 5]!) === 0xff;
}

/** True when the 6 bytes at `off` are a group (multicast or broadcast) address: I/G bit set. */
export function isGroupMac(b: Uint8Array, off = 0): boolean {
  return (b[off]! & 1) === 1;
}

/** True when the 6 bytes at `off` are 00:00:00:00:00:00. */
export function isZeroMac(b: Uint8Array, off = 0): boolean {
  return (b[off]! | b[off + 1]! | b[off + 2]! | b[off + 3]! | b[off + 4]! | b[off + 5]!) === 0;
}

/** Compares 6 bytes of `a` at `ao` with 6 bytes of `b` at `bo`. */
export function macEquals(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  return (
    a[ao] === b[bo] &&
    a[ao + 1] === b[bo + 1] &&
    a[ao + 2] === b[bo + 2] &&
    a[ao + 3] === b[bo + 3] &&
    a[ao + 4] === b[bo + 4] &&
    a[ao + 5] === b[bo + 5]
  );
}
