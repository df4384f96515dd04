import { describe, expect, it } from 'vitest';
import { costFigures, floodAccounting, residenceFigures, type CostPoint } from '../../bench/lib/breakdown.ts';
import { crefArgs, crefStatsLines, parseCrefStats } from '../../bench/lib/cref.ts';
import { crefDropRuleset } from '../../bench/lib/nft.ts';
import { crefForwarderStats, dsrlbPathArgs, dsrlbPathUnsupported, dsrlbStats } from '../../bench/lib/paths.ts';
import { categoryShares, classify, parsePerfScript, parsePerfStat } from '../../bench/lib/perf.ts';
import { parseStatUserSys, parseVoluntarySwitches } from '../../bench/lib/procfs.ts';
import { histogramDelta, histogramQuantile } from '../../bench/lib/stats.ts';
import type { LabSnapshot } from '../../src/testbed/index.ts';

const H = (count: number, cum: number[]) => ({ count, sum: 0, buckets: cum.map((n, i) => [1e-6 * 2 ** i, n] as [number, number]) });

describe('histograms (the residence)', () => {
  it('quantiles interpolate inside the bucket, as Prometheus does', () => {
    // 100 observations: 50 <= 1 µs, 40 in (1, 2] µs, 10 in (2, 4] µs.
    const h = H(100, [50, 90, 100]);
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(1e-6, 12);
    expect(histogramQuantile(h, 0.7)).toBeCloseTo(1.5e-6, 12);
    expect(histogramQuantile(h, 0.99)).toBeCloseTo(3.8e-6, 12);
    expect(histogramQuantile(h, 0.25)).toBeCloseTo(0.5e-6, 12);
    // Above the last bound (the +Inf bucket): the last bound.
    expect(histogramQuantile(H(10, [0, 0, 5]), 0.9)).toBe(4e-6);
    expect(histogramQuantile(H(0, [0, 0, 0]), 0.5)).toBeNull();
    expect(() => histogramQuantile(h, 2)).toThrow();
  });
  it('the difference of two readings is the observations between them; a restart gives null', () => {
    const d = histogramDelta(H(100, [50, 90, 100]), H(160, [60, 140, 160]))!;
    expect(d.count).toBe(60);
    expect(d.buckets.map((b) => b[1])).toEqual([10, 50, 60]);
    expect(histogramDelta(H(100, [50, 90, 100]), H(10, [5, 9, 10]))).toBeNull();
    expect(histogramDelta(H(1, [1]), H(2, [1, 2]))).toBeNull();
    expect(histogramDelta(null, H(3, [1, 2, 3]))!.count).toBe(3);
  });
});

describe('cost per frame and flood accounting', () => {
  const pt = (user: number, sys: number, wakeups: number, forwarded: number, atMs: number, extra = {}): CostPoint =>
    ({ user, sys, wakeups, controlTicks: 0, atMs, stats: { forwarded, fromVip: 0, ...extra } });
  it('CPU per frame split into user and system time, wake-ups and batching', () => {
    // 100k frames in 1 s: 30 + 20 ticks of 10 ms = 0.5 s of CPU: 5 µs per frame (3 user, 2 system).
    const c = costFigures(pt(0, 0, 0, 0, 0, { sends: 0 }), pt(30, 20, 2000, 100_000, 1000, { sends: 4000 }), 100);
    expect(c).toEqual({ cpu_share: 0.5, cpu_us_per_pkt: 5, cpu_user_us_per_pkt: 3, cpu_sys_us_per_pkt: 2, control_cpu_us_per_pkt: 0, wakeups_per_kpkt: 20, frames_per_wakeup: 50, frames_per_send: 25 });
    // Nothing forwarded: only the CPU share (busy polling while idle still costs a core).
    expect(costFigures(pt(0, 0, 0, 5, 0), pt(100, 0, 0, 5, 1000), 100)).toEqual({ cpu_share: 1 });
  });
  it('(delivered + counted drops) / sent; null drops where the backend does not count them', () => {
    const a = { forwarded: 0, fromVip: 0, kernelDrops: 100, sendErrors: 1 };
    const b = { forwarded: 0, fromVip: 0, kernelDrops: 1100, sendErrors: 3 };
    expect(floodAccounting(10_000, 8_998, a, b)).toEqual({ kernel_drops: 1000, loss_accounted: 1 });
    expect(floodAccounting(10_000, 9_000, { forwarded: 0, fromVip: 0 }, { forwarded: 0, fromVip: 0 })).toEqual({ kernel_drops: null, loss_accounted: 0.9 });
    expect(floodAccounting(10_000, 10_000, null, null)).toEqual({ kernel_drops: null, loss_accounted: 1 });
    expect(floodAccounting(0, 0, null, null).loss_accounted).toBe(0);
  });
  it('residence percentiles between two readings, µs', () => {
    const a = { forwarded: 0, fromVip: 0, residence: H(100, [50, 90, 100]) };
    const b = { forwarded: 0, fromVip: 0, residence: H(200, [100, 180, 200]) };
    expect(residenceFigures(a, b)).toEqual({ p50_us: 1, p99_us: 3.8 });
    expect(residenceFigures(a, { forwarded: 0, fromVip: 0 })).toBeNull();
    expect(residenceFigures(a, a)).toBeNull();
  });
});

describe('cref and the dsrlb paths, seen from the harness', () => {
  const line = 'cref-stats {"event":"usr1","seen":10,"forwarded":8,"ignored":0,"ttl_expired":2,"tx_full":1,"send_errors":0,"wakeups":3,"batches":3,"sends":3,"busy_hits":0,"max_batch":5,"kernel_packets":12,"kernel_drops":2,"utime_us":10,"stime_us":20,"voluntary_switches":4,"involuntary_switches":0,"busy_poll_us":0,"qdisc_bypass":false,"residence":{"count":8,"sum":0.00004,"buckets":[[1e-06,0],[2e-06,3],[4e-06,8]]}}';
  it('reads its stats lines, and maps them to the common counters', () => {
    const s = parseCrefStats(line)!;
    expect(s.forwarded).toBe(8);
    expect(s.residence.buckets[2]).toEqual([4e-6, 8]);
    expect(parseCrefStats('cref-stats {"seen":1}')).toBeNull();
    expect(parseCrefStats('cref-ready {}')).toBeNull();
    expect(crefStatsLines(`cref-ready {}\n${line}\n${line.replace('usr1', 'exit')}\n`).map((x) => x.event)).toEqual(['usr1', 'exit']);
    expect(crefForwarderStats(s)).toMatchObject({ forwarded: 8, kernelPackets: 12, kernelDrops: 2, sendErrors: 1, sends: 3, batches: 3, backend: 'cref' });
  });
  it('its arguments and the director ingress drop of its path', () => {
    expect(crefArgs({ iface: 'eth0', services: [{ vip: '192.168.0.10', port: 80, proto: 'tcp' }], realMacs: ['02:d5:00:00:00:08'], busyPollUs: 50, qdiscBypass: true }))
      .toEqual(['--iface', 'eth0', '--service', '192.168.0.10:80/tcp', '--real', '02:d5:00:00:00:08', '--qdisc-bypass', '--busy-poll-us', '50']);
    expect(() => crefArgs({ iface: 'eth0', services: [], realMacs: ['x'] })).toThrow();
    const r = crefDropRuleset({ iface: 'eth0', vip: '192.168.0.10', services: [{ proto: 'udp', port: 9000 }] });
    expect(r).toContain('table netdev dsrbcref');
    expect(r).toContain('ip daddr 192.168.0.10 udp dport 9000 drop');
  });
  it('each dsrlb path\'s options, skipped with the reason when this dsrlb lacks the option', () => {
    expect(dsrlbPathArgs('dsrlb', 200)).toEqual([]);
    expect(dsrlbPathArgs('dsrlb_pcap', 200)).toEqual(['--io', 'pcap']);
    expect(dsrlbPathArgs('dsrlb_poll', 200)).toEqual(['--io', 'ring', '--busy-poll-us', '200']);
    expect(dsrlbPathArgs('dsrlb_w2', 200)).toEqual(['--io', 'ring', '--workers', '2']);
    expect(dsrlbPathArgs('dsrlb_w2', 200, false)).toEqual(['--workers', '2']);
    const help = '  --iface IF   the interface\n  --io ring|pcap   frame I/O\n  --workers N   packet workers\n';
    expect(dsrlbPathUnsupported('dsrlb_pcap', help)).toBeNull();
    expect(dsrlbPathUnsupported('dsrlb_w2', help)).toBeNull();
    expect(dsrlbPathUnsupported('dsrlb_poll', help)).toContain('--busy-poll-us');
    expect(dsrlbPathUnsupported('dsrlb_poll', help)).not.toContain('--io"');
    expect(dsrlbPathUnsupported('dsrlb_w2', '  --workers N\n')).toBe('this dsrlb has no "dsrlb run --io" (not in "dsrlb run --help")');
    expect(dsrlbPathUnsupported('dsrlb', '')).toBeNull();
  });
  it('dsrlb snapshot counters: the ring backend\'s io fields when present', () => {
    const base = { forwarded: 5, fromVip: 0, io: { received: 6, sent: 5, sendErrors: 1, truncated: 0 } } as unknown as LabSnapshot;
    expect(dsrlbStats(base)).toEqual({ forwarded: 5, fromVip: 0, sendErrors: 1 });
    const ring = { ...base, io: { ...base.io, backend: 'ring', kernelPackets: 7, kernelDrops: 1, residence: { count: 1, sum: 1e-5, buckets: [[1e-5, 1]] } } } as unknown as LabSnapshot;
    expect(dsrlbStats(ring)).toMatchObject({ backend: 'ring', kernelPackets: 7, kernelDrops: 1, residence: { count: 1 } });
  });
  it('/proc: user and system ticks apart, voluntary context switches', () => {
    const stat = '1234 (node (worker) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 11 0 500 1000000 5000';
    expect(parseStatUserSys(stat)).toEqual({ user: 250, sys: 40 });
    expect(parseVoluntarySwitches('Name:\tnode\nvoluntary_ctxt_switches:\t8123\nnonvoluntary_ctxt_switches:\t12\n')).toBe(8123);
    expect(() => parseVoluntarySwitches('Name: x')).toThrow();
  });
});

describe('perf: system call counts and where the samples fall', () => {
  it('perf stat -x, output', () => {
    const t = '123456,,raw_syscalls:sys_enter,1000,100.00,,\n789,,context-switches,1000,100.00,,\n<not counted>,,syscalls:sys_enter_poll,0,0.00,,\n';
    expect(parsePerfStat(t)).toEqual({ 'raw_syscalls:sys_enter': 123456, 'context-switches': 789 });
  });
  it('perf script samples are classified by the kernel functions on their chain', () => {
    const text = [
      'cref 1234 [001] 12.3: 1001 cpu-clock:',
      '\tffffffff81a00001 veth_xmit+0x1d ([kernel.kallsyms])',
      '\tffffffff81a00002 dev_hard_start_xmit+0x10 ([kernel.kallsyms])',
      '\tffffffff81a00003 tpacket_snd+0x200 ([kernel.kallsyms])',
      '\tffffffff81a00004 packet_sendmsg+0x20 ([kernel.kallsyms])',
      '\tffffffff81a00005 __sys_sendto+0x20 ([kernel.kallsyms])',
      '\t    7f0000001234 __send+0x14 (/usr/lib/x86_64-linux-gnu/libc.so.6)',
      '',
      'cref 1234 [001] 12.4: 1001 cpu-clock:',
      '\t    5555555551ab rx_batch+0x2b (/work/bench/cref/cref)',
      '',
      'node 99 [000] 12.5: 1001 cpu-clock:',
      '\tffffffff81b00001 _raw_spin_unlock_irqrestore+0x10 ([kernel.kallsyms])',
      '\tffffffff81b00002 ep_poll+0x300 ([kernel.kallsyms])',
      '\tffffffff81b00003 do_epoll_wait+0x10 ([kernel.kallsyms])',
      '',
      'node 99 [000] 12.6: 1001 cpu-clock:',
      '\tffffffff81c00001 tpacket_rcv+0x10 ([kernel.kallsyms])',
      '\tffffffff81c00002 __netif_receive_skb_core+0x10 ([kernel.kallsyms])',
      '\tffffffff81c00003 net_rx_action+0x10 ([kernel.kallsyms])',
      '',
      'node 99 [000] 12.7: 1001 cpu-clock:',
      '\tffffffff81d00001 clear_page_erms+0x10 ([kernel.kallsyms])',
      '\tffffffff81d00002 handle_mm_fault+0x10 ([kernel.kallsyms])',
      '',
    ].join('\n');
    const s = parsePerfScript(text);
    expect(s).toHaveLength(5);
    expect(s[0]!.frames[0]).toEqual({ sym: 'veth_xmit', kernel: true });
    expect(s.map(classify)).toEqual(['tx', 'user', 'poll', 'rx', 'kernel_other']);
    const sh = categoryShares(s);
    expect(sh.tx).toBeCloseTo(0.2, 10);
    expect(Object.values(sh).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(categoryShares([]).user).toBe(0);
  });
});
