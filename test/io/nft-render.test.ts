import { describe, expect, it } from 'vitest';
import { ingressTableName, renderIngressDrop, renderIngressRemove } from '../../src/io/index.ts';

describe('nft ingress drop (rendering)', () => {
  it('derives one table name per interface, injective', () => {
    expect(ingressTableName('eth0')).toBe('dsrlb_eth0');
    expect(ingressTableName('eth0.100')).toBe('dsrlb_eth0_x2e100');
    expect(ingressTableName('eth0_100')).toBe('dsrlb_eth0_x5f100');
    expect(ingressTableName('br-lan')).toBe('dsrlb_br_x2dlan');
    expect(() => ingressTableName('eth0"; flush ruleset')).toThrow(/invalid interface name/);
    expect(() => ingressTableName('averyveryverylongname')).toThrow(/invalid interface name/);
  });

  it('replaces the table atomically: create-if-absent, delete, define', () => {
    const s = renderIngressDrop('eth0', [
      { proto: 'tcp', vip: '10.0.0.100', port: 443 },
      { proto: 'tcp', vip: '10.0.0.100', port: 80 },
      { proto: 'udp', vip: '10.0.0.100', port: 53 },
      { proto: 'tcp', vip: '10.0.0.101', port: 80 },
    ]);
    expect(s).toBe(
      [
        'add table netdev dsrlb_eth0',
        'delete table netdev dsrlb_eth0',
        'table netdev dsrlb_eth0 {',
        '  chain ingress {',
        '    type filter hook ingress device "eth0" priority 0; policy accept;',
        '    ip daddr 10.0.0.100 tcp dport { 80, 443 } counter drop',
        '    ip daddr 10.0.0.100 udp dport 53 counter drop',
        '    ip daddr 10.0.0.101 tcp dport 80 counter drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('drops TCP/UDP to each VIP6 with ip6 daddr rules after the IPv4 ones (a fold in vip is not taken for an IPv4 VIP)', () => {
    const s = renderIngressDrop('eth0', [
      { proto: 'tcp', vip: 0x20010db8, vip6: '2001:DB8::10', port: 443 },
      { proto: 'tcp', vip: 0x20010db8, vip6: '2001:db8::10', port: 80 },
      { proto: 'udp', vip: 0x20010db8, vip6: '2001:db8::10', port: 53 },
      { proto: 'tcp', vip: '10.0.0.100', port: 80 },
    ]);
    expect(s.split('\n').filter((l) => l.includes('drop'))).toEqual([
      '    ip daddr 10.0.0.100 tcp dport 80 counter drop',
      '    ip6 daddr 2001:db8::10 tcp dport { 80, 443 } counter drop',
      '    ip6 daddr 2001:db8::10 udp dport 53 counter drop',
    ]);
    expect(renderIngressDrop('eth0', [{ proto: 'tcp', vip: 1, vip6: '2001:db8::10', port: 80 }])).toContain('ip6 daddr 2001:db8::10 tcp dport 80 counter drop');
    expect(() => renderIngressDrop('eth0', [{ proto: 'tcp', vip: 1, vip6: '2001:db8::zz', port: 80 }])).toThrow(/not an IPv6 address/);
  });

  it('removal is quiet when the table is absent (create-if-absent first)', () => {
    expect(renderIngressRemove('eth1')).toBe('add table netdev dsrlb_eth1\ndelete table netdev dsrlb_eth1\n');
  });

  it('refuses an empty service list', () => {
    expect(() => renderIngressDrop('eth0', [])).toThrow(/no virtual service/);
  });
});
