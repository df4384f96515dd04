import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARP_DROP_REASONS, ArpResolver, GarpAnnouncer, respondArp } from '../../src/arp/index.ts';
import { decodeFrame, FrameInfo } from '../../src/packet/index.ts';
import { DIR_MAC, R1_IP, R2_IP, VIP } from './helpers.ts';

const NEIGH_STATES = new Set(['incomplete', 'reachable', 'stale', 'failed']);

/** Mostly-ARP frames: a random Ethernet/VLAN prefix, then ARP fields drawn from small pools so
 *  that the interesting branches (our MAC, the VIP, watched IPs) are hit, plus random tails. */
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const macPool = fc.constantFrom(
  BCAST, BCAST, [...DIR_MAC], [...DIR_MAC], [2, 0, 0, 0, 0, 0x0a], [2, 0, 0, 0, 0, 0x21], [2, 0, 0, 0, 0, 0x22],
  [1, 0, 0x5e, 0, 0, 1], [0, 0, 0, 0, 0, 0],
);
const ipPool = fc.constantFrom(0, VIP, VIP, R1_IP, R1_IP, R2_IP, 0x7f000001, 0xffffffff, 0x0a00000a);
const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const arpish = fc
  .record({
    dst: macPool, src: macPool, vlan: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    op: fc.constantFrom(1, 1, 1, 2, 2, 3, 0),
    sha: macPool, spa: ipPool, tha: macPool, tpa: ipPool,
    // 0..3: one header field wrong, 4: truncated, otherwise a well-formed frame
    flaw: fc.noBias(fc.integer({ min: 0, max: 29 })), cut: fc.integer({ min: 1, max: 40 }), tail: fc.uint8Array({ maxLength: 20 }),
  })
  .map((r) => {
    const b = [...r.dst, ...r.src];
    if (r.vlan !== undefined) b.push(0x81, 0x00, r.vlan >> 8, r.vlan & 255);
    b.push(0x08, 0x06, 0, r.flaw === 0 ? 6 : 1, r.flaw === 1 ? 0x86 : 0x08, r.flaw === 1 ? 0xdd : 0);
    b.push(r.flaw === 2 ? 8 : 6, r.flaw === 3 ? 16 : 4, 0, r.op);
    b.push(...r.sha, ...u32(r.spa), ...r.tha, ...u32(r.tpa), ...r.tail);
    return Uint8Array.from(r.flaw === 4 ? b.slice(0, b.length - r.cut) : b);
  });
const anyFrame = fc.oneof({ arbitrary: arpish, weight: 4 }, { arbitrary: fc.uint8Array({ maxLength: 80 }), weight: 1 });
const anyLen = (f: Uint8Array): fc.Arbitrary<number> => fc.oneof(fc.constant(f.length), fc.integer({ min: -4, max: 90 }), fc.constant(Number.NaN));

describe('arp fuzz (fast-check)', () => {
  it('respondArp never throws, returns a 60-byte reply or a known reason, and a reply answers the question', () => {
    const info = new FrameInfo();
    const ri = new FrameInfo();
    const out = new Uint8Array(64);
    const self = { mac: DIR_MAC, vips: new Set([VIP, R1_IP]), active: true };
    fc.assert(
      fc.property(anyFrame.chain((f) => fc.tuple(fc.constant(f), anyLen(f), fc.boolean())), ([f, len, active]) => {
        decodeFrame(f, len, info);
        self.active = active;
        const r = respondArp(f, len, info, self, out);
        if (typeof r === 'number') {
          expect(r).toBe(60);
          expect(decodeFrame(out, r, ri)).toBe(true);
          expect(ri.arpOp).toBe(2);
          expect(ri.arpSpa).toBe(info.arpTpa);
          expect(ri.arpTpa).toBe(info.arpSpa);
          expect(self.vips.has(ri.arpSpa)).toBe(true);
          expect(ri.vlanId).toBe(info.vlanId);
          for (let i = 0; i < 6; i++) {
            expect(out[i]).toBe(f[info.arpShaOff + i]); // to the asker
            expect(out[ri.arpThaOff + i]).toBe(f[info.arpShaOff + i]);
            expect(out[ri.arpShaOff + i]).toBe(DIR_MAC[i]);
          }
        } else {
          expect(ARP_DROP_REASONS).toContain(r);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every well-formed request for a VIP, from anyone else, to broadcast or to us, is answered while active', () => {
    const info = new FrameInfo();
    const out = new Uint8Array(60);
    const unicastMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((m) => {
      m[0] = m[0]! & 0xfe; // individual address
      if (m.every((x, i) => x === DIR_MAC[i])) m[5] = m[5]! ^ 1;
      if (m.every((x) => x === 0)) m[5] = 1;
      return m;
    });
    const hostIp = fc.oneof(fc.constant(0), fc.integer({ min: 0x01000000, max: 0x7effffff }), fc.integer({ min: 0x80000000, max: 0xdfffffff }));
    fc.assert(
      fc.property(
        fc.boolean(), unicastMac, unicastMac, hostIp, fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }), fc.uint8Array({ maxLength: 30 }),
        (toUs, src, sha, spa, tha, tci, tail) => {
          fc.pre(spa !== VIP);
          const b = [...(toUs ? DIR_MAC : BCAST), ...src];
          if (tci !== undefined) b.push(0x81, 0, tci >> 8, tci & 255);
          b.push(8, 6, 0, 1, 8, 0, 6, 4, 0, 1, ...sha, ...u32(spa), ...tha, ...u32(VIP), ...tail);
          const f = Uint8Array.from(b);
          decodeFrame(f, f.length, info);
          const r = respondArp(f, f.length, info, { mac: DIR_MAC, vips: new Set([VIP]), active: true }, out);
          expect(r).toBe(60);
          const expected = [
            ...sha, ...DIR_MAC, ...(tci === undefined ? [] : [0x81, 0, tci >> 8, tci & 255]),
            8, 6, 0, 1, 8, 0, 6, 4, 0, 2, ...DIR_MAC, ...u32(VIP), ...sha, ...u32(spa),
          ];
          while (expected.length < 60) expected.push(0);
          expect([...out]).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('respondArp never throws when the FrameInfo describes another frame', () => {
    const info = new FrameInfo();
    fc.assert(
      fc.property(anyFrame, anyFrame, fc.integer({ min: -1, max: 90 }), fc.integer({ min: 0, max: 70 }), (a, b, len, outLen) => {
        decodeFrame(a, a.length, info);
        const r = respondArp(b, len, info, { mac: DIR_MAC, vips: () => true, active: true }, new Uint8Array(outLen));
        expect(typeof r === 'number' ? r === 60 : ARP_DROP_REASONS.includes(r)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('the resolver never throws on random frames and random times, and keeps its invariants', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), anyFrame, fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }),
        fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }),
        (steps, vlan) => {
          const r = new ArpResolver({ mac: DIR_MAC, vlan });
          r.watch(R1_IP);
          r.watch(R2_IP);
          const info = new FrameInfo();
          let now = 0;
          for (const [isTick, f, dt] of steps) {
            now += dt;
            if (isTick) {
              for (const q of r.tick(now)) {
                expect(q.length).toBe(60);
                expect(decodeFrame(q, q.length, info)).toBe(true);
                expect(info.arpOp).toBe(1);
              }
            } else {
              decodeFrame(f, f.length, info);
              const ev = r.input(info, f, now);
              if (ev !== null) expect([R1_IP, R2_IP]).toContain(ev.ip);
            }
            for (const ev of r.drainEvents()) expect(ev.kind).toBe('failed');
            for (const ipx of [R1_IP, R2_IP]) {
              const m = r.lookup(ipx);
              const s = r.state(ipx)!;
              expect(NEIGH_STATES.has(s)).toBe(true);
              expect(m === null ? s === 'incomplete' || s === 'failed' : m.length === 6 && (s === 'reachable' || s === 'stale')).toBe(true);
            }
            expect(Number.isNaN(r.nextAt())).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any unicast reply to us from a watched IP resolves it to the sender MAC', () => {
    const info = new FrameInfo();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 1e9 }), (sha, now) => {
        sha[0] = sha[0]! & 0xfe;
        fc.pre(!sha.every((x) => x === 0) && !sha.every((x, i) => x === DIR_MAC[i]));
        const r = new ArpResolver({ mac: DIR_MAC });
        r.watch(R1_IP);
        r.tick(now);
        const f = Uint8Array.from([...DIR_MAC, ...sha, 8, 6, 0, 1, 8, 0, 6, 4, 0, 2, ...sha, ...u32(R1_IP), ...DIR_MAC, 0, 0, 0, 0]);
        decodeFrame(f, f.length, info);
        expect(r.input(info, f, now)).toEqual({ kind: 'resolved', ip: R1_IP, mac: sha });
        expect(r.state(R1_IP)).toBe('reachable');
        expect([...r.lookup(R1_IP)!]).toEqual([...sha]);
      }),
      { numRuns: 300 },
    );
  });

  it('the announcer hands out every frame exactly once or counts it skipped, whatever the call times', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 700 }), fc.constantFrom('pair', 'request', 'reply'),
        fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 40 }),
        (count, intervalMs, mode, gaps) => {
          const a = new GarpAnnouncer({ mac: DIR_MAC, ips: [VIP, R1_IP], count, intervalMs, mode: mode as 'pair' });
          a.start(0);
          let now = 0;
          for (const g of gaps) {
            now += g;
            a.due(now);
          }
          a.due(Number.MAX_SAFE_INTEGER);
          expect(a.done).toBe(true);
          expect(a.sent + a.skipped).toBe((mode === 'pair' ? 2 : 1) * count * 2);
        },
      ),
      { numRuns: 500 },
    );
  });
});
