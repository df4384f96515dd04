import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { directorFilter } from '../../src/cli/packet-path.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/io/index.ts';
import { parseIPv4, parseIPv6, parseMac } from '../../src/model/index.ts';
import { buildNeighborAdvertisement, buildNeighborSolicitation, icmp6, IPPROTO_TCP, ipv6, tcp6, TCP_SYN } from '../../src/packet/index.ts';

describe('the director capture filter', () => {
  it('takes ARP and IPv4 to or from the configured VIPs (any port, so runtime services on them are seen)', () => {
    const f = directorFilter([
      { proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 80 },
      { proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 443 },
      { proto: 'udp', vip: parseIPv4('10.0.0.1')!, port: 53 },
    ]);
    expect(f).toBe('inbound and (arp or (ip and (host 10.0.0.1 or host 192.168.0.10)))');
  });

  it('with no service (ipvsadm drop-in mode) takes every inbound IPv4 and IPv6 frame', () => {
    expect(directorFilter([])).toBe('inbound and (arp or ip or ip6)');
  });

  it('takes IPv6 to or from each VIP6, the NS to its solicited-node group and the NAs', () => {
    const f = directorFilter([
      { proto: 'tcp', vip: 1, vip6: '2001:db8::10', port: 80 },
      { proto: 'udp', vip: 1, vip6: '2001:db8::10', port: 53 },
      { proto: 'tcp', vip: parseIPv4('10.0.0.1')!, port: 80 },
    ]);
    expect(f).toBe('inbound and (arp or (ip and (host 10.0.0.1)) or (ip6 and (host 2001:db8::10 or dst host ff02::1:ff00:10 or (ip6 proto 58 and ip6[40] == 136))))');
  });

  it('lets libpcap pass exactly the IPv6 frames the director needs (tcpdump -r on a capture)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h6a-filter-'));
    try {
      const self = parseMac('02:00:00:00:00:01')!;
      const other = parseMac('02:00:00:00:00:99')!;
      const ip = (s: string) => parseIPv6(s)!;
      const eth = (p: Uint8Array, dst = self) => Uint8Array.from([...dst, ...other, 0x86, 0xdd, ...p]);
      const syn = (dst: string) => eth(ipv6({ src: '2001:db8:1::5', dst, next: IPPROTO_TCP, payload: tcp6({ src: '2001:db8:1::5', dst, sport: 1, dport: 80, flags: TCP_SYN }) }));
      const frames: Array<[string, Uint8Array, boolean]> = [
        ['SYN to the VIP6', syn('2001:db8::10'), true],
        ['SYN to another address', syn('2001:db8::11'), false],
        ['NS for the VIP6 (solicited-node group)', buildNeighborSolicitation({ srcMac: other, srcIp: ip('2001:db8::5'), target: ip('2001:db8::10') }), true],
        ['NS for another address', buildNeighborSolicitation({ srcMac: other, srcIp: ip('2001:db8::5'), target: ip('2001:db8::77') }), false],
        ['NA from a real', buildNeighborAdvertisement({ srcMac: other, dstMac: self, target: ip('2001:db8::21'), dstIp: ip('2001:db8::1'), router: false, solicited: true, override: true, tlla: true }), true],
        ['echo request to the VIP6', eth(ipv6({ src: '2001:db8::5', dst: '2001:db8::10', next: 58, payload: icmp6('2001:db8::5', '2001:db8::10', 128, 0, new Uint8Array(4)) })), true],
      ];
      const w = new PcapWriter();
      for (const [, fr] of frames) w.add(0, fr);
      const file = join(dir, 'in.pcap');
      w.writeFile(file);
      // `inbound` needs a live capture; the rest is what libpcap evaluates on each frame.
      const expr = directorFilter([{ proto: 'tcp', vip: 1, vip6: '2001:db8::10', port: 80 }]).replace(/^inbound and /, '');
      const out = execFileSync('tcpdump', ['-n', '-r', file, expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.trim().split('\n').filter((l) => l !== '').length).toBe(frames.filter((x) => x[2]).length);
      expect(out).not.toMatch(/2001:db8::11|2001:db8::77/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compiles with libpcap (tcpdump -d)', () => {
    for (const f of [directorFilter([{ proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 80 }]), directorFilter([]),
      directorFilter([{ proto: 'tcp', vip: 1, vip6: '2001:db8::10', port: 80 }])]) {
      const out = execFileSync('tcpdump', ['-d', '-i', 'lo', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toMatch(/ret/);
    }
  });
});
