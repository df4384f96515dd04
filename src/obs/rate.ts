/**
 * ipvsadm --rate: the kernel's rate estimator (Linux 6.1 net/netfilter/ipvs/ip_vs_est.c) over
 * successive counter snapshots. Every 2 s the kernel takes the counters' growth since the last tick,
 * scales it (×2^9 for connections and packets, ×2^4 for bytes, both "per 2 s") and folds it into an
 * average with weight 1/4: avg += (sample - avg) >> 2. Reading rounds: (avg + 0x1FF) >> 10 for
 * connections and packets per second, (avg + 0xF) >> 5 for bytes per second.
 *
 * Pure: time is an argument. The caller feeds a snapshot at least every 2 s (the director runs a
 * 2 s timer); the ticks that fell since the last feed are run here, the counters' growth shared out
 * evenly among them when more than one tick was missed.
 */
import type { ServiceId, TableService, TableSnapshot } from './table.ts';
import { realKey, serviceKey } from './table.ts';

export const ESTIMATOR_PERIOD_MS = 2000;

export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** What a director answers to {op:'rate'}: plain JSON, joined to the table on (proto, vip, port). */
export interface RateReport {
  /** Time of the last tick (the snapshot clock). */
  at: number;
  services: Array<ServiceId & { rates: Rates; reals: Array<{ addr: number; port: number; addr6?: string; rates: Rates }> }>;
}

interface Counters {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/** One estimator (struct ip_vs_estimator): the last counters seen and the scaled averages. */
class Est {
  last: Counters = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  cps = 0;
  inpps = 0;
  outpps = 0;
  inbps = 0;
  outbps = 0;

  /** One 2 s tick with this growth of each counter. */
  tick(d: Counters): void {
    // Math.floor(x / 4) is the arithmetic shift right by 2 of the kernel's s64 difference.
    this.cps += Math.floor((d.conns * 512 - this.cps) / 4);
    this.inpps += Math.floor((d.inPkts * 512 - this.inpps) / 4);
    this.outpps += Math.floor((d.outPkts * 512 - this.outpps) / 4);
    this.inbps += Math.floor((d.inBytes * 16 - this.inbps) / 4);
    this.outbps += Math.floor((d.outBytes * 16 - this.outbps) / 4);
  }

  /** Runs `ticks` ticks that together saw the counters grow from `last` to `now`. */
  advance(now: Counters, ticks: number): void {
    // Counters that went down were zeroed (ipvsadm -Z) or belong to a new object of the same name:
    // the kernel starts such an estimator afresh.
    const keys = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const;
    if (keys.some((k) => now[k] < this.last[k])) {
      this.last = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
      this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
    }
    const total = {} as Counters;
    for (const k of keys) total[k] = now[k] - this.last[k];
    for (let i = 0; i < ticks; i++) {
      const share = {} as Counters;
      for (const k of keys) {
        const base = Math.floor(total[k] / ticks);
        share[k] = i === ticks - 1 ? total[k] - base * (ticks - 1) : base;
      }
      this.tick(share);
    }
    this.last = { ...now };
  }

  read(): Rates {
    return {
      cps: Math.floor((this.cps + 0x1ff) / 1024),
      inpps: Math.floor((this.inpps + 0x1ff) / 1024),
      outpps: Math.floor((this.outpps + 0x1ff) / 1024),
      inbps: Math.floor((this.inbps + 0xf) / 32),
      outbps: Math.floor((this.outbps + 0xf) / 32),
    };
  }
}

function counters(x: { conns: number; inPkts: number; inBytes: number; outPkts?: number; outBytes?: number }): Counters {
  return { conns: x.conns, inPkts: x.inPkts, outPkts: x.outPkts ?? 0, inBytes: x.inBytes, outBytes: x.outBytes ?? 0 };
}

export class RateEstimator {
  private readonly ests = new Map<string, Est>();
  private nextTick: number | null = null;
  private lastTickAt = 0;
  private latest: TableSnapshot | null = null;

  constructor(private readonly periodMs = ESTIMATOR_PERIOD_MS) {}

  /**
   * Feeds the counters as they are at `now` (ms, the snapshot's clock). The first call starts the
   * 2 s grid; a service or real first seen starts from zero counters, as a new one does in the kernel.
   */
  update(snap: TableSnapshot, now: number): void {
    this.latest = snap;
    if (this.nextTick === null) {
      this.nextTick = now + this.periodMs;
      this.lastTickAt = now;
      // Nothing elapsed yet: remember the counters as the starting point.
      this.sync(snap, 0);
      return;
    }
    if (now < this.nextTick) return;
    const ticks = 1 + Math.floor((now - this.nextTick) / this.periodMs);
    this.nextTick += ticks * this.periodMs;
    this.lastTickAt = this.nextTick - this.periodMs;
    this.sync(snap, ticks);
  }

  private sync(snap: TableSnapshot, ticks: number): void {
    const seen = new Set<string>();
    const feed = (key: string, c: Counters) => {
      seen.add(key);
      let e = this.ests.get(key);
      if (!e) this.ests.set(key, (e = new Est()));
      if (ticks === 0) e.last = { ...c }; // start-up: counters so far are history, not rate
      else e.advance(c, ticks);
    };
    for (const s of snap.services) {
      const id = idOf(s);
      feed(serviceKey(id), counters(s));
      for (const r of s.reals) feed(realKey(id, r.addr, r.port, r.addr6), counters(r));
    }
    for (const k of [...this.ests.keys()]) if (!seen.has(k)) this.ests.delete(k);
  }

  /** The rates now, for every service and real of the last snapshot fed. */
  report(): RateReport {
    const zero: Rates = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
    const rd = (k: string) => this.ests.get(k)?.read() ?? zero;
    return {
      at: this.lastTickAt,
      services: (this.latest?.services ?? []).map((s) => {
        const id = idOf(s);
        return {
          ...id,
          rates: rd(serviceKey(id)),
          reals: s.reals.map((r) => ({
            addr: r.addr, port: r.port, ...(r.addr6 !== undefined ? { addr6: r.addr6 } : {}),
            rates: rd(realKey(id, r.addr, r.port, r.addr6)),
          })),
        };
      }),
    };
  }
}

/** A service's identity for the rate keys: vip6 only for an IPv6 service (the IPv4 shape stays as it was). */
function idOf(s: TableService): ServiceId {
  const id: ServiceId = { proto: s.spec.proto, vip: s.spec.vip, port: s.spec.port };
  if (s.vip6 !== undefined) id.vip6 = s.vip6;
  return id;
}
