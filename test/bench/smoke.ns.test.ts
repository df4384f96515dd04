/**
 * The benchmark harness end to end, very short (root, namespaces; CI runs it): one round of every
 * path with tiny counts, then the paced UDP sender alone. Proves the pieces fit — the figures of so
 * short a run mean nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPacedSender } from '../../bench/lib/load.ts';
import { liveChildren } from '../../bench/lib/exec.ts';
import { NFT_FWD_TABLE, nftCounters, nftTables, REAL_COUNTER_TABLE } from '../../bench/lib/nft.ts';
import { PRESETS, runBench } from '../../bench/run.ts';
import { PATHS } from '../../bench/lib/results.ts';
import { validateResults } from '../../bench/lib/results-check.ts';
import { dsrlbPathUnsupported, dsrlbRunHelp } from '../../bench/lib/paths.ts';
import { describeAsRoot, isRoot } from '../helpers/root.ts';
import {
  allNamespaces, CLIENT_ADDR, hostMac, hostNamespace, listNamespaces, pidsInNs, REALS, stateDirFor, testbedDown,
} from '../../src/testbed/index.ts';
import { isOurHttpd } from '../../src/testbed/daemon.ts';
import { DSRLB_TABLE } from '../../bench/lib/paths.ts';
import { waitFor } from '../helpers/wait.ts';

const root = isRoot();
const prefix = `dsrcs${process.pid % 10000}`;
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
};
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is not running
  } catch {
    return false;
  }
};
/** Virtual services in a namespace's IPVS table (none when the kernel has no ip_vs). */
const ipvsServices = (ns: string): string[] => {
  if (!existsSync('/proc/net/ip_vs')) return [];
  const text = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/ip_vs'], { encoding: 'utf8', timeout: 5000 });
  return text.split('\n').filter((l) => /^\s*(TCP|UDP|FWM)\s/.test(l));
};
const out = mkdtempSync(join(tmpdir(), 'dsrlb-bench-'));

afterAll(async () => {
  if (isRoot()) await testbedDown({ prefix });
  rmSync(out, { recursive: true, force: true });
}, 60_000);

describeAsRoot('benchmark harness on the testbed (tiny counts)', () => {
  it('one round of every path (ipvs skipped here; a dsrlb variant this dsrlb cannot run skipped with the reason): results.json, report, charts; nothing left running', async () => {
    const lines: string[] = [];
    const { results, dir } = await runBench({
      params: {
        ...PRESETS.quick, mode: 'custom', rounds: 1, ab_requests: 200, ab_concurrency: 10, latency_connections: 20,
        // 20000 flood frames: at ~1 µs a frame, 5000 could cost cref less than one 10 ms CPU tick (read as 0).
        flood_packets: 20_000, probes: 1, probe_seconds: 0.2, prefix, paths: [...PATHS],
      },
      micro: false,
      keep: true,
      outDir: out,
      jsonFile: join(out, 'copy.json'),
      command: 'vitest smoke',
      say: (l) => lines.push(l),
    });
    expect(dir).toBe(out);
    for (const f of ['results.json', 'report.md', 'conn-rate.svg', 'latency.svg', 'pps.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(validateResults(doc)).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'copy.json'), 'utf8'))).toEqual(doc); // --json FILE
    const variants = (['dsrlb_pcap', 'dsrlb_poll', 'dsrlb_w2'] as const).filter((p) => dsrlbPathUnsupported(p, dsrlbRunHelp()) === null);
    for (const p of ['direct', 'nft', 'cref', 'dsrlb', ...variants] as const) {
      const pr = results.paths[p];
      expect(pr.status, `${p}: ${pr.reason ?? ''}\n${lines.join('\n')}`).toBe('ok');
      expect(pr.metrics.conn_per_s!.median).toBeGreaterThan(0);
      expect(pr.metrics.connect_p50_us!.median).toBeGreaterThan(0);
      expect(pr.metrics.pps_delivered!.median).toBeGreaterThan(0);
      expect(pr.metrics.failed_requests!.max).toBe(0);
      expect(pr.metrics.replies_via_director!.max).toBe(0);
    }
    if (existsSync('/proc/net/ip_vs')) expect(results.paths.ipvs.status).not.toBe('skipped');
    else expect(results.paths.ipvs).toMatchObject({ status: 'skipped', reason: expect.stringContaining('IPVS') });
    // A variant this dsrlb cannot run is skipped, with the option it lacks as the reason.
    for (const p of ['dsrlb_pcap', 'dsrlb_poll', 'dsrlb_w2'] as const) {
      if (variants.includes(p)) continue;
      expect(results.paths[p]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('dsrlb run --') });
      expect(lines.some((l) => l.includes(`${p} skipped:`))).toBe(true);
    }
    // The IPv6 paths ran in the same round on the dual-stack testbed, over TCP only.
    for (const p of ['direct6', 'nft6', 'dsrlb6'] as const) {
      const pr = results.paths[p];
      expect(pr.status, `${p}: ${pr.reason ?? ''}\n${lines.join('\n')}`).toBe('ok');
      expect(pr.metrics.conn_per_s!.median).toBeGreaterThan(0);
      expect(pr.metrics.connect_p50_us!.median).toBeGreaterThan(0);
      expect(pr.metrics.failed_requests!.max).toBe(0);
      expect(pr.metrics.replies_via_director!.max).toBe(0);
      expect(pr.metrics.pps_delivered).toBeNull();
    }
    // dsrlb6: this dsrlb serves virtual6= sections, so it is measured like the others.
    const d6 = results.paths.dsrlb6;
    expect(d6.status, `dsrlb6: ${d6.reason ?? ''}\n${lines.join('\n')}`).toBe('ok');
    expect(d6.metrics.conn_per_s!.median).toBeGreaterThan(0);
    expect(d6.metrics.failed_requests!.max).toBe(0);
    expect(d6.metrics.replies_via_director!.max).toBe(0);
    expect(results.ipv6_ratios!.nft6_over_direct6.conn_per_s).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## IPv6');
    const s6 = results.rounds[0]!.samples;
    const per6 = s6.find((x) => x.path === 'nft6')!.perReal!;
    expect(per6.tcpSyn.www2! > 0 && per6.tcpSyn.www3! > 0, `nft6 ${JSON.stringify(per6)}`).toBe(true);
    expect(s6.find((x) => x.path === 'direct6')!.perReal!.tcpSyn.www3).toBe(0);
    // The director's cost is measured from its packet worker process(es), cref's from its process.
    for (const p of ['cref', 'dsrlb', ...variants] as const) {
      const x = results.paths[p];
      expect(x.metrics.cpu_us_per_pkt!.median, p).toBeGreaterThan(0);
      expect(x.extra.cpu_user_us_per_pkt!.median + x.extra.cpu_sys_us_per_pkt!.median, p).toBeGreaterThan(0);
      expect(x.extra.frames_per_wakeup!.median, p).toBeGreaterThan(0);
      expect(x.metrics.loss_accounted!.median, p).toBeGreaterThan(0);
      expect(x.metrics.loss_accounted!.median, p).toBeLessThanOrEqual(1.01);
    }
    expect(results.paths.dsrlb.extra.worker_rss_kib!.median).toBeGreaterThan(1000);
    // cref counts its ring drops and its residence; so does dsrlb when its backend reports them.
    expect(results.paths.cref.metrics.kernel_drops!.median).toBeGreaterThanOrEqual(0);
    expect(results.paths.cref.metrics.frame_residence_p50_us!.median).toBeGreaterThan(0);
    expect(results.paths.cref.extra.frames_per_send!.median).toBeGreaterThan(0);
    for (const p of ['dsrlb', ...variants] as const) {
      if (!results.paths[p].backends?.includes('ring')) continue;
      expect(results.paths[p].metrics.kernel_drops!.median, p).toBeGreaterThanOrEqual(0);
      expect(results.paths[p].metrics.frame_residence_p50_us!.median, p).toBeGreaterThan(0);
    }
    const ids = results.targets.map((t) => t.id);
    for (const id of ['cpu_vs_cref', 'loss_free_vs_cref', 'connect_p50_vs_cref_us', 'poll_connect_p50_vs_nft_us', 'poll_connect_p99_vs_nft', 'flood_loss_accounted', 'w2_flood_vs_w1']) {
      expect(ids).toContain(id);
    }
    expect(results.targets.find((t) => t.id === 'cpu_vs_cref')!.value).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Where the time per frame goes');
    // Both reals got flows on the balanced paths; the direct path went to www2 only.
    const s = results.rounds[0]!.samples;
    for (const p of ['nft', 'cref', 'dsrlb']) {
      const per = s.find((x) => x.path === p)!.perReal!;
      expect(per.tcpSyn.www2! > 0 && per.tcpSyn.www3! > 0, `${p} ${JSON.stringify(per)}`).toBe(true);
    }
    expect(s.find((x) => x.path === 'direct')!.perReal!.tcpSyn.www3).toBe(0);
    // Nothing left running (the testbed itself is kept for the next test): no command of the
    // harness, no process in any testbed namespace but the testbed's own web servers, no forwarder
    // (nft table of the nft path or of dsrlb, IPVS service) on the director.
    expect(liveChildren()).toEqual([]);
    expect(listNamespaces()).toContain(`${prefix}-www1`);
    // A child of a stopped process (tsx's esbuild service under `dsrlb run`) may take a moment
    // to see its parent gone: waited for, bounded.
    const strangers = () => allNamespaces(prefix).flatMap((ns) => pidsInNs(ns).filter((pid) => !isOurHttpd(pid, prefix)).map((pid) => `${ns}: ${pid} ${cmdline(pid)}`));
    expect(await waitFor(strangers, (l) => l.length === 0, { timeoutMs: 5000, intervalMs: 100 }, 'no process but the web servers in the testbed')).toEqual([]);
    const tables = await nftTables(hostNamespace(prefix, 'www1'));
    expect(tables.filter((t) => t.includes(NFT_FWD_TABLE) || t.includes(DSRLB_TABLE))).toEqual([]);
    expect(ipvsServices(hostNamespace(prefix, 'www1'))).toEqual([]);
  }, 240_000);

  it('the paced sender sends what it says, never faster than asked (paced, not a burst), and the reals count it', async () => {
    const ns = hostNamespace(prefix, 'www2');
    const before = (await nftCounters(ns, REAL_COUNTER_TABLE)).udp_in ?? 0;
    const r = await runPacedSender(hostNamespace(prefix, 'client'), {
      iface: 'eth0', count: 2000, rate: 10_000,
      frames: { dstMac: hostMac('www2'), srcMac: hostMac('client'), src: CLIENT_ADDR, dst: REALS.www2, dport: 9000, sportBase: 20000, flows: 4 },
    });
    expect(r.sent).toBe(2000);
    // Pacing caps the rate; how close it gets to 10 000/s depends on the machine's load (a figure
    // for the benchmark report, not a bound here).
    expect(r.offeredPps).toBeLessThan(12_000);
    expect(r.offeredPps).toBeGreaterThan(0);
    const counted = async () => ((await nftCounters(ns, REAL_COUNTER_TABLE)).udp_in ?? 0) - before;
    expect(await waitFor(counted, (n) => n >= 2000, { timeoutMs: 5000, intervalMs: 50 }, 'udp_in on www2 to reach 2000')).toBe(2000);
  }, 30_000);

  it('testbed down: no namespace, no process, no state directory left', async () => {
    const pids = allNamespaces(prefix).flatMap((ns) => pidsInNs(ns));
    expect(pids.length).toBeGreaterThan(0); // the kept testbed's web servers, at least
    await testbedDown({ prefix });
    expect(listNamespaces().filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(stateDirFor(prefix))).toBe(false);
  }, 60_000);
});
