/**
 * What a userspace forwarder's frame costs, from two readings taken around a load (pure): CPU per
 * forwarded frame, split into user and system time (/proc/PID/stat), wake-ups per frame (voluntary
 * context switches: the times the worker slept in poll/epoll and was woken by a frame), frames per
 * wake-up and per send() (cref counts its send() calls), the frames lost and counted (kernel ring
 * drops, send errors) against what the generator sent, and the residence percentiles.
 */
import type { ForwarderStats } from './paths.ts';
import { histogramDelta, histogramQuantile } from './stats.ts';

export interface CostPoint {
  /** utime and stime of the worker processes, summed, in clock ticks. */
  user: number;
  sys: number;
  /** Voluntary context switches of the workers' main threads, summed. */
  wakeups: number;
  /** CPU ticks of the control process (dsrlb run), 0 when there is none. */
  controlTicks: number;
  stats: ForwarderStats;
  /** Wall clock, ms. */
  atMs: number;
}

export interface CostFigures {
  cpu_us_per_pkt?: number;
  cpu_user_us_per_pkt?: number;
  cpu_sys_us_per_pkt?: number;
  control_cpu_us_per_pkt?: number;
  wakeups_per_kpkt?: number;
  frames_per_wakeup?: number;
  frames_per_send?: number;
  /** Worker CPU time / wall time over the interval (1 = one core busy all the time). */
  cpu_share?: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function costFigures(a: CostPoint, b: CostPoint, ticksPerSecond: number): CostFigures {
  const out: CostFigures = {};
  const wallS = (b.atMs - a.atMs) / 1000;
  const ticks = b.user + b.sys - a.user - a.sys;
  if (wallS > 0) out.cpu_share = r3(ticks / ticksPerSecond / wallS);
  const fwd = b.stats.forwarded - a.stats.forwarded;
  if (fwd <= 0) return out;
  const us = (t: number) => (t * 1e6) / ticksPerSecond / fwd;
  out.cpu_us_per_pkt = r2(us(ticks));
  out.cpu_user_us_per_pkt = r2(us(b.user - a.user));
  out.cpu_sys_us_per_pkt = r2(us(b.sys - a.sys));
  out.control_cpu_us_per_pkt = r3(us(b.controlTicks - a.controlTicks));
  const w = b.wakeups - a.wakeups;
  out.wakeups_per_kpkt = r2((w * 1000) / fwd);
  out.frames_per_wakeup = r2(fwd / Math.max(1, w));
  if (typeof a.stats.sends === 'number' && typeof b.stats.sends === 'number' && b.stats.sends > a.stats.sends) {
    out.frames_per_send = r2(fwd / (b.stats.sends - a.stats.sends));
  }
  return out;
}

export interface FloodAccounting {
  /** Frames the kernel dropped at the forwarder's ring during the flood; null when it does not count them. */
  kernel_drops: number | null;
  /** (delivered + counted drops) / sent: 1 when every lost frame was counted somewhere. */
  loss_accounted: number;
}

export function floodAccounting(sent: number, delivered: number, a: ForwarderStats | null, b: ForwarderStats | null): FloodAccounting {
  let drops: number | null = null;
  let counted = 0;
  if (a && b && typeof a.kernelDrops === 'number' && typeof b.kernelDrops === 'number') {
    drops = b.kernelDrops - a.kernelDrops;
    counted += drops;
  }
  if (a && b && typeof a.sendErrors === 'number' && typeof b.sendErrors === 'number') counted += b.sendErrors - a.sendErrors;
  const acc = sent > 0 ? (delivered + counted) / sent : 0;
  return { kernel_drops: drops, loss_accounted: Math.round(acc * 1e6) / 1e6 };
}

/** p50 and p99 of the residence between two readings, µs; null when the forwarder has no histogram or none grew. */
export function residenceFigures(a: ForwarderStats | null, b: ForwarderStats | null): { p50_us: number; p99_us: number } | null {
  if (!b?.residence) return null;
  const d = histogramDelta(a?.residence ?? null, b.residence);
  if (!d || d.count <= 0) return null;
  const p50 = histogramQuantile(d, 0.5);
  const p99 = histogramQuantile(d, 0.99);
  if (p50 === null || p99 === null) return null;
  return { p50_us: Math.round(p50 * 1e7) / 10, p99_us: Math.round(p99 * 1e7) / 10 };
}
