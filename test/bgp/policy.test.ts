import { describe, expect, it } from 'vitest';
import { allVips, planAnnouncements, planIsEmpty, servableVips, type ServiceView } from '../../src/bgp/index.ts';

const svc = (vip: string | null, ...weights: number[]): ServiceView => ({ vip, reals: weights.map((weight) => ({ weight })) });

describe('announce/withdraw policy', () => {
  it('announces a VIP while the packet path is up and one real of one of its services has weight > 0', () => {
    expect(servableVips({ packetPathUp: true, stopping: false, services: [svc('192.168.0.10', 0, 1), svc('192.168.0.11', 0, 0)] })).toEqual(['192.168.0.10']);
  });

  it('a VIP with two services stays announced while either has a real', () => {
    const services = [svc('192.168.0.10', 0), svc('192.168.0.10', 2)];
    expect(servableVips({ packetPathUp: true, stopping: false, services })).toEqual(['192.168.0.10']);
  });

  it('withdraws everything when the packet path is down or the director is stopping', () => {
    const services = [svc('192.168.0.10', 1)];
    expect(servableVips({ packetPathUp: false, stopping: false, services })).toEqual([]);
    expect(servableVips({ packetPathUp: true, stopping: true, services })).toEqual([]);
  });

  it('a service without reals, or with every real quiesced, is not servable; fwmark services have no VIP', () => {
    expect(servableVips({ packetPathUp: true, stopping: false, services: [svc('192.168.0.10'), svc('192.168.0.12', 0, 0), svc(null, 5)] })).toEqual([]);
    expect(allVips([svc('192.168.0.12'), svc(null, 1), svc('192.168.0.10', 1), svc('192.168.0.12', 1)])).toEqual(['192.168.0.10', '192.168.0.12']);
  });

  it('a real whose MAC is not resolved yet does not make the VIP servable (no black hole at start)', () => {
    const services: ServiceView[] = [{ vip: '192.168.0.10', reals: [{ weight: 1, resolved: false }] }];
    expect(servableVips({ packetPathUp: true, stopping: false, services })).toEqual([]);
    expect(servableVips({ packetPathUp: true, stopping: false, services: [{ vip: '192.168.0.10', reals: [{ weight: 1, resolved: false }, { weight: 1, resolved: true }] }] })).toEqual(['192.168.0.10']);
  });

  it('sorts VIPs numerically (.9 before .10)', () => {
    expect(servableVips({ packetPathUp: true, stopping: false, services: [svc('10.0.0.10', 1), svc('10.0.0.9', 1)] })).toEqual(['10.0.0.9', '10.0.0.10']);
  });

  it('plans only the differences', () => {
    const p = planAnnouncements(['10.0.0.1', '10.0.0.2'], ['10.0.0.2', '10.0.0.3']);
    expect(p).toEqual({ announce: ['10.0.0.3'], withdraw: ['10.0.0.1'] });
    expect(planIsEmpty(p)).toBe(false);
    expect(planIsEmpty(planAnnouncements(['10.0.0.1'], ['10.0.0.1']))).toBe(true);
  });

  it('a health change that quiesces the last real withdraws, its return announces again', () => {
    const up = servableVips({ packetPathUp: true, stopping: false, services: [svc('192.168.0.10', 1, 0)] });
    const down = servableVips({ packetPathUp: true, stopping: false, services: [svc('192.168.0.10', 0, 0)] });
    expect(planAnnouncements(up, down)).toEqual({ announce: [], withdraw: ['192.168.0.10'] });
    expect(planAnnouncements(down, up)).toEqual({ announce: ['192.168.0.10'], withdraw: [] });
  });
});
