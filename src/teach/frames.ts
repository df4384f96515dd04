/**
 * Captures in, one timeline out. Several pcaps taken at different hosts of one LAN (the client,
 * the director, each real server) see many of the same frames: a frame on the wire is the same
 * bytes wherever it is captured, so frames are merged by their bytes into one list of WireFrames,
 * each remembering where (and as which frame number of which file) it was seen.
 *
 * Pure: the captures come in as records (bytes and times); reading files is the caller's job.
 */
import { DsrlbError } from '../errors/index.ts';
import { macToString } from '../model/index.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, parseFrame } from '../packet/index.ts';
import { describeIPv6, icmp6Text } from './frames6.ts';

/** LINKTYPE_ETHERNET: the only link type explained. */
export const LINKTYPE_ETHERNET = 1;

export interface CaptureRecord {
  timeMs: number;
  data: Uint8Array;
  origLen: number;
}

export interface CaptureInput {
  /** Where it was taken, e.g. "client" or "www1" (a file's name without .pcap). */
  name: string;
  linkType: number;
  records: readonly CaptureRecord[];
}

export interface Sighting {
  /** Capture name. */
  point: string;
  /** 1-based frame number in that capture (what Wireshark shows). */
  index: number;
}

export interface ArpInfo {
  op: 'request' | 'reply' | 'other';
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
  /** A sender announcing its own address (spa = tpa), request or reply; for NDP an unsolicited advertisement. */
  gratuitous: boolean;
  /** IPv6 Neighbor Solicitation (op 'request') or Advertisement ('reply'); see frames6.ts. */
  ndp?: true;
}

export interface IpInfo {
  src: string;
  dst: string;
  ttl: number;
  id: number;
  proto: number;
  totalLength: number;
  headerChecksumOk: boolean;
  /** IPv6: `ttl` holds the hop limit, `id` the flow label, `proto` the upper layer's Next Header. */
  v6?: true;
}

export interface L4Info {
  proto: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  /** TCP flag names (SYN, ACK, …); [] for UDP. */
  flags: string[];
  seq: number;
  ack: number;
  payloadLength: number;
  /** null when it cannot be checked (absent UDP checksum, fragment). */
  checksumOk: boolean | null;
}

/** An ICMP message; for errors, the packet it quotes (its first bytes). */
export interface IcmpInfo {
  type: number;
  code: number;
  /** Next-hop MTU of "fragmentation needed" (3/4), else 0. */
  mtu: number;
  quoted: { proto: 'tcp' | 'udp'; src: string; dst: string; srcPort: number; dstPort: number } | null;
  /** ICMPv6 (the types and codes are ICMPv6's; mtu is that of "packet too big"). */
  v6?: true;
}

export interface WireFrame {
  /** 1-based position in the merged timeline. */
  n: number;
  /** Earliest time it was seen (ms since the epoch). */
  timeMs: number;
  seenAt: Sighting[];
  /** Captured bytes and length on the wire. */
  len: number;
  origLen: number;
  srcMac: string;
  dstMac: string;
  etherType: number;
  arp: ArpInfo | null;
  ip: IpInfo | null;
  l4: L4Info | null;
  icmp: IcmpInfo | null;
  /** Why the frame did not decode, when it did not. */
  error: string | null;
  /** The IPv4 packet with TTL and header checksum blanked (hex), to find the same packet forwarded; '' otherwise. */
  l3Key: string;
  /** The director's capture priming probe (EtherType 0x88b5, "dsrb" magic). */
  probe: boolean;
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function l3Key(data: Uint8Array, l3Off: number, end: number): string {
  const ip = data.slice(l3Off, end);
  if (ip.length >= 12) {
    ip[8] = 0;
    ip[10] = 0;
    ip[11] = 0;
  }
  return hex(ip);
}

export function describeFrame(data: Uint8Array, origLen: number): Omit<WireFrame, 'n' | 'timeMs' | 'seenAt'> {
  const base = {
    len: data.length, origLen, srcMac: '', dstMac: '', etherType: 0, arp: null, ip: null, l4: null, icmp: null, error: null, l3Key: '', probe: false,
  };
  // IPv6 (untagged or behind one VLAN tag) has its own decoder.
  const et = data.length >= 14 ? (data[12]! << 8) | data[13]! : 0;
  const inner = et === 0x8100 && data.length >= 18 ? (data[16]! << 8) | data[17]! : et;
  if (inner === 0x86dd) {
    const f: Omit<WireFrame, 'n' | 'timeMs' | 'seenAt'> = { ...base, dstMac: macToString(data, 0), srcMac: macToString(data, 6), etherType: et };
    describeIPv6(data, f);
    return f;
  }
  const r = parseFrame(data);
  if (!r.ok) {
    const f: Omit<WireFrame, 'n' | 'timeMs' | 'seenAt'> = { ...base, error: r.error.message };
    if (data.length >= 12) {
      f.dstMac = macToString(data, 0);
      f.srcMac = macToString(data, 6);
    }
    return f;
  }
  const p = r.frame;
  const out: Omit<WireFrame, 'n' | 'timeMs' | 'seenAt'> = {
    ...base, srcMac: p.eth.src, dstMac: p.eth.dst, etherType: p.eth.etherType,
  };
  out.probe = p.eth.etherType === 0x88b5 && data.length >= 18 && data[14] === 0x64 && data[15] === 0x73 && data[16] === 0x72 && data[17] === 0x62;
  if (p.arp && p.eth.etherType === ETHERTYPE_ARP) {
    const a = p.arp;
    out.arp = {
      op: a.op === 1 ? 'request' : a.op === 2 ? 'reply' : 'other',
      sha: a.sha, spa: a.spa, tha: a.tha, tpa: a.tpa,
      gratuitous: a.spa === a.tpa && a.spa !== '0.0.0.0',
    };
  }
  if (p.ipv4 && p.eth.etherType === ETHERTYPE_IPV4) {
    const ip = p.ipv4;
    out.ip = {
      src: ip.src, dst: ip.dst, ttl: ip.ttl, id: ip.id, proto: ip.protocol, totalLength: ip.totalLength, headerChecksumOk: ip.checksumOk,
    };
    out.l3Key = l3Key(data, p.l3Offset, p.l3Offset + ip.totalLength);
    if (p.tcp) {
      out.l4 = {
        proto: 'tcp', srcPort: p.tcp.srcPort, dstPort: p.tcp.dstPort, flags: [...p.tcp.flags], seq: p.tcp.seq, ack: p.tcp.ack,
        payloadLength: p.tcp.payloadLength, checksumOk: p.tcp.checksumOk,
      };
    } else if (p.icmp) {
      out.icmp = icmpInfo(data, p.l3Offset + (data[p.l3Offset]! & 15) * 4, p.l3Offset + ip.totalLength, p.icmp.type, p.icmp.code);
    } else if (p.udp) {
      out.l4 = {
        proto: 'udp', srcPort: p.udp.srcPort, dstPort: p.udp.dstPort, flags: [], seq: 0, ack: 0,
        payloadLength: p.udp.payloadLength, checksumOk: p.udp.checksumOk,
      };
    }
  }
  return out;
}

const dotted = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Type, code, MTU and the quoted flow of an ICMP message whose header starts at `l4`. */
function icmpInfo(b: Uint8Array, l4: number, end: number, type: number, code: number): IcmpInfo {
  const info: IcmpInfo = { type, code, mtu: type === 3 && code === 4 && end - l4 >= 8 ? (b[l4 + 6]! << 8) | b[l4 + 7]! : 0, quoted: null };
  const q = l4 + 8;
  if ((type === 3 || type === 4 || type === 11) && end - q >= 24 && b[q]! >> 4 === 4) {
    const hl = (b[q]! & 15) * 4;
    const proto = b[q + 9];
    if (hl >= 20 && end - q >= hl + 4 && (proto === 6 || proto === 17)) {
      info.quoted = {
        proto: proto === 6 ? 'tcp' : 'udp', src: dotted(b, q + 12), dst: dotted(b, q + 16),
        srcPort: (b[q + hl]! << 8) | b[q + hl + 1]!, dstPort: (b[q + hl + 2]! << 8) | b[q + hl + 3]!,
      };
    }
  }
  return info;
}

/** "fragmentation needed (MTU 1000)", "port unreachable", … */
export function icmpText(i: IcmpInfo): string {
  if (i.v6) return icmp6Text(i.type, i.code, i.mtu);
  if (i.type === 3) {
    const codes = ['network unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable', `fragmentation needed (MTU ${i.mtu})`];
    return `ICMP ${codes[i.code] ?? `destination unreachable (code ${i.code})`}`;
  }
  if (i.type === 11) return 'ICMP time exceeded';
  if (i.type === 4) return 'ICMP source quench';
  if (i.type === 8) return 'ICMP echo request';
  if (i.type === 0) return 'ICMP echo reply';
  return `ICMP type ${i.type} code ${i.code}`;
}

/**
 * Merges captures into one timeline ordered by first sighting. A frame seen at several points (the
 * same bytes) becomes one WireFrame; a frame repeated at one point (a retransmission with equal
 * bytes) stays two. Throws E_TEACH_LINKTYPE for a capture that is not Ethernet.
 */
export function mergeCaptures(captures: readonly CaptureInput[]): WireFrame[] {
  const merged: WireFrame[] = [];
  // bytes -> frames with those bytes (several when one point saw the same bytes twice)
  const byBytes = new Map<string, WireFrame[]>();
  const all: Array<{ point: string; index: number; rec: CaptureRecord }> = [];
  for (const c of captures) {
    if (c.linkType !== LINKTYPE_ETHERNET) {
      throw new DsrlbError('E_TEACH_LINKTYPE', `${c.name}: link type ${c.linkType} is not Ethernet (capture on the Ethernet interface, not "any")`);
    }
    c.records.forEach((rec, i) => all.push({ point: c.name, index: i + 1, rec }));
  }
  all.sort((a, b) => a.rec.timeMs - b.rec.timeMs);
  for (const { point, index, rec } of all) {
    const key = hex(rec.data);
    const same = byBytes.get(key);
    // Join a frame with the same bytes that this point has not seen yet, close in time (the
    // same frame reaches every port of a LAN within milliseconds).
    const twin = same?.find((f) => !f.seenAt.some((s) => s.point === point) && rec.timeMs - f.timeMs < 1000);
    if (twin) {
      twin.seenAt.push({ point, index });
      continue;
    }
    const f: WireFrame = { n: 0, timeMs: rec.timeMs, seenAt: [{ point, index }], ...describeFrame(rec.data, rec.origLen) };
    merged.push(f);
    if (same) same.push(f);
    else byBytes.set(key, [f]);
  }
  merged.forEach((f, i) => (f.n = i + 1));
  return merged;
}

/** "SYN", "SYN,ACK", "PSH,ACK" … in the order people say them. */
export function flagText(flags: readonly string[]): string {
  const order = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
  return order.filter((f) => flags.includes(f)).join(',') || '(none)';
}
