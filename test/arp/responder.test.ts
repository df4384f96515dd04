import { describe, expect, it } from 'vitest';
import { ARP_DROP_HELP, ARP_DROP_REASONS, ArpDrop, isArpReply, respondArp, type ArpDropReason, type ResponderSelf } from '../../src/arp/index.ts';
import { decodeFrame, FrameInfo } from '../../src/packet/index.ts';
import { DIR_MAC, hex, norm, pad, toHex, VIP, VIP2 } from './helpers.ts';

// Addresses as they appear in the fixtures:
//   director 02:00:00:00:00:01, client 02:00:00:00:00:0a (10.0.0.10 = 0a00000a),
//   VIP 10.0.0.100 = 0a000064, another host 10.0.0.50 = 0a000032.
const REQ = '0001 0800 06 04 0001';
const REP = '0001 0800 06 04 0002';
/** The client's broadcast "who has VIP? tell 10.0.0.10", as a Linux client sends it (60 bytes). */
const CLIENT_ASKS_VIP = `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`;
/** The reply a kernel holding the VIP would send. */
const VIP_IS_AT_DIR = `02000000000a 020000000001 0806 ${REP} 020000000001 0a000064 02000000000a 0a00000a ${pad(18)}`;

interface Fixture {
  description: string;
  input: string;
  /** Passed as `len`; the input's length when absent. */
  len?: number;
  self?: Partial<ResponderSelf>;
  outSize?: number;
  expected: ArpDropReason | 'reply';
  output?: string;
}

const fixtures: Fixture[] = [
  {
    description: 'broadcast request for the VIP -> reply to the asker',
    input: CLIENT_ASKS_VIP,
    expected: 'reply',
    output: VIP_IS_AT_DIR,
  },
  {
    description: 'request for the VIP without padding (42 bytes, as captured on the sender) -> same reply',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064`,
    expected: 'reply',
    output: VIP_IS_AT_DIR,
  },
  {
    description: 'unicast request to our MAC (a client re-confirming, NUD_PROBE) -> reply',
    input: `020000000001 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: 'reply',
    output: VIP_IS_AT_DIR,
  },
  {
    description: 'request with tha = ff:ff:ff:ff:ff:ff (some stacks) -> reply, tha of the reply is the asker',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a ffffffffffff 0a000064 ${pad(18)}`,
    expected: 'reply',
    output: VIP_IS_AT_DIR,
  },
  {
    description: 'Ethernet source differs from sha -> the reply goes to sha, as the kernel sends it',
    input: `ffffffffffff 020000000077 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: 'reply',
    output: VIP_IS_AT_DIR,
  },
  {
    description: 'RFC 5227 probe for the VIP (spa 0.0.0.0) -> reply with tpa 0.0.0.0 (kernel DAD case)',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 00000000 000000000000 0a000064 ${pad(18)}`,
    expected: 'reply',
    output: `02000000000a 020000000001 0806 ${REP} 020000000001 0a000064 02000000000a 00000000 ${pad(18)}`,
  },
  {
    description: 'VLAN-tagged request (PCP 5, VID 10) -> reply carries the same tag',
    input: `ffffffffffff 02000000000a 8100 a00a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064 ${pad(14)}`,
    expected: 'reply',
    output: `02000000000a 020000000001 8100 a00a 0806 ${REP} 020000000001 0a000064 02000000000a 0a00000a ${pad(14)}`,
  },
  {
    description: 'request for the second VIP, VIPs given as a predicate -> reply',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000065 ${pad(18)}`,
    self: { vips: (ip: number) => ip === VIP || ip === VIP2 },
    expected: 'reply',
    output: `02000000000a 020000000001 0806 ${REP} 020000000001 0a000065 02000000000a 0a00000a ${pad(18)}`,
  },
  {
    description: 'the request Linux 6.18 really sent (captured on veth, 42 bytes) for VIP 10.0.0.1 -> reply',
    input: `ffffffffffff 020000000021 0806 ${REQ} 020000000021 0a000015 000000000000 0a000001`,
    self: { vips: new Set([0x0a000001]) },
    expected: 'reply',
    output: `020000000021 020000000001 0806 ${REP} 020000000001 0a000001 020000000021 0a000015 ${pad(18)}`,
  },
  {
    description: 'request for another IP -> not-our-vip',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000032 ${pad(18)}`,
    expected: ArpDrop.NotOurVip,
  },
  {
    description: 'an ARP reply (someone answering the client) -> not-request',
    input: `02000000000a 020000000022 0806 ${REP} 020000000022 0a000016 02000000000a 0a00000a ${pad(18)}`,
    expected: ArpDrop.NotRequest,
  },
  {
    description: 'a reply claiming the VIP -> not-request',
    input: `02000000000a 020000000099 0806 ${REP} 020000000099 0a000064 02000000000a 0a00000a ${pad(18)}`,
    expected: ArpDrop.NotRequest,
  },
  {
    description: 'unknown ARP operation 3 -> not-request',
    input: `ffffffffffff 02000000000a 0806 0001 0800 06 04 0003 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.NotRequest,
  },
  {
    description: 'gratuitous request for the VIP from another host (spa = tpa) -> gratuitous',
    input: `ffffffffffff 020000000099 0806 ${REQ} 020000000099 0a000064 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.Gratuitous,
  },
  {
    description: 'gratuitous reply for the VIP (arping -A) -> not-request',
    input: `ffffffffffff 020000000099 0806 ${REP} 020000000099 0a000064 020000000099 0a000064 ${pad(18)}`,
    expected: ArpDrop.NotRequest,
  },
  {
    description: 'our own gratuitous request coming back -> from-self',
    input: `ffffffffffff 020000000001 0806 ${REQ} 020000000001 0a000064 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.FromSelf,
  },
  {
    description: 'our own request for the VIP (sha = our MAC) -> from-self',
    input: `ffffffffffff 020000000001 0806 ${REQ} 020000000001 0a000001 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.FromSelf,
  },
  {
    description: 'sha is our MAC behind another Ethernet source -> from-self',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 020000000001 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.FromSelf,
  },
  {
    description: 'unicast request to another host, seen in promiscuous mode -> not-our-mac',
    input: `020000000099 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.NotOurMac,
  },
  {
    description: 'sha is a multicast MAC -> bad-sender',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 01005e000001 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.BadSender,
  },
  {
    description: 'sha is all zeros -> bad-sender',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 000000000000 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.BadSender,
  },
  {
    description: 'spa is loopback 127.0.0.1 -> bad-sender',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 7f000001 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.BadSender,
  },
  {
    description: 'spa is 255.255.255.255 -> bad-sender',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a ffffffff 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.BadSender,
  },
  {
    description: 'request for the VIP while standby -> inactive',
    input: CLIENT_ASKS_VIP,
    self: { active: false },
    expected: ArpDrop.Inactive,
  },
  {
    description: 'request for another IP while standby -> not-our-vip',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a000032 ${pad(18)}`,
    self: { active: false },
    expected: ArpDrop.NotOurVip,
  },
  {
    description: 'truncated ARP (41 bytes) -> malformed',
    input: `ffffffffffff 02000000000a 0806 ${REQ} 02000000000a 0a00000a 000000000000 0a0000`,
    expected: ArpDrop.Malformed,
  },
  {
    description: 'full buffer but len 41 -> malformed (never reads past len)',
    input: CLIENT_ASKS_VIP,
    len: 41,
    expected: ArpDrop.Malformed,
  },
  {
    description: 'truncated Ethernet header -> malformed',
    input: 'ffffffffffff 02000000000a 08',
    expected: ArpDrop.Malformed,
  },
  {
    description: 'truncated VLAN-tagged ARP -> malformed',
    input: `ffffffffffff 02000000000a 8100 000a 0806 ${REQ} 02000000000a 0a00000a 000000000000`,
    expected: ArpDrop.Malformed,
  },
  {
    description: 'ARP for another hardware type (6, IEEE 802) -> malformed',
    input: `ffffffffffff 02000000000a 0806 0006 0800 06 04 0001 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.Malformed,
  },
  {
    description: 'ARP with plen 16 -> malformed',
    input: `ffffffffffff 02000000000a 0806 0001 0800 06 10 0001 02000000000a 0a00000a 000000000000 0a000064 ${pad(18)}`,
    expected: ArpDrop.Malformed,
  },
  {
    description: 'an IPv4 frame -> not-arp',
    input: `020000000001 02000000000a 0800 4500 001c 0000 4000 4011 0000 0a00000a 0a000064 d431 0035 0008 0000 ${pad(4)}`,
    expected: ArpDrop.NotArp,
  },
  {
    description: 'an IPv6 frame -> not-arp',
    input: `333300000001 02000000000a 86dd ${pad(46)}`,
    expected: ArpDrop.NotArp,
  },
  {
    description: 'output buffer of 59 bytes -> no-room',
    input: CLIENT_ASKS_VIP,
    outSize: 59,
    expected: ArpDrop.NoRoom,
  },
];

describe('arp/responder fixtures', () => {
  const info = new FrameInfo();
  for (const f of fixtures) {
    it(f.description, () => {
      const frame = hex(f.input);
      const len = f.len ?? frame.length;
      decodeFrame(frame, len, info);
      const self: ResponderSelf = { mac: DIR_MAC, vips: new Set([VIP]), active: true, ...f.self };
      const out = new Uint8Array(f.outSize ?? 64).fill(0xee);
      const before = toHex(frame);
      const r = respondArp(frame, len, info, self, out);
      expect(toHex(frame)).toBe(before); // the request is never modified
      if (f.expected === 'reply') {
        expect(isArpReply(r)).toBe(true);
        expect(r).toBe(60);
        expect(toHex(out.subarray(0, r as number))).toBe(norm(f.output!));
        expect(toHex(out.subarray(60))).toBe('eeeeeeee');
      } else {
        expect(r).toBe(f.expected);
        expect(isArpReply(r)).toBe(false);
        expect(toHex(out)).toBe('ee'.repeat(out.length)); // nothing written
      }
    });
  }

  it('the reply decodes as an ARP reply for the VIP', () => {
    const frame = hex(CLIENT_ASKS_VIP);
    decodeFrame(frame, frame.length, info);
    const out = new Uint8Array(64);
    const n = respondArp(frame, frame.length, info, { mac: DIR_MAC, vips: new Set([VIP]), active: true }, out) as number;
    const ri = new FrameInfo();
    expect(decodeFrame(out, n, ri)).toBe(true);
    expect([ri.arpOp, ri.arpSpa, ri.arpTpa]).toEqual([2, VIP, 0x0a00000a]);
  });

  it('a stale FrameInfo from a longer frame does not make it read past a short one', () => {
    const long = hex(CLIENT_ASKS_VIP);
    decodeFrame(long, long.length, info);
    const short = long.slice(0, 30);
    const r = respondArp(short, short.length, info, { mac: DIR_MAC, vips: new Set([VIP]), active: true }, new Uint8Array(64));
    expect(r).toBe(ArpDrop.Malformed);
  });

  it('exports every reason, each with help text, fixtures cover all of them', () => {
    expect(new Set(ARP_DROP_REASONS).size).toBe(ARP_DROP_REASONS.length);
    expect(Object.values(ArpDrop).sort()).toEqual([...ARP_DROP_REASONS].sort());
    for (const r of ARP_DROP_REASONS) expect(ARP_DROP_HELP[r]).toMatch(/\w/);
    const covered = new Set(fixtures.map((f) => f.expected));
    for (const r of ARP_DROP_REASONS) expect(covered.has(r)).toBe(true);
  });
});
