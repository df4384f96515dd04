/**
 * One visit of one path in one round: the TCP loads (ab, sequential latency), the UDP flood and the
 * loss-free search, the director's cost, and the correctness counters, into one PathSample.
 * Every load is bounded in count and time; the run only sends from the client namespace.
 */
import { CLIENT_ADDR, hostMac, hostNamespace, VIP, VIP6 } from '../../src/testbed/index.ts';
import { udpFrames, type UdpFramesSpec } from './frames.ts';
import { runAb, runLatency, runPacedSender } from './load.ts';
import { DIRECTOR_COUNTER_TABLE, nftCounters, REAL_COUNTER_TABLE } from './nft.ts';
import { costFigures, floodAccounting, residenceFigures, type CostPoint } from './breakdown.ts';
import { BENCH_REALS, TCP_PORT, UDP_PORT, type ActivePath, type Forwarder, type ForwarderStats } from './paths.ts';
import { cpuTicks, cpuUserSys, memOf, ticksPerSecond, wakeupsOf } from './procfs.ts';
import type { PathSample, RunParams } from './results.ts';
import { lossOf, searchLossFree, type ProbeOutcome } from './search.ts';
import { percentile } from './stats.ts';
import { runTrafgen, trafgenConfig } from './trafgen.ts';

export interface MeasureEnv {
  prefix: string;
  params: RunParams;
  say: (line: string) => void;
  /** Set when the run is interrupted: the visit stops between steps. */
  aborted: () => boolean;
}

type RealCounts = Record<string, { udp: number; syn: number }>;

async function realCounts(prefix: string): Promise<RealCounts> {
  const out: RealCounts = {};
  for (const h of BENCH_REALS) {
    const c = await nftCounters(hostNamespace(prefix, h), REAL_COUNTER_TABLE);
    out[h] = { udp: c.udp_in ?? 0, syn: c.syn_in ?? 0 };
  }
  return out;
}

const sumUdp = (c: RealCounts) => Object.values(c).reduce((a, x) => a + x.udp, 0);

async function fromVipAtDirector(prefix: string): Promise<number> {
  return (await nftCounters(hostNamespace(prefix, 'www1'), DIRECTOR_COUNTER_TABLE)).from_vip ?? 0;
}

/** Waits until the reals' UDP counters stop moving (queues drained), at most maxMs. */
async function settledUdp(prefix: string, maxMs = 2000): Promise<RealCounts> {
  const t0 = Date.now();
  let last = await realCounts(prefix);
  for (;;) {
    await new Promise((r) => setTimeout(r, 120));
    const now = await realCounts(prefix);
    if (sumUdp(now) === sumUdp(last) || Date.now() - t0 > maxMs) return now;
    last = now;
  }
}

function frameSpec(p: ActivePath & { udpDst: NonNullable<ActivePath['udpDst']> }, flows: number, frameLen: number): UdpFramesSpec {
  return { dstMac: p.udpDst.mac, srcMac: hostMac('client'), src: CLIENT_ADDR, dst: p.udpDst.ip, dport: UDP_PORT, sportBase: 20000, flows, frameLen };
}

/** The flood (trafgen, as fast as it goes) or a paced probe (udp-sender at `rate`). */
async function udpShot(prefix: string, spec: UdpFramesSpec, count: number, rate?: number): Promise<ProbeOutcome> {
  const client = hostNamespace(prefix, 'client');
  const before = sumUdp(await realCounts(prefix));
  const sent = rate === undefined
    ? await runTrafgen(client, trafgenConfig(udpFrames(spec)), { count })
    : await runPacedSender(client, { iface: 'eth0', frames: spec, count, rate });
  const delivered = sumUdp(await settledUdp(prefix)) - before;
  return { sent: sent.sent, delivered, offeredPps: sent.offeredPps, deliveredPps: delivered / sent.seconds };
}

async function directorForwarded(p: ActivePath): Promise<ForwarderStats | null> {
  if (!p.director) return null;
  return p.director.stats();
}

/** CPU of the workers (summed), their wake-ups, the control process's CPU and the counters, now. */
export async function costPoint(d: Forwarder): Promise<CostPoint> {
  let user = 0;
  let sys = 0;
  let wakeups = 0;
  for (const pid of d.workerPids) {
    const c = cpuUserSys(pid);
    user += c.user;
    sys += c.sys;
    wakeups += wakeupsOf(pid);
  }
  const controlTicks = d.controlPid ? cpuTicks(d.controlPid) : 0;
  return { user, sys, wakeups, controlTicks, stats: await d.stats(), atMs: Date.now() };
}

const workerTicks = (d: Forwarder) => d.workerPids.reduce((a, pid) => a + cpuTicks(pid), 0);

/** Ends a TCP-only visit (an IPv6 path) after the latency client: no UDP part. */
class TcpOnly extends Error {}

const round1 = (x: number) => Math.round(x * 10) / 10;

export async function measurePath(p: ActivePath, env: MeasureEnv, round: number): Promise<PathSample> {
  const { prefix, params: P, say } = env;
  const t0 = Date.now();
  const client = hostNamespace(prefix, 'client');
  const sample: PathSample = { path: p.name, round, ok: false, problems: [], values: {}, probes: [], seconds: 0 };
  const v = sample.values;
  const tck = ticksPerSecond();
  const fromVip0 = await fromVipAtDirector(prefix);
  const snap0 = await directorForwarded(p);
  const counts0 = await realCounts(prefix);
  let failed = 0;
  try {
    // TCP: a short untimed warm-up (its failures count), ab, then the sequential latency client.
    const url = p.tcpHost.includes(':') ? `http://[${p.tcpHost}]/` : `http://${p.tcpHost}/`;
    const warm = await runAb(client, url, { n: Math.min(200, P.ab_requests), c: Math.min(10, P.ab_concurrency) });
    failed += warm.failedTotal;
    const a0 = p.director ? await costPoint(p.director) : null;
    const ab = await runAb(client, url, { n: P.ab_requests, c: P.ab_concurrency });
    if (p.director && a0) {
      const c = costFigures(a0, await costPoint(p.director), tck);
      if (c.cpu_us_per_pkt !== undefined) v.cpu_us_per_pkt_tcp = round1(c.cpu_us_per_pkt);
    }
    failed += ab.failedTotal;
    v.conn_per_s = Math.round(ab.reqPerSec);
    say(`    ab -n ${P.ab_requests} -c ${P.ab_concurrency}: ${v.conn_per_s} conn/s, ${ab.failedTotal} failed`);
    if (env.aborted()) throw new Error('interrupted');

    const l0 = p.director ? await costPoint(p.director) : null;
    const lat = await runLatency(client, p.tcpHost, TCP_PORT, P.latency_connections);
    if (p.director && l0) {
      // What the director adds to a lone frame (sequential connections: it is idle between them),
      // and the CPU it burns meanwhile (busy polling spends a core here).
      const l1 = await costPoint(p.director);
      const res = residenceFigures(l0.stats, l1.stats);
      if (res) {
        v.frame_residence_p50_us = res.p50_us;
        v.frame_residence_p99_us = res.p99_us;
      }
      const c = costFigures(l0, l1, tck);
      if (c.cpu_share !== undefined) v.cpu_share_latency = c.cpu_share;
    }
    failed += lat.errors;
    if (lat.errors) sample.problems.push(`latency client: ${lat.errors} failed connections (${lat.firstError})`);
    if (lat.connectUs.length) {
      v.connect_p50_us = round1(percentile(lat.connectUs, 50));
      v.connect_p90_us = round1(percentile(lat.connectUs, 90));
      v.connect_p99_us = round1(percentile(lat.connectUs, 99));
      v.request_p50_us = round1(percentile(lat.requestUs, 50));
      v.request_p90_us = round1(percentile(lat.requestUs, 90));
      v.request_p99_us = round1(percentile(lat.requestUs, 99));
    }
    say(`    ${lat.connectUs.length} sequential connections: connect p50/p99 ${v.connect_p50_us}/${v.connect_p99_us} µs, +request p50/p99 ${v.request_p50_us}/${v.request_p99_us} µs` +
      (v.frame_residence_p50_us !== undefined ? `, residence p50/p99 ${v.frame_residence_p50_us}/${v.frame_residence_p99_us} µs` : '') +
      (v.cpu_share_latency !== undefined ? `, worker CPU ${Math.round((v.cpu_share_latency ?? 0) * 100)} % of a core` : ''));
    if (env.aborted()) throw new Error('interrupted');

    // UDP: the flood at the generator's own pace, with the director's and the machine's CPU. The
    // IPv6 paths stop here: the issue asks for their connection rate and latency.
    if (p.udpDst === null) throw new TcpOnly();
    const cfg = frameSpec({ ...p, udpDst: p.udpDst }, P.udp_flows, P.frame_bytes);
    const d0 = p.director ? await costPoint(p.director) : null;
    const flood = await udpShot(prefix, cfg, P.flood_packets);
    const d1 = p.director ? await costPoint(p.director) : null;
    if (d0 && d1) {
      const c = costFigures(d0, d1, tck);
      for (const k of ['cpu_us_per_pkt', 'cpu_user_us_per_pkt', 'cpu_sys_us_per_pkt', 'control_cpu_us_per_pkt', 'wakeups_per_kpkt', 'frames_per_wakeup', 'frames_per_send'] as const) {
        if (c[k] !== undefined) v[k] = c[k];
      }
      const res = residenceFigures(d0.stats, d1.stats);
      if (res) {
        v.flood_residence_p50_us = res.p50_us;
        v.flood_residence_p99_us = res.p99_us;
      }
      if (d1.stats.backend) sample.backend = d1.stats.backend;
    }
    const acc = floodAccounting(flood.sent, flood.delivered, d0?.stats ?? null, d1?.stats ?? null);
    v.kernel_drops = acc.kernel_drops;
    v.loss_accounted = acc.loss_accounted;
    sample.flood = flood;
    v.pps_offered = Math.round(flood.offeredPps);
    v.pps_delivered = Math.round(flood.deliveredPps);
    sample.probes.push({ ...flood, rate: 0, loss: lossOf(flood), pass: lossOf(flood) <= P.loss_tolerance });
    say(`    flood ${flood.sent} frames: offered ${v.pps_offered} pps, delivered ${v.pps_delivered} pps (${(lossOf(flood) * 100).toFixed(2)} % lost)` +
      (v.cpu_us_per_pkt !== undefined ? `, worker ${v.cpu_us_per_pkt} µs/pkt (user ${v.cpu_user_us_per_pkt}, sys ${v.cpu_sys_us_per_pkt}), ${v.frames_per_wakeup} frames/wake-up` : '') +
      `, kernel drops ${v.kernel_drops ?? 'n/a'}, accounted ${v.loss_accounted}`);
    if (env.aborted()) throw new Error('interrupted');

    // The loss-free search: at the ceiling when the flood lost nothing, else bisection from the
    // delivered rate downwards.
    if (lossOf(flood) <= P.loss_tolerance) {
      v.loss_free_pps = Math.round(flood.offeredPps);
      sample.lossFreeAtGeneratorCeiling = true;
      say(`    loss-free at the generator's ceiling: ${v.loss_free_pps} pps`);
    } else {
      let pacedTicks = 0;
      let pacedFwd = 0;
      const res = await searchLossFree(
        async (rate) => {
          if (env.aborted()) throw new Error('interrupted');
          const w0 = p.director ? workerTicks(p.director) : 0;
          const f0 = await directorForwarded(p);
          const o = await udpShot(prefix, cfg, Math.max(1000, Math.round(rate * P.probe_seconds)), rate);
          const f1 = await directorForwarded(p);
          if (p.director && f0 && f1) {
            pacedTicks += workerTicks(p.director) - w0;
            pacedFwd += f1.forwarded - f0.forwarded;
          }
          say(`      ${rate} pps asked: offered ${Math.round(o.offeredPps)}, delivered ${Math.round(o.deliveredPps)} (${(lossOf(o) * 100).toFixed(3)} % lost)`);
          return o;
        },
        // Up to twice what the flood delivered: trafgen's flood, unpaced and starved of CPU on a busy
        // machine, may offer less than the path can take when paced.
        { lo: 0, hi: Math.max(flood.offeredPps, 2 * flood.deliveredPps), first: flood.deliveredPps * 0.9, probes: P.probes, tolerance: P.loss_tolerance },
      );
      sample.probes.push(...res.probes);
      v.loss_free_pps = res.lossFreePps === null ? 0 : Math.round(res.lossFreePps);
      if (pacedFwd > 0) v.cpu_us_per_pkt_paced = round1((pacedTicks * 1e6) / tck / pacedFwd);
      // No paced probe lost anything above the figure, and the best one was sent slower than asked:
      // the sender, starved of CPU, set the limit, not the path.
      const best = res.probes.filter((q) => q.pass).sort((a, b) => b.offeredPps - a.offeredPps)[0];
      if (best && best.offeredPps < 0.9 * best.rate && !res.probes.some((q) => !q.pass && q.offeredPps > best.offeredPps)) {
        sample.lossFreeAtGeneratorCeiling = true;
      }
      say(`    highest loss-free rate found: ${v.loss_free_pps} pps`);
    }
    if (p.director) {
      v.worker_rss_kib = p.director.workerPids.reduce((a, pid) => a + memOf(pid).rssKib, 0);
      if (p.director.controlPid) v.control_rss_kib = memOf(p.director.controlPid).rssKib;
    }
  } catch (e) {
    if (!(e instanceof TcpOnly)) sample.problems.push(`step failed: ${(e as Error).message}`);
  }
  if (p.director && p.udpDst === null) {
    v.worker_rss_kib = p.director.workerPids.reduce((a, pid) => a + memOf(pid).rssKib, 0);
    if (p.director.controlPid) v.control_rss_kib = memOf(p.director.controlPid).rssKib;
  }

  // Correctness over the whole visit.
  const fromVip = (await fromVipAtDirector(prefix)) - fromVip0;
  const snap1 = await directorForwarded(p).catch(() => null);
  const viaDirector = fromVip + (snap0 && snap1 ? snap1.fromVip - snap0.fromVip : 0);
  v.failed_requests = failed;
  v.replies_via_director = viaDirector;
  const counts1 = await realCounts(prefix);
  sample.perReal = {
    tcpSyn: Object.fromEntries(BENCH_REALS.map((h) => [h, counts1[h]!.syn - counts0[h]!.syn])),
    udp: Object.fromEntries(BENCH_REALS.map((h) => [h, counts1[h]!.udp - counts0[h]!.udp])),
  };
  if (failed > 0) sample.problems.push(`${failed} failed requests`);
  if (viaDirector > 0) sample.problems.push(`${viaDirector} frames from the VIP ${p.udpDst === null ? VIP6 : VIP} reached the director`);
  sample.ok = sample.problems.length === 0;
  sample.seconds = Math.round((Date.now() - t0) / 100) / 10;
  return sample;
}
