/** dsrlb doctor's checks on made-up host facts (pure: no root, no namespace). */
import { describe, expect, it } from 'vitest';
import { arptablesRules, doctorOk, nftArpRules, parseIpAddrJson, runChecks, type HostFacts } from '../../src/doctor/index.ts';

const VIP = '192.168.0.10';
const ETHTOOL_OFF = `Features for eth0:
rx-checksumming: on
tx-checksumming: off
	tx-checksum-ip-generic: off
scatter-gather: on
tcp-segmentation-offload: off
generic-segmentation-offload: off
generic-receive-offload: off
large-receive-offload: off [fixed]
`;
const ARPTABLES = `Chain INPUT (policy ACCEPT)
-j DROP -d 192.168.0.10 
Chain OUTPUT (policy ACCEPT)
-j mangle -o eth0 -s 192.168.0.10 --mangle-ip-s 192.168.0.9 
Chain FORWARD (policy ACCEPT)
`;

function real(over: Partial<HostFacts> = {}): HostFacts {
  return {
    iface: 'eth0',
    ifaceState: { up: true, operstate: 'up', mtu: 1500, mac: '02:d5:00:00:00:09' },
    addrs: [{ dev: 'lo', addr: '127.0.0.1', prefix: 8 }, { dev: 'lo', addr: VIP, prefix: 32 }, { dev: 'eth0', addr: '192.168.0.9', prefix: 24 }],
    sysctl: { ip_forward: '0', 'conf.all.arp_ignore': '0', 'conf.eth0.arp_ignore': '0', 'conf.all.arp_announce': '0', 'conf.eth0.arp_announce': '0', 'conf.all.rp_filter': '0', 'conf.eth0.rp_filter': '0' },
    arptables: ARPTABLES,
    nftArp: '',
    ethtool: ETHTOOL_OFF,
    arpProbe: { sent: 3, senderIp: '192.168.0.9', answers: [{ mac: '02:d5:00:00:00:07', count: 3 }] },
    ...over,
  };
}
const status = (f: HostFacts, role: 'real' | 'director' = 'real', prefix = '') =>
  Object.fromEntries(runChecks(f, { vip: VIP, role, fixPrefix: prefix }).map((x) => [x.check, x.status]));
const finding = (f: HostFacts, check: string, role: 'real' | 'director' = 'real', prefix = '') =>
  runChecks(f, { vip: VIP, role, fixPrefix: prefix }).find((x) => x.check === check)!;

describe('doctor checks', () => {
  it('a well set-up real server: all ok', () => {
    const fs = runChecks(real(), { vip: VIP, role: 'real' });
    expect(fs.map((f) => [f.check, f.status])).toEqual([
      ['interface', 'ok'], ['vip-on-lo', 'ok'], ['arp-suppression', 'ok'], ['rp-filter', 'ok'], ['ip-forward', 'ok'], ['arp-probe', 'ok'],
    ]);
    expect(doctorOk(fs)).toBe(true);
  });

  it('ARP suppression by sysctl is as good as the arptables rules; either half alone is not', () => {
    const sys = { ...real().sysctl, 'conf.all.arp_ignore': '1', 'conf.eth0.arp_announce': '2' };
    expect(status(real({ arptables: null, sysctl: sys }))['arp-suppression']).toBe('ok');
    const noAnnounce = finding(real({ arptables: null, sysctl: { ...sys, 'conf.eth0.arp_announce': '0' } }), 'arp-suppression');
    expect(noAnnounce.status).toBe('fail');
    expect(noAnnounce.message).toMatch(/announce/);
    expect(noAnnounce.fix[0]).toBe('arptables -A OUTPUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.9');
  });

  it('no suppression: fails with the exact commands, prefixed for the namespace', () => {
    const f = finding(real({ arptables: '' }), 'arp-suppression', 'real', 'ip netns exec t-www3 ');
    expect(f.status).toBe('fail');
    expect(f.message).toMatch(/answers ARP requests for the VIP 192\.168\.0\.10/);
    expect(f.fix).toEqual([
      'ip netns exec t-www3 arptables -A INPUT -d 192.168.0.10 -j DROP',
      'ip netns exec t-www3 arptables -A OUTPUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.9',
      '# or: ip netns exec t-www3 sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2',
    ]);
  });

  it('nft arp rules count too', () => {
    const nft = 'table arp dsrlb_noarp {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tarp daddr ip 192.168.0.10 drop\n\t}\n\tchain out {\n\t\ttype filter hook output priority filter; policy accept;\n\t\toifname "eth0" arp saddr ip 192.168.0.10 arp saddr ip set 192.168.0.9\n\t}\n}\n';
    expect(nftArpRules(nft, VIP)).toEqual({ inDrop: true, outMangle: true });
    expect(status(real({ arptables: '', nftArp: nft }))['arp-suppression']).toBe('ok');
  });

  it('parses the seed\'s chain names (IN/OUT) and the netfilter ones', () => {
    expect(arptablesRules(ARPTABLES, VIP)).toEqual({ inDrop: true, outMangle: true });
    expect(arptablesRules(ARPTABLES.replace('Chain INPUT', 'Chain IN').replace('Chain OUTPUT', 'Chain OUT'), VIP)).toEqual({ inDrop: true, outMangle: true });
    expect(arptablesRules(ARPTABLES, '192.168.0.1')).toEqual({ inDrop: false, outMangle: false });
  });

  it('VIP missing from lo, or on the wire interface of a real', () => {
    const none = real({ addrs: real().addrs.filter((a) => a.addr !== VIP) });
    expect(finding(none, 'vip-on-lo').fix).toEqual(['ip addr add 192.168.0.10/32 dev lo']);
    const onEth = real({ addrs: [...none.addrs, { dev: 'eth0', addr: VIP, prefix: 24 }] });
    const f = finding(onEth, 'vip-on-lo');
    expect(f.status).toBe('fail');
    expect(f.fix).toEqual(['ip addr del 192.168.0.10/24 dev eth0', 'ip addr add 192.168.0.10/32 dev lo']);
  });

  it('the ARP probe: several MACs fail, none warns', () => {
    const two = real({ arpProbe: { sent: 3, senderIp: '192.168.0.8', answers: [{ mac: '02:d5:00:00:00:07', count: 3 }, { mac: '02:d5:00:00:00:09', count: 3 }] } });
    const f = finding(two, 'arp-probe');
    expect(f.status).toBe('fail');
    expect(f.message).toContain('02:d5:00:00:00:07');
    expect(f.message).toContain('02:d5:00:00:00:09');
    expect(finding(real({ arpProbe: { sent: 3, senderIp: '192.168.0.8', answers: [] } }), 'arp-probe').status).toBe('warn');
    expect(finding(real({ arpProbe: { sent: 0, senderIp: '', answers: [], error: 'no permission' } }), 'arp-probe').status).toBe('warn');
  });

  it('a director: offloads, ip_forward without the VIP, others answering ARP', () => {
    const dir = real({
      ifaceState: { up: true, operstate: 'up', mtu: 1500, mac: '02:d5:00:00:00:07' },
      addrs: [{ dev: 'eth0', addr: '192.168.0.7', prefix: 24 }],
      arptables: '',
      sysctl: { ...real().sysctl, ip_forward: '1' },
      ethtool: ETHTOOL_OFF.replace('generic-receive-offload: off', 'generic-receive-offload: on').replace('tcp-segmentation-offload: off', 'tcp-segmentation-offload: on'),
      arpProbe: { sent: 3, senderIp: '192.168.0.7', answers: [{ mac: '02:d5:00:00:00:09', count: 2 }] },
    });
    const s = status(dir, 'director');
    expect(s).toMatchObject({ 'vip-on-lo': 'ok', 'ip-forward': 'warn', offloads: 'fail', 'arp-probe': 'fail' });
    expect(s['arp-suppression']).toBeUndefined(); // a director without the VIP has nothing to suppress
    expect(finding(dir, 'offloads', 'director').fix).toEqual(['ethtool -K eth0 gro off tso off']);
    expect(finding(dir, 'ip-forward', 'director').fix).toEqual(['sysctl -w net.ipv4.ip_forward=0']);
    // A director that is also a real (VIP on lo, ARP suppressed), offloads off, nobody else answering.
    expect(doctorOk(runChecks(real({ arpProbe: { sent: 3, senderIp: '192.168.0.9', answers: [] } }), { vip: VIP, role: 'director' }))).toBe(true);
  });

  it('strict rp_filter warns; a small MTU warns; a missing interface fails', () => {
    expect(finding(real({ sysctl: { ...real().sysctl, 'conf.all.rp_filter': '1' } }), 'rp-filter').fix).toEqual(['sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2']);
    expect(finding(real({ ifaceState: { up: true, operstate: 'up', mtu: 1400, mac: 'x' } }), 'interface').status).toBe('warn');
    expect(finding(real({ ifaceState: null }), 'interface').status).toBe('fail');
  });

  it('reads ip -j addr', () => {
    const j = JSON.stringify([{ ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet', local: VIP, prefixlen: 32 }] }, { ifname: 'eth0', addr_info: [{ family: 'inet6', local: 'fe80::1', prefixlen: 64 }] }]);
    expect(parseIpAddrJson(j)).toEqual([{ dev: 'lo', addr: '127.0.0.1', prefix: 8 }, { dev: 'lo', addr: VIP, prefix: 32 }]);
    expect(parseIpAddrJson('not json')).toEqual([]);
  });
});
