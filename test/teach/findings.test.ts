/**
 * The findings that a testbed run with dsrlb cannot produce on purpose (dsrlb schedules per
 * connection and never relays replies), on small captures built frame by frame.
 */
import { describe, expect, it } from 'vitest';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { arpReply, arpRequest, ethernet, ETHERTYPE_IPV4, internetChecksum, ipv4, tcpFrame } from '../../src/packet/index.ts';
import { explainCaptures, type CaptureRecord } from '../../src/teach/index.ts';

const C = { mac: '02:aa:00:00:00:64', ip: '10.1.0.100' };
const D = { mac: '02:aa:00:00:00:01', ip: '10.1.0.1' };
const R1 = { mac: '02:aa:00:00:00:11', ip: '10.1.0.11' };
const R2 = { mac: '02:aa:00:00:00:12', ip: '10.1.0.12' };
const VIP = '10.1.0.10';
const config = parseLdirectordConfig(`virtual=${VIP}:80\n\treal=${R1.ip}:80 gate\n\treal=${R2.ip}:80 gate\n\tchecktype=on\n`, 'test.cf');

type Spec = { from: { mac: string }; to: { mac: string }; src: string; dst: string; sport: number; dport: number; flags: string; ttl?: number; seq?: number; payload?: Uint8Array; ipId?: number };

function tcp(s: Spec): Uint8Array {
  return tcpFrame({ srcMac: s.from.mac, dstMac: s.to.mac, src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, flags: s.flags, ttl: s.ttl ?? 64, seq: s.seq ?? 1000, ipId: s.ipId ?? 7, ...(s.payload ? { payload: s.payload } : {}) });
}
/** The client's frame to the VIP, and the director's copy of it for `real`. */
function viaDirector(real: { mac: string }, flags: string, seq: number): Uint8Array[] {
  const base = { src: C.ip, dst: VIP, sport: 40000, dport: 80, flags, seq, ipId: seq };
  return [tcp({ ...base, from: C, to: D }), tcp({ ...base, from: D, to: real, ttl: 63 })];
}
function capture(frames: Uint8Array[]): { name: string; linkType: number; records: CaptureRecord[] } {
  return { name: 'wire', linkType: 1, records: frames.map((data, i) => ({ timeMs: 1000 + i, data, origLen: data.length })) };
}
const fromVip = (real: { mac: string }, to: { mac: string }, flags: string, seq = 5000) =>
  tcp({ from: real, to, src: VIP, dst: C.ip, sport: 80, dport: 40000, flags, seq, ipId: seq });

describe('findings on hand-made captures', () => {
  it('per-packet scheduling: one connection forwarded to two reals, reset right after the handshake', () => {
    const ex = explainCaptures([capture([
      ...viaDirector(R1, 'SYN', 1),
      fromVip(R1, C, 'SYN,ACK'),
      ...viaDirector(R2, 'ACK', 2),
      fromVip(R2, C, 'RST', 0),
    ])], { config });
    const codes = ex.findings.map((f) => f.code);
    expect(codes).toContain('flow-split');
    expect(codes).toContain('reset-after-handshake');
    expect(ex.findings.find((f) => f.code === 'reset-after-handshake')!.detail).toMatch(/per-packet scheduling/);
    expect(ex.flows[0]!.realMacs.sort()).toEqual([R1.mac, R2.mac]);
  });

  it('replies through the director: not DSR', () => {
    const ex = explainCaptures([capture([
      ...viaDirector(R1, 'SYN', 1),
      fromVip(R1, D, 'SYN,ACK'),
      tcp({ from: D, to: C, src: VIP, dst: C.ip, sport: 80, dport: 40000, flags: 'SYN,ACK', seq: 5000, ipId: 5000, ttl: 63 }),
    ])], { config });
    const f = ex.findings.find((x) => x.code === 'reply-via-director')!;
    expect(f.severity).toBe('problem');
    expect(f.frames.length).toBe(2);
    expect(ex.flows[0]!.arrows.filter((a) => a.kind === 'reply-via-director').length).toBe(2);
  });

  it('a real answering from its own address instead of the VIP', () => {
    const ex = explainCaptures([capture([
      ...viaDirector(R1, 'SYN', 1),
      tcp({ from: R1, to: C, src: R1.ip, dst: C.ip, sport: 80, dport: 40000, flags: 'SYN,ACK' }),
    ])], { config });
    expect(ex.findings.map((f) => f.code)).toContain('reply-not-from-vip');
    expect(ex.findings.find((f) => f.code === 'reply-not-from-vip')!.fix).toContain(`ip addr add ${VIP}/32 dev lo`);
  });

  it('a frame larger than the MTU (GRO/TSO)', () => {
    const big = new Uint8Array(2900).fill(0x61);
    const ex = explainCaptures([capture([
      ...viaDirector(R1, 'SYN', 1),
      fromVip(R1, C, 'SYN,ACK'),
      tcp({ from: R1, to: C, src: VIP, dst: C.ip, sport: 80, dport: 40000, flags: 'PSH,ACK', seq: 5001, payload: big }),
    ])], { config });
    const f = ex.findings.find((x) => x.code === 'frame-over-mtu')!;
    expect(f.title).toMatch(/larger than the MTU \(1500\)/);
    expect(f.fix).toContain('gro off');
    expect(explainCaptures([capture([tcp({ from: R1, to: C, src: VIP, dst: C.ip, sport: 80, dport: 40000, flags: 'ACK', payload: big })])], { config, mtu: 9000 })
      .findings.some((x) => x.code === 'frame-over-mtu')).toBe(false);
  });

  it('ARP for the VIP that nobody answers, and the ARP problem from hand-made frames', () => {
    const ask = arpRequest({ senderMac: parseMac(C.mac)!, senderIp: parseIPv4(C.ip)!, targetIp: parseIPv4(VIP)! });
    const none = explainCaptures([capture([ask])], { config });
    expect(none.findings.map((f) => f.code)).toEqual(['arp-unanswered']);
    const two = explainCaptures([capture([
      ask,
      arpReply({ senderMac: parseMac(D.mac)!, senderIp: parseIPv4(VIP)!, targetMac: parseMac(C.mac)!, targetIp: parseIPv4(C.ip)! }),
      arpReply({ senderMac: parseMac(R2.mac)!, senderIp: parseIPv4(VIP)!, targetMac: parseMac(C.mac)!, targetIp: parseIPv4(C.ip)! }),
    ])]);
    expect(two.roles.vips).toEqual([]); // no connection to the address: nothing says it is a VIP
    const withCfg = explainCaptures([capture([
      ask,
      arpReply({ senderMac: parseMac(D.mac)!, senderIp: parseIPv4(VIP)!, targetMac: parseMac(C.mac)!, targetIp: parseIPv4(C.ip)! }),
      arpReply({ senderMac: parseMac(R2.mac)!, senderIp: parseIPv4(VIP)!, targetMac: parseMac(C.mac)!, targetIp: parseIPv4(C.ip)! }),
    ])], { config });
    const f = withCfg.findings.find((x) => x.code === 'arp-multiple-macs')!;
    expect(f.title).toContain(D.mac);
    expect(f.title).toContain(R2.mac);
  });

  it('refuses what it cannot explain', () => {
    expect(() => explainCaptures([])).toThrow(/no capture/);
    expect(() => explainCaptures([{ name: 'any', linkType: 113, records: [] }])).toThrow(expect.objectContaining({ code: 'E_TEACH_LINKTYPE' }));
    expect(() => explainCaptures([capture([]), capture([])])).toThrow(expect.objectContaining({ code: 'E_TEACH_DUPLICATE' }));
  });

  it('keeps frames that do not decode, as other frames', () => {
    const ex = explainCaptures([capture([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0, 0x45])])]);
    expect(ex.frames[0]!.error).toMatch(/ipv4/);
    expect(ex.other.kinds.get('frames that do not decode')).toBe(1);
  });
});

describe('ICMP errors about a flow (path MTU discovery through DSR)', () => {
  const RTR = { mac: '02:aa:00:00:00:fe', ip: '10.1.0.254' };
  /** "Fragmentation needed" from the router to the VIP (the director's MAC), quoting the real's reply, and the director's copy to the real. */
  function fragNeeded(forwarded: boolean): Uint8Array[] {
    const reply = fromVip(R1, RTR, 'ACK', 5001).subarray(14, 14 + 28);
    const icmp = new Uint8Array(8 + reply.length);
    icmp[0] = 3;
    icmp[1] = 4;
    icmp[6] = 1000 >> 8;
    icmp[7] = 1000 & 0xff;
    icmp.set(reply, 8);
    const c = internetChecksum(icmp, 0, icmp.length);
    icmp[2] = c >> 8;
    icmp[3] = c & 0xff;
    const mk = (from: { mac: string }, to: { mac: string }, ttl: number) =>
      ethernet(to.mac, from.mac, ETHERTYPE_IPV4, ipv4({ src: RTR.ip, dst: VIP, proto: 'icmp', payload: icmp, ttl, id: 99 }));
    return forwarded ? [mk(RTR, D, 64), mk(D, R1, 63)] : [mk(RTR, D, 64)];
  }

  it('names the error, puts it on the flow\'s ladder and says where it went (to the real)', () => {
    const ex = explainCaptures([capture([...viaDirector(R1, 'SYN', 1), fromVip(R1, C, 'SYN,ACK'), ...fragNeeded(true)])], { config });
    const arrows = ex.flows[0]!.arrows.filter((a) => a.frame.icmp);
    expect(arrows.map((a) => [a.kind, a.label])).toEqual([['icmp-error', 'ICMP fragmentation needed (MTU 1000)'], ['forwarded', 'ICMP fragmentation needed (MTU 1000)']]);
    expect(arrows[1]!.notes.join(' ')).toMatch(/learns the path MTU/);
    expect(ex.findings.map((f) => f.code)).toContain('icmp-error-forwarded');
    expect(ex.findings.map((f) => f.code)).not.toContain('icmp-error-not-forwarded');
  });

  it('an error that stops at the director is a problem: the path MTU black hole', () => {
    const ex = explainCaptures([capture([...viaDirector(R1, 'SYN', 1), fromVip(R1, C, 'SYN,ACK'), ...fragNeeded(false)])], { config });
    const f = ex.findings.find((x) => x.code === 'icmp-error-not-forwarded')!;
    expect(f.severity).toBe('problem');
    expect(f.detail).toMatch(/black-hole/);
    expect(f.flows).toEqual([1]);
  });
});
