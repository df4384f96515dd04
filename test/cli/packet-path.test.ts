import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { directorFilter } from '../../src/cli/packet-path.ts';
import { parseIPv4 } from '../../src/model/index.ts';

describe('the director capture filter', () => {
  it('takes ARP and IPv4 to or from the configured VIPs (any port, so runtime services on them are seen)', () => {
    const f = directorFilter([
      { proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 80 },
      { proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 443 },
      { proto: 'udp', vip: parseIPv4('10.0.0.1')!, port: 53 },
    ]);
    expect(f).toBe('inbound and (arp or (ip and (host 10.0.0.1 or host 192.168.0.10)))');
  });

  it('with no service (ipvsadm drop-in mode) takes every inbound IPv4 frame', () => {
    expect(directorFilter([])).toBe('inbound and (arp or ip)');
  });

  it('compiles with libpcap (tcpdump -d)', () => {
    for (const f of [directorFilter([{ proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 80 }]), directorFilter([])]) {
      const out = execFileSync('tcpdump', ['-d', '-i', 'lo', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toMatch(/ret/);
    }
  });
});
