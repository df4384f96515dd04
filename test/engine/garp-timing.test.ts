/**
 * The packet path's gratuitous ARP on becoming active (a VRRP takeover: garp_master_repeat pairs,
 * 10 ms apart): with a clock that has one-shot timers, every frame of the plan goes out at its own
 * time, not at the 100 ms housekeeping tick (which sent the first request alone and then one late
 * pair, skipping the rest). Going inactive stops the plan.
 */
import { describe, expect, it } from 'vitest';
import { DirectorPacketPath, type FromPacket, type PacketPathInit, type ServiceWithReals } from '../../src/engine/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { decodeFrame, FrameInfo } from '../../src/packet/index.ts';
import type { FrameIO, FrameIOStats } from '../../src/ports/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const ip = (s: string) => parseIPv4(s)!;
const VIP = ip('10.0.0.100');
const SERVICES: ServiceWithReals[] = [{ spec: { proto: 'tcp', vip: VIP, port: 80, scheduler: 'rr' }, reals: [{ addr: ip('10.0.0.21'), port: 80, weight: 1 }] }];


class FakeIO implements FrameIO {
  readonly iface = 'eth0';
  readonly mac = parseMac('02:00:00:00:00:01')!;
  readonly sent: { at: number; kind: string }[] = [];
  closed = false;
  constructor(private readonly clock: FakeClock) {}
  onFrame(): void {}
  send(frame: Uint8Array, len?: number): boolean {
    const info = new FrameInfo();
    decodeFrame(frame, len ?? frame.length, info);
    if (info.etherType === 0x0806 && info.arpSpa === info.arpTpa && info.arpSpa >>> 0 === VIP >>> 0) {
      this.sent.push({ at: this.clock.now(), kind: info.arpOp === 1 ? 'request' : 'reply' });
    }
    return true;
  }
  close(): void { this.closed = true; }
  stats(): FrameIOStats { return { received: 0, sent: this.sent.length, sendErrors: 0, truncated: 0, unhandled: 0 }; }
}

function path(clock: FakeClock, io: FakeIO) {
  const init: PacketPathInit = { services: SERVICES, localAddrs: [], arpSenderIp: ip('10.0.0.2'), garp: { count: 5, intervalMs: 10 }, active: false, connCapacity: 1024, tickMs: 100 };
  const posted: FromPacket[] = [];
  return { pp: new DirectorPacketPath(init, io, null, (m) => posted.push(m), clock), posted };
}

describe('gratuitous ARP on becoming active', () => {
  it('5 pairs 10 ms apart go out at their times (request, reply 5 ms later), none skipped', () => {
    const clock = new FakeClock();
    const io = new FakeIO(clock);
    const { pp, posted } = path(clock, io);
    clock.advance(1003); // off the 100 ms housekeeping grid
    expect(io.sent).toEqual([]);
    pp.onMessage({ op: 'setActive', id: 1, active: true });
    expect(posted.at(-1)).toMatchObject({ ev: 'reply', id: 1, ok: true });
    expect(io.sent).toEqual([{ at: 1003, kind: 'request' }]);
    clock.advance(60);
    expect(io.sent).toEqual(Array.from({ length: 10 }, (_, s) => ({ at: 1003 + (s >> 1) * 10 + (s & 1 ? 5 : 0), kind: s & 1 ? 'reply' : 'request' })));
    clock.advance(1000);
    expect(io.sent).toHaveLength(10);
    pp.close();
  });

  it('going inactive in the middle of the plan stops it', () => {
    const clock = new FakeClock();
    const io = new FakeIO(clock);
    const { pp } = path(clock, io);
    clock.advance(1003);
    pp.onMessage({ op: 'setActive', id: 1, active: true });
    clock.advance(12); // request 1003, reply 1008, request 1013
    const before = io.sent.length;
    pp.onMessage({ op: 'setActive', id: 2, active: false });
    clock.advance(1000);
    expect(before).toBe(3);
    expect(io.sent).toHaveLength(3);
    pp.close();
  });
});
