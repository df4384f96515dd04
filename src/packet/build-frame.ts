/**
 * Whole Ethernet frames in one call, with defaults that fit the testbed's picture (a client
 * 10.0.0.10 talking to a VIP 10.0.0.100 through the director):
 *
 *   tcpFrame({ sport: 40000, dport: 80, flags: 'SYN' })
 *   udpFrame({ src: '10.0.0.11', dport: 53, payload: query, vlan: 100 })
 *   icmpEchoFrame({ id: 1, seq: 1, payload: 'ping' })
 */

import { ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
import { ethernet, icmpEcho, ipv4, padFrame, tcp, udp } from './build.ts';
import type { IcmpEchoBuild, Ipv4Build, Ipv4Input, MacInput, TcpBuild, UdpBuild, VlanInput } from './build.ts';

/** The defaults of the frame builders. */
export const FRAME_DEFAULTS = {
  srcMac: '02:00:00:00:00:0a',
  dstMac: '02:00:00:00:00:01',
  src: '10.0.0.10',
  dst: '10.0.0.100',
  sport: 40000,
  dport: 80,
  ttl: 64,
} as const;

/** Ethernet and IPv4 fields shared by the frame builders; every one has a default. */
export interface FrameCommon {
  srcMac?: MacInput;
  dstMac?: MacInput;
  vlan?: number | VlanInput | null;
  src?: Ipv4Input;
  dst?: Ipv4Input;
  ttl?: number;
  /** IP identification, default 0. */
  ipId?: number;
  tos?: number;
  /** Don't-fragment bit; default true for TCP (as Linux sends), false otherwise. */
  df?: boolean;
  ipOptions?: Uint8Array;
  /** Pad with zeros to the 60-byte Ethernet minimum (true), or to a given size. Default false. */
  pad?: boolean | number;
  /** Overrides of the IPv4 header, for malformed frames. */
  ip?: Pick<Ipv4Build, 'version' | 'ihl' | 'totalLength' | 'checksum' | 'flags' | 'fragOffset'>;
}

type Endpoints = { src: Ipv4Input; dst: Ipv4Input };

function endpoints(o: FrameCommon): Endpoints {
  return { src: o.src ?? FRAME_DEFAULTS.src, dst: o.dst ?? FRAME_DEFAULTS.dst };
}

function frame(o: FrameCommon, proto: number, l4: Uint8Array, dfDefault: boolean): Uint8Array {
  const ep = endpoints(o);
  const packet = ipv4({
    ...ep,
    proto,
    payload: l4,
    ttl: o.ttl ?? FRAME_DEFAULTS.ttl,
    id: o.ipId ?? 0,
    tos: o.tos ?? 0,
    flags: { df: o.df ?? dfDefault },
    ...(o.ipOptions ? { options: o.ipOptions } : {}),
    ...o.ip,
  });
  const f = ethernet(o.dstMac ?? FRAME_DEFAULTS.dstMac, o.srcMac ?? FRAME_DEFAULTS.srcMac, ETHERTYPE_IPV4, packet, o.vlan);
  if (o.pad === undefined || o.pad === false) return f;
  return padFrame(f, o.pad === true ? 60 : o.pad);
}

export type TcpFrameBuild = FrameCommon & Partial<Omit<TcpBuild, 'src' | 'dst'>>;

/** An Ethernet frame carrying IPv4 + TCP, all checksums right. Default ports 40000 -> 80, no flags. */
export function tcpFrame(o: TcpFrameBuild = {}): Uint8Array {
  const seg = tcp({
    ...o,
    ...endpoints(o),
    sport: o.sport ?? FRAME_DEFAULTS.sport,
    dport: o.dport ?? FRAME_DEFAULTS.dport,
  });
  return frame(o, IPPROTO_TCP, seg, true);
}

export type UdpFrameBuild = FrameCommon & Partial<Omit<UdpBuild, 'src' | 'dst'>>;

/** An Ethernet frame carrying IPv4 + UDP, all checksums right. Default ports 40000 -> 80. */
export function udpFrame(o: UdpFrameBuild = {}): Uint8Array {
  const dgram = udp({
    ...o,
    ...endpoints(o),
    sport: o.sport ?? FRAME_DEFAULTS.sport,
    dport: o.dport ?? FRAME_DEFAULTS.dport,
  });
  return frame(o, IPPROTO_UDP, dgram, false);
}

export type IcmpEchoFrameBuild = FrameCommon & IcmpEchoBuild;

/** An Ethernet frame carrying IPv4 + ICMP echo request (or reply with type: 'reply'). */
export function icmpEchoFrame(o: IcmpEchoFrameBuild = {}): Uint8Array {
  return frame(o, IPPROTO_ICMP, icmpEcho(o), false);
}
