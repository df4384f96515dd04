/**
 * The table operations of the packet path for IPv6 services, as the control side sends them (a
 * reload, a health check, ipvsadm): the service named by its VIP6, the real by its address, and the
 * u32 fields holding only the folds, so two reals whose addresses fold alike stay apart.
 */
import { describe, expect, it } from 'vitest';
import { DirectorPacketPath, type FromPacket, type PacketPathInit } from '../../src/engine/index.ts';
import { foldIPv6, parseIPv4, parseIPv6, parseMac } from '../../src/model/index.ts';
import type { Clock, FrameIO, FrameIOStats } from '../../src/ports/index.ts';

const clock: Clock = { now: () => 0, every: () => () => {} };
const io: FrameIO = {
  iface: 'eth0', mac: parseMac('02:00:00:00:00:01')!, closed: false, onFrame() {}, send: () => true, close() {},
  stats: (): FrameIOStats => ({ received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 }),
};
const a6 = (s: string) => parseIPv6(s)!;
const VIP6 = '2001:db8::10';
const svc = { proto: 'tcp' as const, vip: foldIPv6(a6(VIP6)), port: 80, vip6: VIP6 };
// Two reals whose folds are equal: the words 2001:db8 and 0:21 against 0:21 and 2001:db8.
const R1 = '2001:db8::21';
const R2 = '::21:2001:db8';

function path() {
  const init: PacketPathInit = { services: [], localAddrs: [], arpSenderIp: parseIPv4('10.0.0.2')!, garp: false, active: true, connCapacity: 1024 };
  const posted: FromPacket[] = [];
  const pp = new DirectorPacketPath(init, io, null, (m) => posted.push(m), clock);
  let id = 0;
  const req = (op: Record<string, unknown>) => {
    pp.onMessage({ ...op, id: ++id });
    return posted.filter((m) => m.ev === 'reply').at(-1) as Extract<FromPacket, { ev: 'reply' }>;
  };
  return { pp, req };
}

describe('packet path operations on IPv6 services', () => {
  it('add service and reals, edit and delete a real by its address although the folds are equal', () => {
    expect(foldIPv6(a6(R1))).toBe(foldIPv6(a6(R2)));
    const { pp, req } = path();
    expect(req({ op: 'addService6', spec: { proto: 'tcp', vip6: VIP6, port: 80, scheduler: 'rr' } }).ok).toBe(true);
    expect(req({ op: 'addReal6', svc, real: { addr6: R1, port: 80, weight: 1 } }).ok).toBe(true);
    expect(req({ op: 'addReal6', svc, real: { addr6: R2, port: 80, weight: 1 } }).ok).toBe(true);
    expect(req({ op: 'editReal', svc, addr: foldIPv6(a6(R2)), addr6: R2, port: 80, changes: { weight: 5 } }).ok).toBe(true);
    const reals = () => pp.snapshot(false).services[0]!.reals.map((r) => `${(r as { addr6?: string }).addr6} w${r.weight}`);
    expect(reals()).toEqual(['::21:2001:db8 w5', '2001:db8::21 w1']);
    expect(req({ op: 'deleteReal', svc, addr: foldIPv6(a6(R1)), addr6: R1, port: 80 }).ok).toBe(true);
    expect(reals()).toEqual(['::21:2001:db8 w5']);
  });

  it('an unknown VIP6 or real is refused with the IPv6 names, the table unchanged', () => {
    const { pp, req } = path();
    req({ op: 'addService6', spec: { proto: 'tcp', vip6: VIP6, port: 80, scheduler: 'rr' } });
    expect(req({ op: 'editReal', svc, addr: foldIPv6(a6(R1)), addr6: R1, port: 80, changes: { weight: 2 } }))
      .toMatchObject({ ok: false, code: 'E_NO_REAL', message: 'no real [2001:db8::21]:80 in TCP [2001:db8::10]:80' });
    expect(req({ op: 'addReal6', svc: { ...svc, vip6: '2001:db8::11' }, real: { addr6: R1, port: 80, weight: 1 } }))
      .toMatchObject({ ok: false, code: 'E_NO_SERVICE', message: 'no such service TCP [2001:db8::11]:80' });
    expect(req({ op: 'deleteService', svc }).ok).toBe(true);
    expect(pp.snapshot(false).services).toEqual([]);
  });
});
