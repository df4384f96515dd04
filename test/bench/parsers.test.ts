import { describe, expect, it } from 'vitest';
import { ipChecksum, udpFrames } from '../../bench/lib/frames.ts';
import { parseAb, parseLatency } from '../../bench/lib/load.ts';
import { directorCounterRuleset, nftFwdRuleset, parseCounters, parseTables, realCountersRuleset } from '../../bench/lib/nft.ts';
import { dsrlbPathArgs, dsrlbStartError, ipvsCommands, nft6PathRuleset, nftPathRuleset, PathUnavailable } from '../../bench/lib/paths.ts';
import { parseLoadavg, parseStatTicks, parseStatusMem } from '../../bench/lib/procfs.ts';
import { parseTrafgen, trafgenConfig } from '../../bench/lib/trafgen.ts';
import { dueCount } from '../../bench/lib/udp-sender.ts';

describe('UDP frames', () => {
  const spec = { dstMac: '02:d5:00:00:00:07', srcMac: '02:d5:00:00:00:64', src: '192.168.0.100', dst: '192.168.0.10', dport: 9000, sportBase: 20000, flows: 3 };

  it('are 60-byte IPv4/UDP frames, one source port per flow, with a valid header checksum', () => {
    const fs = udpFrames(spec);
    expect(fs).toHaveLength(3);
    fs.forEach((f, i) => {
      expect(f.length).toBe(60);
      expect(Array.from(f.subarray(0, 6))).toEqual([2, 0xd5, 0, 0, 0, 7]);
      expect((f[12]! << 8) | f[13]!).toBe(0x0800);
      expect(f[23]).toBe(17);
      expect(ipChecksum(f, 14, 20)).toBe(0); // a correct header sums to 0xffff
      expect((f[34]! << 8) | f[35]!).toBe(20000 + i);
      expect((f[36]! << 8) | f[37]!).toBe(9000);
      expect((f[38]! << 8) | f[39]!).toBe(60 - 14 - 20);
      expect(Array.from(f.subarray(30, 34))).toEqual([192, 168, 0, 10]);
    });
    // The header checksum worked out by hand: the words 4500 002e 0000 4000 4011 c0a8 0064 c0a8 000a
    // sum to 0x246fd, folded 0x46ff, complemented 0xb900.
    expect((fs[0]![24]! << 8) | fs[0]![25]!).toBe(0xb900);
    expect(() => udpFrames({ ...spec, dstMac: 'zz' })).toThrow();
    expect(() => udpFrames({ ...spec, frameLen: 30 })).toThrow();
  });

  it('trafgen configuration and report', () => {
    const cfg = trafgenConfig(udpFrames({ ...spec, flows: 2 }));
    expect(cfg.trim().split('\n')).toHaveLength(2);
    expect(cfg.startsWith('{ 0x02, 0xd5, 0x00, 0x00, 0x00, 0x07,')).toBe(true);
    const out = '\n     1000000 packets outgoing\n    60000000 bytes outgoing\n           2 sec, 786142 usec on CPU0 (1000000 packets)\n';
    expect(parseTrafgen(out)).toEqual({ sent: 1_000_000, seconds: 2.786142 });
    expect(parseTrafgen('trafgen: invalid option')).toBeNull();
  });

  it('the paced sender keeps to its schedule', () => {
    expect(dueCount(0, 100_000, 1000)).toBe(1);
    expect(dueCount(1e6, 100_000, 1000)).toBe(101); // 1 ms at 100k pps
    expect(dueCount(1e9, 100_000, 1000)).toBe(1000);
  });
});

describe('load tools', () => {
  const ab = `Server Software:
Concurrency Level:      50
Time taken for tests:   1.955 seconds
Complete requests:      10000
Failed requests:        3
   (Connect: 0, Receive: 0, Length: 3, Exceptions: 0)
Non-2xx responses:      2
Requests per second:    5115.66 [#/sec] (mean)
`;
  it('ab: rate, and failures from incomplete, failed and non-2xx requests', () => {
    expect(parseAb(ab, 10_000)).toEqual({ complete: 10_000, failed: 3, non2xx: 2, reqPerSec: 5115.66, failedTotal: 5 });
    expect(parseAb(ab.replace('10000', '9990'), 10_000)!.failedTotal).toBe(15);
    expect(parseAb('apr_socket_recv: Connection reset by peer (104)', 100)).toBeNull();
  });

  it('latency client output', () => {
    expect(parseLatency('{"connectUs":[1,2],"requestUs":[3,4],"errors":0,"firstError":null}\n')!.connectUs).toEqual([1, 2]);
    expect(parseLatency('garbage')).toBeNull();
    expect(parseLatency('{"errors":1}')).toBeNull();
  });
});

describe('nft and ipvs', () => {
  it('the kernel DSR rule: director source MAC, per-flow jhash over the reals, fwd', () => {
    const r = nftFwdRuleset({ iface: 'eth0', vip: '192.168.0.10', directorMac: '02:d5:00:00:00:07', realMacs: ['02:d5:00:00:00:08', '02:d5:00:00:00:09'], services: [{ proto: 'tcp', port: 80 }] });
    expect(r).toContain('table netdev dsrbnft');
    expect(r).toContain('type filter hook ingress device "eth0" priority 0;');
    expect(r).toContain('ip daddr 192.168.0.10 tcp dport 80 ether saddr set 02:d5:00:00:00:07 ether daddr set jhash ip saddr . tcp sport mod 2 map { 0 : 02:d5:00:00:00:08, 1 : 02:d5:00:00:00:09 } fwd to "eth0"');
    expect(() => nftFwdRuleset({ iface: 'eth0', vip: '1.2.3.4', directorMac: 'x', realMacs: [], services: [] })).toThrow();
    const bench = nftPathRuleset();
    expect(bench).toContain('tcp dport 80');
    expect(bench).toContain('udp dport 9000');
    expect(bench).not.toContain('02:d5:00:00:00:07 }'); // the director is never a target
  });

  it('the IPv6 form (nft6): ip6 daddr VIP6, per-flow jhash over ip6 saddr, TCP only; the director never a target', () => {
    const r = nft6PathRuleset();
    expect(r).toContain('table netdev dsrbnft');
    expect(r).toContain('ip6 daddr 2001:db8::10 tcp dport 80 ether saddr set 02:d5:00:00:00:07 ether daddr set jhash ip6 saddr . tcp sport mod 2 map { 0 : 02:d5:00:00:00:08, 1 : 02:d5:00:00:00:09 } fwd to "eth0"');
    expect(r).not.toContain('udp');
    expect(r).not.toMatch(/\bip daddr/);
  });

  it('counters for IPv6 frames when the run is dual-stack; none without', () => {
    const r = realCountersRuleset({ iface: 'eth0', addrs: ['192.168.0.8', '192.168.0.10'], addrs6: ['2001:db8::8', '2001:db8::10'], udpPort: 9000, tcpPort: 80 });
    expect(r).toContain('ip6 daddr { 2001:db8::8, 2001:db8::10 } tcp dport 80 tcp flags & (syn | ack) == syn counter name "syn_in"');
    expect(r).toContain('ip6 daddr { 2001:db8::8, 2001:db8::10 } udp dport 9000 counter name "udp_in" drop');
    expect(realCountersRuleset({ iface: 'eth0', addrs: ['192.168.0.8'], udpPort: 9000, tcpPort: 80 })).not.toContain('ip6');
    expect(directorCounterRuleset({ iface: 'eth0', vip: '192.168.0.10', vip6: '2001:db8::10' })).toContain('ip6 saddr 2001:db8::10 counter name "from_vip"');
    expect(directorCounterRuleset({ iface: 'eth0', vip: '192.168.0.10' })).not.toContain('ip6');
  });

  it('dsrlb6 is unavailable (skipped, with the reason) while dsrlb run refuses virtual6=; other start failures stay failures', () => {
    const refusal = new Error('dsrlb run exited with code 1:\ndsrlb: E_RUN_IPV6: the live director does not capture IPv6 yet (docs/ipv6.md), so it cannot serve TCP [2001:db8::10]:80 (/x/bench/ldirectord6.cf:9); remove the virtual6= sections to run\n');
    const e = dsrlbStartError('dsrlb6', refusal);
    expect(e).toBeInstanceOf(PathUnavailable);
    expect(e.message).toBe('this dsrlb\'s "dsrlb run" refuses virtual6= sections (E_RUN_IPV6: the live director does not capture IPv6 yet (docs/ipv6.md), so it cannot serve TCP [2001:db8::10]:80 (/x/bench/ldirectord6.cf:9))');
    const other = new Error('director not ready after 20000 ms');
    expect(dsrlbStartError('dsrlb6', other)).toBe(other);
    expect(dsrlbStartError('dsrlb', refusal)).toBe(refusal);
    expect(dsrlbPathArgs('dsrlb6', 5000)).toEqual([]);
  });

  it('counters at the reals and at the director', () => {
    const r = realCountersRuleset({ iface: 'eth0', addrs: ['192.168.0.8', '192.168.0.10'], udpPort: 9000, tcpPort: 80 });
    expect(r).toContain('ip daddr { 192.168.0.8, 192.168.0.10 } udp dport 9000 counter name "udp_in" drop');
    expect(r).toContain('tcp flags & (syn | ack) == syn counter name "syn_in"');
    expect(directorCounterRuleset({ iface: 'eth0', vip: '192.168.0.10' })).toContain('ip saddr 192.168.0.10 counter name "from_vip"');
    const json = '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "netdev", "name": "udp_in", "table": "dsrbench", "handle": 2, "packets": 7, "bytes": 0}}, {"counter": {"family": "netdev", "name": "syn_in", "table": "dsrbench", "handle": 3, "packets": 1, "bytes": 60}}]}';
    expect(parseCounters(json)).toEqual({ udp_in: 7, syn_in: 1 });
    expect(parseTables('{"nftables": [{"metainfo": {}}, {"table": {"family": "netdev", "name": "dsrlb_eth0", "handle": 1}}]}')).toEqual(['netdev dsrlb_eth0']);
  });

  it('IPVS-DR commands: rr services, every real as gate', () => {
    const c = ipvsCommands().map((a) => a.join(' '));
    expect(c).toContain('ipvsadm -A -t 192.168.0.10:80 -s rr');
    expect(c).toContain('ipvsadm -a -t 192.168.0.10:80 -r 192.168.0.8:80 -g -w 1');
    expect(c).toContain('ipvsadm -a -u 192.168.0.10:9000 -r 192.168.0.9:9000 -g -w 1');
    expect(c.some((x) => x.includes('192.168.0.7'))).toBe(false);
  });
});

describe('/proc parsers', () => {
  it('utime + stime, even with spaces and parentheses in the name', () => {
    const line = '1234 (node (worker) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 11 0 500 1000000 5000 18446744073709551615';
    expect(parseStatTicks(line)).toBe(290);
  });
  it('resident memory and load average', () => {
    expect(parseStatusMem('Name:\tnode\nVmHWM:\t  90000 kB\nVmRSS:\t   81234 kB\n')).toEqual({ rssKib: 81234, hwmKib: 90000 });
    expect(parseLoadavg('7.29 6.10 5.02 3/125 948\n')).toEqual([7.29, 6.1, 5.02]);
  });
});
