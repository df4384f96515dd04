/** dsrlb doctor's IPv6 checks (--vip6) on made-up host facts (pure: no root, no namespace). */
import { describe, expect, it } from 'vitest';
import { doctorOk, parseIpAddr6Json, proxyEntries, runChecks, runChecks6, type Host6Facts, type HostFacts } from '../../src/doctor/index.ts';

const VIP6 = '2001:db8::10';
const RULES = `table ip6 dsrlb_nondp {
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

function real6(over: Partial<Host6Facts> = {}): Host6Facts {
  return {
    iface: 'eth0',
    mac: '02:d6:00:00:00:02',
    addrs6: [
      { dev: 'lo', addr: '::1', prefix: 128, tentative: false, dadfailed: false },
      { dev: 'lo', addr: VIP6, prefix: 128, tentative: false, dadfailed: false },
      { dev: 'eth0', addr: '2001:db8::2', prefix: 64, tentative: false, dadfailed: false },
      { dev: 'eth0', addr: 'fe80::d6:ff:fe00:2', prefix: 64, tentative: false, dadfailed: false },
    ],
    sysctl6: { 'conf.all.forwarding': '0', 'conf.eth0.forwarding': '0', 'conf.all.proxy_ndp': '0', 'conf.eth0.proxy_ndp': '0', 'conf.eth0.disable_ipv6': '0' },
    proxyNdp: '',
    nft6: '',
    ndpProbe: { sent: 3, senderIp: '2001:db8::2', answers: [{ mac: '02:d6:00:00:00:04', count: 3 }] },
    ...over,
  };
}
const onEth0 = (flags: Partial<{ tentative: boolean; dadfailed: boolean }> = {}) =>
  real6({ addrs6: [...real6().addrs6.filter((a) => a.addr !== VIP6), { dev: 'eth0', addr: VIP6, prefix: 128, tentative: false, dadfailed: false, ...flags }] });
const find = (f: Host6Facts, check: string, role: 'real' | 'director' = 'real', fixPrefix = '') => runChecks6(f, { vip6: VIP6, role, fixPrefix }).find((x) => x.check === check);
const proxied = (over: Partial<Host6Facts> = {}) => real6({
  sysctl6: { ...real6().sysctl6, 'conf.all.forwarding': '1', 'conf.eth0.forwarding': '1', 'conf.all.proxy_ndp': '1' },
  proxyNdp: '2001:db8::10 dev eth0 proxy \n',
  ...over,
});

describe('doctor: IPv6 checks', () => {
  it('a real with the VIP6 on lo, a director answering: all ok', () => {
    const fs = runChecks6(real6(), { vip6: VIP6, role: 'real' });
    expect(fs.map((f) => [f.check, f.status])).toEqual([['vip6-on-lo', 'ok'], ['ndp-suppression', 'ok'], ['ndp-probe', 'ok']]);
    expect(fs[1]!.message).toMatch(/Linux answers only for addresses of the interface a solicitation arrives on/);
  });

  it('the VIP6 on the wire interface: both checks fail, with the commands that move it to lo (prefixed for the namespace) or the nft rules', () => {
    const f = onEth0();
    expect(find(f, 'vip6-on-lo')).toMatchObject({ status: 'fail', fix: ['ip -6 addr del 2001:db8::10/128 dev eth0', 'ip -6 addr add 2001:db8::10/128 dev lo'] });
    const s = find(f, 'ndp-suppression', 'real', 'ip netns exec t-r2 ')!;
    expect(s.status).toBe('fail');
    expect(s.message).toMatch(/answers Neighbor Solicitations for the VIP6 2001:db8::10 on eth0: it is on eth0, and no nft rule drops them/);
    expect(s.fix).toEqual([
      'ip netns exec t-r2 ip -6 addr del 2001:db8::10/128 dev eth0',
      'ip netns exec t-r2 ip -6 addr add 2001:db8::10/128 dev lo',
      '# or: ip netns exec t-r2 dsrlb arp-rules --vip6 2001:db8::10 --iface eth0 --apply',
    ]);
  });

  it('with the nft rules, either half, the VIP6 on eth0 is suppressed (vip6-on-lo still says where it belongs)', () => {
    for (const nft6 of [RULES, RULES.replace(/.*nd-neighbor-advert.*\n/, ''), RULES.replace(/.*nd-neighbor-solicit.*\n/, '')]) {
      const f = { ...onEth0(), nft6 };
      expect(find(f, 'ndp-suppression')).toMatchObject({ status: 'ok', message: expect.stringMatching(/nft rules stop it/) });
      expect(find(f, 'vip6-on-lo')!.status).toBe('fail');
    }
    // Rules for another VIP6 do not count.
    expect(find({ ...onEth0(), nft6: RULES.replaceAll('0010 drop', '0011 drop') }, 'ndp-suppression')!.status).toBe('fail');
  });

  it('a dadfailed VIP6 on eth0 is named as such; a tentative one does not answer yet', () => {
    expect(find(onEth0({ tentative: true, dadfailed: true }), 'vip6-on-lo')!.message).toMatch(/duplicate address detection failed/);
    expect(find(onEth0({ tentative: true }), 'ndp-suppression')!.status).toBe('ok');
  });

  it('a proxy-NDP entry answers only with forwarding and proxy_ndp on', () => {
    const p = find(proxied(), 'ndp-suppression')!;
    expect(p.status).toBe('fail');
    expect(p.message).toMatch(/a proxy-NDP entry for it on eth0 \(forwarding=1, proxy_ndp=1\)/);
    expect(p.fix).toEqual(['ip -6 neigh del proxy 2001:db8::10 dev eth0', '# or: dsrlb arp-rules --vip6 2001:db8::10 --iface eth0 --apply']);
    expect(find(proxied({ nft6: RULES }), 'ndp-suppression')!.status).toBe('ok');
    const idle = find(proxied({ sysctl6: { ...real6().sysctl6, 'conf.all.proxy_ndp': '1' } }), 'ndp-suppression')!;
    expect(idle).toMatchObject({ status: 'ok', message: expect.stringMatching(/inactive \(forwarding=0, proxy_ndp=1\)/) });
    expect(proxyEntries('2001:db8:0::10 dev eth1 proxy\n2001:db8::11 dev eth0 proxy\n', VIP6)).toEqual(['eth1']);
  });

  it('missing VIP6, IPv6 off on the interface', () => {
    expect(find(real6({ addrs6: [] }), 'vip6-on-lo')).toMatchObject({ status: 'fail', fix: ['ip -6 addr add 2001:db8::10/128 dev lo'] });
    const off = real6({ sysctl6: { ...real6().sysctl6, 'conf.eth0.disable_ipv6': '1' } });
    expect(find(off, 'vip6-on-lo')).toMatchObject({ status: 'fail', fix: ['sysctl -w net.ipv6.conf.eth0.disable_ipv6=0'] });
    expect(find(off, 'ndp-suppression')).toBeUndefined();
  });

  it('the NDP probe: none answering warns, two fail (real); another host answering fails a director', () => {
    expect(find(real6({ ndpProbe: { sent: 3, senderIp: '2001:db8::2', answers: [] } }), 'ndp-probe')).toMatchObject({ status: 'warn', message: expect.stringMatching(/nobody answered.*does not handle IPv6/) });
    const two = { sent: 3, senderIp: '2001:db8::2', answers: [{ mac: '02:d6:00:00:00:03', count: 3 }, { mac: '02:d6:00:00:00:04', count: 3 }] };
    expect(find(real6({ ndpProbe: two }), 'ndp-probe')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^2 MACs answer Neighbor Solicitations for 2001:db8::10: 02:d6:00:00:00:03 ×3, 02:d6:00:00:00:04 ×3/) });
    const dir = real6({ mac: '02:d6:00:00:00:04', addrs6: [], ndpProbe: two });
    expect(find(dir, 'ndp-probe', 'director')).toMatchObject({ status: 'fail', message: expect.stringMatching(/02:d6:00:00:00:04 \(this host\)/) });
    expect(find(dir, 'vip6-on-lo', 'director')!.status).toBe('info');
    expect(find(dir, 'ndp-suppression', 'director')).toBeUndefined();
    expect(find(real6({ ndpProbe: { sent: 0, senderIp: '::', answers: [], error: 'no rights' } }), 'ndp-probe')!.status).toBe('warn');
  });

  it('runChecks: --vip6 alone leaves the IPv4 checks out; both give both', () => {
    const host: HostFacts = {
      iface: 'eth0', ifaceState: { up: true, operstate: 'up', mtu: 1500, mac: '02:d6:00:00:00:02' }, addrs: [], sysctl: {},
      arptables: null, nftArp: null, ethtool: null, arpProbe: null, v6: real6(),
    };
    const only6 = runChecks(host, { vip6: VIP6, role: 'real' });
    expect(only6.map((f) => f.check)).toEqual(['interface', 'vip6-on-lo', 'ndp-suppression', 'ndp-probe']);
    expect(doctorOk(only6)).toBe(true);
    expect(only6[0]!.message).toBe('eth0 is up (02:d6:00:00:00:02, 2001:db8::2, MTU 1500)');
    const both = runChecks(host, { vip: '192.168.0.10', vip6: VIP6, role: 'real' });
    expect(both.map((f) => f.check)).toEqual(['interface', 'vip-on-lo', 'arp-suppression', 'rp-filter', 'ip-forward', 'vip6-on-lo', 'ndp-suppression', 'ndp-probe']);
  });

  it('reads IPv6 addresses and their DAD state from ip -j addr', () => {
    const json = JSON.stringify([{ ifname: 'eth0', addr_info: [
      { family: 'inet6', local: '2001:db8:0::10', prefixlen: 128, dadfailed: true, tentative: true },
      { family: 'inet', local: '192.168.0.9', prefixlen: 24 },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
    ] }]);
    expect(parseIpAddr6Json(json)).toEqual([
      { dev: 'eth0', addr: '2001:db8::10', prefix: 128, tentative: true, dadfailed: true },
      { dev: 'eth0', addr: 'fe80::1', prefix: 64, tentative: false, dadfailed: false },
    ]);
    expect(parseIpAddr6Json('not json')).toEqual([]);
  });
});

describe('dsrlb doctor --vip6: usage', () => {
  it('refuses a bad VIP6, or an IPv6 VIP given with --vip, with exit 2 and the reason', async () => {
    const { run } = await import('../../src/cli/commands/doctor.ts');
    const cases: Array<[string[], RegExp]> = [
      [['--vip6', 'fe80::1'], /--vip6: fe80::1 is a link-local address, not a VIP6/],
      [['--vip6', '2001:db8::10/128'], /--vip6: "2001:db8::10\/128" is not an IPv6 address/],
      [['--vip', '2001:db8::10'], /--vip must be an IPv4 address \(an IPv6 VIP goes with --vip6\)/],
      [['--vip', 'x', '--vip6', '2001:db8::10'], /--vip must be an IPv4 address/],
      [[], /--vip must be an IPv4 address/],
    ];
    for (const [argv, re] of cases) {
      let err = '';
      const code = await run(argv, { out: () => {}, err: (s) => (err += s) });
      expect([code, err], argv.join(' ')).toEqual([2, expect.stringMatching(re)]);
    }
  });
});
