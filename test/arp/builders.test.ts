import { describe, expect, it } from 'vitest';
import { isDsrlbError } from '../../src/errors/index.ts';
import { decodeFrame, FrameInfo } from '../../src/packet/index.ts';
import {
  ARP_FRAME_LEN, arpReply, arpRequest, gratuitousArp, isBroadcastMac, isGroupMac, isZeroMac, macEquals, writeArpFrame,
} from '../../src/packet/arp.ts';
import { CLIENT_IP, CLIENT_MAC, DIR_IP, DIR_MAC, hex, norm, pad, R1_IP, R1_MAC, toHex, VIP } from './helpers.ts';

// Field by field: eth dst | eth src | [8100 TCI] | 0806 | htype ptype hlen plen op | sha | spa | tha | tpa | padding
const ARP_HDR_REQ = '0001 0800 06 04 0001';
const ARP_HDR_REP = '0001 0800 06 04 0002';

describe('packet/arp builders: exact bytes', () => {
  const cases: { description: string; frame: () => Uint8Array; expected: string }[] = [
    {
      description: 'request, broadcast, zero target MAC (kernel arp_solicit), from the director address',
      frame: () => arpRequest({ senderMac: DIR_MAC, senderIp: DIR_IP, targetIp: R1_IP }),
      expected: `ffffffffffff 020000000001 0806 ${ARP_HDR_REQ} 020000000001 0a000001 000000000000 0a000015 ${pad(18)}`,
    },
    {
      description: 'request as an RFC 5227 probe: sender IP 0.0.0.0',
      frame: () => arpRequest({ senderMac: DIR_MAC, senderIp: 0, targetIp: R1_IP }),
      expected: `ffffffffffff 020000000001 0806 ${ARP_HDR_REQ} 020000000001 00000000 000000000000 0a000015 ${pad(18)}`,
    },
    {
      description: 'request unicast to a known MAC (refresh, like NUD_PROBE): tha still zero',
      frame: () => arpRequest({ senderMac: DIR_MAC, senderIp: 0, targetIp: R1_IP, ethDst: R1_MAC }),
      expected: `020000000021 020000000001 0806 ${ARP_HDR_REQ} 020000000001 00000000 000000000000 0a000015 ${pad(18)}`,
    },
    {
      description: 'request on VLAN 10: tag 8100 000a, padded to 60 all the same',
      frame: () => arpRequest({ senderMac: DIR_MAC, senderIp: DIR_IP, targetIp: R1_IP, vlan: 10 }),
      expected: `ffffffffffff 020000000001 8100 000a 0806 ${ARP_HDR_REQ} 020000000001 0a000001 000000000000 0a000015 ${pad(14)}`,
    },
    {
      description: 'reply unicast to the asker',
      frame: () => arpReply({ senderMac: DIR_MAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP }),
      expected: `02000000000a 020000000001 0806 ${ARP_HDR_REP} 020000000001 0a000064 02000000000a 0a00000a ${pad(18)}`,
    },
    {
      description: 'reply on VLAN 4095',
      frame: () => arpReply({ senderMac: DIR_MAC, senderIp: VIP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP, vlan: 4095 }),
      expected: `02000000000a 020000000001 8100 0fff 0806 ${ARP_HDR_REP} 020000000001 0a000064 02000000000a 0a00000a ${pad(14)}`,
    },
    {
      description: 'gratuitous request: broadcast, spa = tpa = VIP, tha zero (kernel, libnet send_arp, RFC 5227)',
      frame: () => gratuitousArp(DIR_MAC, VIP, 'request'),
      expected: `ffffffffffff 020000000001 0806 ${ARP_HDR_REQ} 020000000001 0a000064 000000000000 0a000064 ${pad(18)}`,
    },
    {
      description: 'gratuitous request like arping -U: tha broadcast',
      frame: () => gratuitousArp(DIR_MAC, VIP, 'request', { requestTarget: 'broadcast' }),
      expected: `ffffffffffff 020000000001 0806 ${ARP_HDR_REQ} 020000000001 0a000064 ffffffffffff 0a000064 ${pad(18)}`,
    },
    {
      description: 'gratuitous reply like arping -A: broadcast, tha = sha (what arp_is_garp requires)',
      frame: () => gratuitousArp(DIR_MAC, VIP, 'reply'),
      expected: `ffffffffffff 020000000001 0806 ${ARP_HDR_REP} 020000000001 0a000064 020000000001 0a000064 ${pad(18)}`,
    },
    {
      description: 'gratuitous reply on VLAN 7',
      frame: () => gratuitousArp(DIR_MAC, VIP, 'reply', { vlan: 7 }),
      expected: `ffffffffffff 020000000001 8100 0007 0806 ${ARP_HDR_REP} 020000000001 0a000064 020000000001 0a000064 ${pad(14)}`,
    },
  ];

  for (const c of cases) {
    it(c.description, () => {
      const f = c.frame();
      expect(f.length).toBe(60);
      expect(toHex(f)).toBe(norm(c.expected));
    });
  }

  it('every built frame decodes back to the fields it was built from', () => {
    const info = new FrameInfo();
    const f = arpRequest({ senderMac: DIR_MAC, senderIp: DIR_IP, targetIp: R1_IP, vlan: 10 });
    expect(decodeFrame(f, f.length, info)).toBe(true);
    expect(info.vlanId).toBe(10);
    expect(info.arpOp).toBe(1);
    expect(info.arpSpa).toBe(DIR_IP);
    expect(info.arpTpa).toBe(R1_IP);
    expect(toHex(f.subarray(info.arpShaOff, info.arpShaOff + 6))).toBe('020000000001');
    expect(toHex(f.subarray(info.arpThaOff, info.arpThaOff + 6))).toBe('000000000000');
    const r = gratuitousArp(DIR_MAC, VIP, 'reply');
    expect(decodeFrame(r, r.length, info)).toBe(true);
    expect([info.vlanId, info.arpOp, info.arpSpa, info.arpTpa]).toEqual([-1, 2, VIP, VIP]);
  });

  it('writeArpFrame writes into a reused buffer, zeroes the padding, and refuses a short buffer', () => {
    const out = new Uint8Array(64).fill(0xee);
    const n = writeArpFrame(out, 2, DIR_MAC, VIP, CLIENT_MAC, 0, CLIENT_MAC, 0, CLIENT_IP, 0xa00a);
    expect(n).toBe(ARP_FRAME_LEN);
    expect(toHex(out.subarray(0, n))).toBe(
      norm(`02000000000a 020000000001 8100 a00a 0806 ${ARP_HDR_REP} 020000000001 0a000064 02000000000a 0a00000a ${pad(14)}`),
    );
    expect(toHex(out.subarray(60))).toBe('eeeeeeee'); // nothing written past the frame
    expect(writeArpFrame(new Uint8Array(59), 1, DIR_MAC, 0, CLIENT_MAC, 0, CLIENT_MAC, 0, 0, -1)).toBe(0);
  });

  it('MAC predicates', () => {
    const b = hex('ffffffffffff 000000000000 01005e000001 020000000001');
    expect([isBroadcastMac(b, 0), isBroadcastMac(b, 6), isBroadcastMac(b, 12)]).toEqual([true, false, false]);
    expect([isZeroMac(b, 0), isZeroMac(b, 6), isZeroMac(b, 18)]).toEqual([false, true, false]);
    expect([isGroupMac(b, 0), isGroupMac(b, 12), isGroupMac(b, 18)]).toEqual([true, true, false]);
    expect(macEquals(b, 18, DIR_MAC, 0)).toBe(true);
    expect(macEquals(b, 12, DIR_MAC, 0)).toBe(false);
  });

  it('rejects bad arguments with E_ARP_ARGS', () => {
    const bads: (() => unknown)[] = [
      () => arpRequest({ senderMac: new Uint8Array(5), senderIp: 0, targetIp: R1_IP }),
      () => arpRequest({ senderMac: DIR_MAC, senderIp: -1, targetIp: R1_IP }),
      () => arpRequest({ senderMac: DIR_MAC, senderIp: 0, targetIp: 2 ** 32 }),
      () => arpRequest({ senderMac: DIR_MAC, senderIp: 0, targetIp: 1.5 }),
      () => arpRequest({ senderMac: DIR_MAC, senderIp: 0, targetIp: R1_IP, vlan: 4096 }),
      () => arpReply({ senderMac: DIR_MAC, senderIp: VIP, targetMac: new Uint8Array(7), targetIp: CLIENT_IP }),
      () => gratuitousArp(DIR_MAC, VIP, 'announce' as 'request'),
      () => gratuitousArp(DIR_MAC, VIP, 'request', { requestTarget: 'ones' as 'zero' }),
    ];
    for (const f of bads) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isDsrlbError(err) && err.code === 'E_ARP_ARGS').toBe(true);
    }
  });
});
