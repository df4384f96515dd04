/** fast-check arbitraries for frames: built from random fields, fixtures, and mutated/truncated ones. */
import fc from 'fast-check';
import { arpReply, arpRequest, icmpEchoFrame, tcpFrame, udpFrame } from '../../src/packet/index.ts';
import type { TcpFlagName } from '../../src/packet/index.ts';
import { GOOD } from './fixtures.ts';

export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
const byte = fc.integer({ min: 0, max: 255 });

export const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 });
export const arbIp = u32;
export const arbVlan = fc.option(
  fc.record({ id: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean() }),
  { nil: null },
);
/** IPv4 options made of NOPs (kind 1) and a trailing EOL, so they stay well-formed; 0..40 bytes. */
export const arbIpOptions = fc.integer({ min: 0, max: 10 }).map((words) => {
  const o = new Uint8Array(words * 4).fill(1);
  if (o.length) o[o.length - 1] = 0;
  return o;
});
/** Arbitrary bytes as TCP options, 0..40 bytes in whole words (the TCP header does not check them). */
export const arbTcpOptions = fc.integer({ min: 0, max: 10 }).chain((w) => fc.uint8Array({ minLength: w * 4, maxLength: w * 4 }));
export const arbFlagNames = fc.subarray<TcpFlagName>(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);
export const arbPayload = fc.uint8Array({ maxLength: 80 });

export const arbCommon = fc.record({
  srcMac: arbMac,
  dstMac: arbMac,
  vlan: arbVlan,
  src: arbIp,
  dst: arbIp,
  ttl: byte,
  ipId: u16,
  tos: byte,
  df: fc.boolean(),
  ipOptions: arbIpOptions,
  pad: fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 100 })),
});

export const arbTcpFields = fc.record({
  sport: u16,
  dport: u16,
  seq: u32,
  ack: u32,
  flags: arbFlagNames,
  window: u16,
  urgent: u16,
  options: arbTcpOptions,
  payload: arbPayload,
});

export const arbUdpFields = fc.record({ sport: u16, dport: u16, payload: arbPayload });
export const arbIcmpFields = fc.record({
  type: fc.constantFrom('request' as const, 'reply' as const),
  id: u16,
  seq: u16,
  payload: arbPayload,
});

/** A valid frame: a fixture or a frame built from random fields. */
export const arbValidFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...GOOD.map((f) => f.bytes)),
  fc.tuple(arbCommon, arbTcpFields).map(([c, t]) => tcpFrame({ ...c, ...t })),
  fc.tuple(arbCommon, arbUdpFields).map(([c, u]) => udpFrame({ ...c, ...u })),
  fc.tuple(arbCommon, arbIcmpFields).map(([c, i]) => icmpEchoFrame({ ...c, ...i })),
  fc
    .record({ op: fc.boolean(), sha: arbMac, tha: arbMac, spa: arbIp, tpa: arbIp, vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }) })
    .map((a) => {
      const vlan = a.vlan === undefined ? {} : { vlan: a.vlan };
      return a.op
        ? arpRequest({ senderMac: a.sha, senderIp: a.spa, targetIp: a.tpa, ...vlan })
        : arpReply({ senderMac: a.sha, senderIp: a.spa, targetMac: a.tha, targetIp: a.tpa, ...vlan });
    }),
);

/** A valid frame with a few bytes overwritten (mostly in the headers) and maybe truncated. */
export const arbMutatedFrame: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    arbValidFrame,
    fc.array(fc.tuple(fc.nat(), byte), { maxLength: 4 }),
    fc.option(fc.nat(), { nil: null }),
  )
  .map(([frame, muts, cut]) => {
    const b = frame.slice();
    for (const [p, v] of muts) if (b.length) b[p % Math.min(b.length, 64)] = v;
    return cut === null ? b : b.slice(0, cut % (b.length + 1));
  });

/** Random bytes, random-ish frames with a plausible start, and mutated valid frames. */
export const arbAnyFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc
    .tuple(fc.constantFrom(0x0800, 0x0806, 0x8100, 0x86dd), fc.uint8Array({ maxLength: 100 }), byte)
    .map(([type, rest, first]) => {
      const b = new Uint8Array(14 + rest.length);
      b[12] = type >> 8;
      b[13] = type & 0xff;
      b.set(rest, 14);
      if (rest.length) b[14] = (first & 0x0f) | 0x40; // often IPv4 version 4
      return b;
    }),
  arbMutatedFrame,
);
