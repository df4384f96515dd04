/** The NDP suppression rules (nft table ip6 dsrlb_nondp) of a real holding a VIP6: rendering and reading back. */
import { describe, expect, it } from 'vitest';
import { DsrlbError } from '../../src/errors/index.ts';
import { checkVip6, nftNdpCommands, nftNdpRules, renderNftNdpRuleset, targetMatch } from '../../src/testbed/index.ts';

/** What `nft list ruleset` printed (nft 1.0.6) after `nft -f` of the rendered file, in a namespace. */
const LISTED = `table ip6 dsrlb_nondp {
	chain in {
		type filter hook input priority filter; policy accept;
		icmpv6 type nd-neighbor-solicit @th,64,128 0x20010db8000000000000000000000010 drop
	}

	chain out {
		type filter hook output priority filter; policy accept;
		oifname "eth0" icmpv6 type nd-neighbor-advert @th,64,128 0x20010db8000000000000000000000010 drop
	}
}
`;

describe('NDP suppression rules', () => {
  it('match the target field as a 128-bit raw payload in hex, whatever text form the VIP6 was given in', () => {
    expect(targetMatch('2001:DB8:0:0::10')).toBe('@th,64,128 0x20010db8000000000000000000000010');
    const file = renderNftNdpRuleset({ vip6: '2001:db8:0::10', iface: 'eth0' });
    expect(file.split('\n').filter((l) => /drop$/.test(l)).map((l) => l.trim())).toEqual([
      'icmpv6 type nd-neighbor-solicit @th,64,128 0x20010db8000000000000000000000010 drop',
      'oifname "eth0" icmpv6 type nd-neighbor-advert @th,64,128 0x20010db8000000000000000000000010 drop',
    ]);
    expect(file).toMatch(/^table ip6 dsrlb_nondp \{\n/);
    expect(file).toContain('# Neighbor Solicitations asking for 2001:db8::10');
  });

  it('as nft commands: table, input chain and rule, output chain and rule', () => {
    expect(nftNdpCommands({ vip6: '2001:db8::10', iface: 'eth1' })).toEqual([
      ['add', 'table', 'ip6', 'dsrlb_nondp'],
      ['add', 'chain', 'ip6', 'dsrlb_nondp', 'in', '{ type filter hook input priority 0; }'],
      ['add', 'rule', 'ip6', 'dsrlb_nondp', 'in', 'icmpv6', 'type', 'nd-neighbor-solicit', '@th,64,128', '0x20010db8000000000000000000000010', 'drop'],
      ['add', 'chain', 'ip6', 'dsrlb_nondp', 'out', '{ type filter hook output priority 0; }'],
      ['add', 'rule', 'ip6', 'dsrlb_nondp', 'out', 'oifname', '"eth1"', 'icmpv6', 'type', 'nd-neighbor-advert', '@th,64,128', '0x20010db8000000000000000000000010', 'drop'],
    ]);
  });

  it('are found in a listing for their VIP6 only; one half alone is reported as such', () => {
    expect(nftNdpRules(LISTED, '2001:db8::10')).toEqual({ inDrop: true, outDrop: true });
    expect(nftNdpRules(LISTED, '2001:db8::11')).toEqual({ inDrop: false, outDrop: false });
    expect(nftNdpRules(LISTED.replace(/.*nd-neighbor-advert.*\n/, ''), '2001:db8::10')).toEqual({ inDrop: true, outDrop: false });
    expect(nftNdpRules(LISTED.replaceAll(' drop', ' accept'), '2001:db8::10')).toEqual({ inDrop: false, outDrop: false });
    expect(nftNdpRules(null, '2001:db8::10')).toEqual({ inDrop: false, outDrop: false });
    // nft prints the value as a number: an address whose first byte is 0x01 loses its leading zero.
    const listed100 = 'icmpv6 type nd-neighbor-solicit @th,64,128 0x1000000000000000000000000000001 drop';
    expect(nftNdpRules(listed100, '100::1')).toEqual({ inDrop: true, outDrop: false });
  });

  it('take only a unicast VIP6, with a message naming what was given', () => {
    expect(checkVip6('2001:DB8::0010')).toBe('2001:db8::10');
    expect(checkVip6('fd00::10')).toBe('fd00::10');
    const cases: Array<[string, RegExp]> = [
      ['2001:db8::10/128', /not an IPv6 address .*no prefix length/],
      ['192.168.0.10', /not an IPv6 address/],
      ['::', /unspecified/],
      ['::1', /loopback/],
      ['ff02::1', /multicast/],
      ['fe80::1', /link-local/],
      ['::ffff:192.168.0.10', /IPv4-mapped .*--vip/],
    ];
    for (const [v, re] of cases) expect(() => checkVip6(v), v).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(re) }));
    expect(() => checkVip6('x')).toThrow(DsrlbError);
  });
});
