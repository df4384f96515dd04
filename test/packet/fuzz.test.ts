/**
 * Property tests: any byte string gives a decoded frame or a typed error, decodeFrame and parseFrame
 * agree with each other and with the oracle, and nothing outside the visible bytes matters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  FrameInfo,
  PacketError,
  decodeFrame,
  describeDecodeError,
  icmpChecksumOk,
  ipv4HeaderChecksumOk,
  parseFrame,
  tcpChecksumOk,
  udpChecksumOk,
} from '../../src/packet/index.ts';
import { arbAnyFrame, arbValidFrame } from './arbitraries.ts';
import { normalize } from './helpers.ts';
import { oracle } from './oracle.ts';

const RUNS = 3000;

function decodeSnapshot(buf: Uint8Array, len: number): { ok: boolean; info: Record<string, unknown>; sums: boolean[] } {
  const info = new FrameInfo();
  const ok = decodeFrame(buf, len, info);
  const sums = ok
    ? [ipv4HeaderChecksumOk(buf, info), tcpChecksumOk(buf, info), udpChecksumOk(buf, info), icmpChecksumOk(buf, info)]
    : [];
  return { ok, info: { ...info }, sums };
}

describe('decoding never throws and agrees with the oracle', () => {
  it('decodeFrame, parseFrame and the oracle agree on any input', () => {
    fc.assert(
      fc.property(arbAnyFrame, (bytes) => {
        const info = new FrameInfo();
        const ok = decodeFrame(bytes, bytes.length, info);
        const r = parseFrame(bytes);
        const o = oracle(bytes);
        expect(r.ok).toBe(ok);
        expect(o.ok).toBe(ok);
        if (!r.ok) {
          expect(r.error).toBeInstanceOf(PacketError);
          expect(r.error.code).toBe('E_PACKET');
          expect([r.error.layer, r.error.offset, r.error.reason]).toEqual([info.errLayer, info.errOffset, describeDecodeError(info)]);
          expect(o).toEqual({ ok: false, layer: r.error.layer, offset: r.error.offset });
          expect(r.error.offset).toBeGreaterThanOrEqual(0);
          expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
          return;
        }
        if (!o.ok) return;
        const f = r.frame;
        expect([info.etherType, info.vlanId, info.l3Off]).toEqual([o.etherType, o.vlanId, o.l3Off]);
        expect([f.eth.etherType, f.eth.vlan?.id ?? -1, f.l3Offset]).toEqual([o.etherType, o.vlanId, o.l3Off]);
        if (o.etherType === ETHERTYPE_IPV4) {
          expect([info.ipProto, info.ttl, info.ipSrc, info.ipDst, info.l4Off]).toEqual([o.ipProto, o.ttl, o.ipSrc, o.ipDst, o.l4Off]);
          const ip = f.ipv4!;
          expect([ip.protocol, ip.ttl, ip.srcU32, ip.dstU32, f.l4Offset]).toEqual([o.ipProto, o.ttl, o.ipSrc, o.ipDst, o.l4Off]);
          expect([ip.fragOffset, ip.flags.df, ip.flags.mf]).toEqual([info.fragOffset, info.dontFragment, info.moreFragments]);
          expect(f.l3Offset + ip.headerLength + ip.payload.length + f.trailer.length).toBe(bytes.length);
          const l4 = f.tcp ?? f.udp;
          if (o.srcPort !== undefined) {
            expect([info.srcPort, info.dstPort]).toEqual([o.srcPort, o.dstPort]);
            expect([l4!.srcPort, l4!.dstPort]).toEqual([o.srcPort, o.dstPort]);
          } else {
            expect(l4).toBeNull();
          }
          if (f.tcp) expect(f.tcp.flagBits).toBe(info.tcpFlags);
          if (f.icmp) expect([f.icmp.type, f.icmp.code]).toEqual([info.icmpType, info.icmpCode]);
        } else {
          expect(f.ipv4).toBeNull();
        }
        if (o.etherType === ETHERTYPE_ARP) expect([info.arpOp, f.arp!.op]).toEqual([o.arpOp, o.arpOp]);
        else expect(f.arp).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });

  it('results depend only on the visible bytes (subarray of a sentinel-filled buffer, or len < buf.length)', () => {
    fc.assert(
      fc.property(arbAnyFrame, fc.nat(16), fc.constantFrom(0x00, 0xff, 0x45, 0x08), fc.uint8Array({ maxLength: 40 }), (bytes, pre, fill, tail) => {
        const exact = decodeSnapshot(bytes.slice(), bytes.length);
        const parsed = normalize(parseFrame(bytes.slice()));
        for (const after of [new Uint8Array(64).fill(fill), tail]) {
          const big = new Uint8Array(pre + bytes.length + after.length).fill(fill);
          big.set(bytes, pre);
          big.set(after, pre + bytes.length);
          const sub = big.subarray(pre, pre + bytes.length);
          expect(decodeSnapshot(sub, sub.length)).toEqual(exact);
          expect(decodeSnapshot(sub, sub.length + 1000)).toEqual(exact);
          expect(normalize(parseFrame(sub))).toEqual(parsed);
          // A buffer longer than len: only len bytes count.
          const head = big.subarray(pre);
          expect(decodeSnapshot(head, bytes.length)).toEqual(exact);
          // Nothing was written.
          expect(sub).toEqual(bytes);
        }
      }),
      { numRuns: RUNS / 2 },
    );
  });
});

describe('checksums of valid frames', () => {
  it('every valid frame has correct checksums, and one changed IPv4 header byte is caught', () => {
    fc.assert(
      fc.property(arbValidFrame, fc.nat(), fc.integer({ min: 1, max: 255 }), (frame, pos, delta) => {
        const r = parseFrame(frame);
        if (!r.ok) throw r.error;
        const ip = r.frame.ipv4;
        if (!ip) return;
        expect(ip.checksumOk).toBe(true);
        for (const l4 of [r.frame.tcp, r.frame.udp, r.frame.icmp]) if (l4 && l4.checksumOk !== null) expect(l4.checksumOk).toBe(true);
        const b = frame.slice();
        const at = r.frame.l3Offset + (pos % ip.headerLength);
        b[at] = (b[at]! + delta) & 0xff;
        const m = parseFrame(b);
        if (m.ok && m.frame.ipv4) expect(m.frame.ipv4.checksumOk).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
