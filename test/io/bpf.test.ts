import { describe, expect, it } from 'vitest';
import { buildCaptureFilter, groupServices } from '../../src/io/index.ts';

describe('buildCaptureFilter', () => {
  it('one TCP service: inbound, destination and port, ARP for the VIP', () => {
    expect(buildCaptureFilter([{ proto: 'tcp', vip: '10.0.0.100', port: 80 }])).toBe(
      'inbound and ((ip dst host 10.0.0.100 and tcp dst port 80) or (arp host 10.0.0.100))',
    );
  });

  it('groups ports per VIP, sorts VIPs and ports, tcp before udp, removes duplicates', () => {
    const f = buildCaptureFilter([
      { proto: 'udp', vip: '10.0.0.101', port: 53 },
      { proto: 'tcp', vip: '10.0.0.100', port: 443 },
      { proto: 'udp', vip: '10.0.0.100', port: 53 },
      { proto: 'tcp', vip: '10.0.0.100', port: 80 },
      { proto: 'tcp', vip: '10.0.0.100', port: 80 },
    ]);
    expect(f).toBe(
      'inbound and (' +
        '(ip dst host 10.0.0.100 and (tcp dst port 80 or tcp dst port 443 or udp dst port 53)) or ' +
        '(ip dst host 10.0.0.101 and udp dst port 53) or ' +
        '(arp host 10.0.0.100) or (arp host 10.0.0.101))',
    );
  });

  it('takes u32 VIPs (host order, as model/addr) and can leave out ARP and inbound', () => {
    const vip = (10 << 24) | (1 << 16) | (2 << 8) | 3;
    expect(buildCaptureFilter([{ proto: 'udp', vip: vip >>> 0, port: 9 }], { arp: false, inbound: false })).toBe(
      '(ip dst host 10.1.2.3 and udp dst port 9)',
    );
  });

  it('rejects bad input with stable codes', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    expect(err(() => buildCaptureFilter([]))).toBe('E_FILTER_EMPTY');
    expect(err(() => buildCaptureFilter([{ proto: 'tcp', vip: '10.0.0.300', port: 80 }]))).toBe('E_FILTER_SERVICE');
    expect(err(() => buildCaptureFilter([{ proto: 'tcp', vip: '10.0.0.1; rm', port: 80 }]))).toBe('E_FILTER_SERVICE');
    expect(err(() => buildCaptureFilter([{ proto: 'tcp', vip: '10.0.0.1', port: 0 }]))).toBe('E_FILTER_SERVICE');
    expect(err(() => buildCaptureFilter([{ proto: 'tcp', vip: '10.0.0.1', port: 65536 }]))).toBe('E_FILTER_SERVICE');
    expect(err(() => buildCaptureFilter([{ proto: 'sctp' as 'tcp', vip: '10.0.0.1', port: 80 }]))).toBe('E_FILTER_SERVICE');
    expect(err(() => buildCaptureFilter([{ proto: 'tcp', vip: -1, port: 80 }]))).toBe('E_FILTER_SERVICE');
  });

  it('groupServices is deterministic whatever the input order', () => {
    const a = [
      { proto: 'tcp' as const, vip: '10.0.0.2', port: 80 },
      { proto: 'udp' as const, vip: '10.0.0.1', port: 53 },
      { proto: 'tcp' as const, vip: '10.0.0.1', port: 22 },
    ];
    const s = (m: ReturnType<typeof groupServices>) => JSON.stringify([...m].map(([k, v]) => [k, [...v]]));
    expect(s(groupServices(a))).toBe(s(groupServices([...a].reverse())));
  });
});
