/**
 * --http ADDR for dsrlb run and dsrlb ha: wires the console's model (obs/console-state.ts) and
 * server (io/console-server.ts) to a running director. One timer, once a second whatever the
 * number of open pages: a snapshot of the table, the estimator's rates, the health checks' state,
 * the HA node's state; the state goes to every page as the same SSE message. Events and sampled
 * flows are pushed as they happen.
 */
import { performance } from 'node:perf_hooks';
import { realForwardPort, type LdirectordConfig } from '../config/index.ts';
import type { Director, HaStatus } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import type { RealHealthStatus } from '../health/index.ts';
import { readConsoleToken, startConsoleServer, type ConsoleServer, type ConsoleWrite, type MetricsSource } from '../io/index.ts';
import {
  ConsoleModel, describeCheck, describeControlChange, ESTIMATOR_PERIOD_MS, RateEstimator, realKey, serviceKey,
  type ConsoleEventKind, type ConsoleHa, type ConsoleHealth, type ConsoleLadder, type ServiceExtra,
} from '../obs/index.ts';
import type { Logger } from '../ports/index.ts';
import { foldIPv6, ipToString, ipv6ToString, parseIPv4, parseIPv6 } from '../model/index.ts';
import { sampleLadder } from './console-ladder.ts';

export interface ConsoleOptions {
  addr: string;
  tokenFile?: string;
  mode: 'director' | 'ha';
  director: Director;
  log: Logger;
  /** The estimator the director already runs (dsrlb run); otherwise the console runs its own. */
  rates?: RateEstimator;
  health?: () => RealHealthStatus[];
  config?: () => LdirectordConfig | null;
  ha?: () => ConsoleHa | null;
  metrics?: MetricsSource;
  /** Sampled new flows a second for the teaching view (default 2; 0 = none). */
  samplesPerSecond?: number;
}

export interface ConsoleHandle {
  readonly server: ConsoleServer;
  readonly model: ConsoleModel;
  event(kind: ConsoleEventKind, text: string, lines?: string[]): void;
  ladder(title: string, svg: string): void;
  stop(): Promise<void>;
}

/** Monotonic clock ms (performance.now(), what the health runner records) to wall-clock ms. */
const wall = (mono: number | null): number | null => (mono === null ? null : Math.round(Date.now() - (performance.now() - mono)));

function extrasOf(cfg: LdirectordConfig | null): Map<string, ServiceExtra> {
  const out = new Map<string, ServiceExtra>();
  for (const v of cfg?.virtuals ?? []) {
    if (v.protocol === 'fwm' || v.address === null) continue;
    const id = { proto: v.protocol, vip: v.address, port: v.port };
    const weights = new Map<string, number>();
    for (const r of v.reals) weights.set(realKey(id, r.address, realForwardPort(v, r)), r.weight);
    out.set(serviceKey(id), { check: describeCheck(v), weights });
  }
  return out;
}

const MAX_LADDERS = 5;

export async function startConsole(o: ConsoleOptions): Promise<ConsoleHandle> {
  const token = o.tokenFile ? readConsoleToken(o.tokenFile) : null;
  const model = new ConsoleModel({ mode: o.mode, writable: token !== null });
  const own = o.rates ? null : new RateEstimator();
  const rates = o.rates ?? own!;
  const ladders: Array<ConsoleLadder & { svg: string }> = [];
  let nextLadder = 1;
  let server: ConsoleServer | null = null;
  /** After an event the table has changed or is about to: a fresh state in 100 ms, not at the next second. */
  let soonTimer: NodeJS.Timeout | null = null;
  const soon = () => {
    soonTimer ??= setTimeout(() => {
      soonTimer = null;
      void tick();
    }, 100);
  };
  const emit = (kind: ConsoleEventKind, text: string, lines?: string[]) => {
    const ev = model.event(Date.now(), kind, text, lines);
    server?.broadcast('event', ev);
    soon();
  };
  /** Weights a console "quiesce" took away, for "restore". */
  const quiescedFrom = new Map<string, number>();
  // What `dsrlb ipvsadm -e -t VIP:PORT -r RIP:PORT -w W` does, through the same request to the packet path.
  const write = async (w: ConsoleWrite, from: string): Promise<string> => {
    const t = writeTarget(w);
    const key = `${w.proto}/${w.vip}/${w.port}/${w.addr}/${w.rport}`;
    const snap = await o.director.request({ op: 'snapshot' });
    // An IPv6 service or real is matched by its address text, never by its fold.
    const now = snap?.services.find((s) => s.spec.proto === t.svc.proto && s.vip6 === t.svc.vip6 && (t.svc.vip6 !== undefined || s.spec.vip === t.svc.vip) && s.spec.port === t.svc.port)
      ?.reals.find((r) => r.addr6 === t.addr6 && (t.addr6 !== undefined || r.addr === t.addr) && r.port === t.port);
    const svcName = `${w.proto.toUpperCase()} ${hostPort(w.vip, w.port)}`;
    if (!now) throw new DsrlbError('E_NO_REAL', `no real ${hostPort(w.addr, w.rport)} in ${svcName}`);
    let weight: number;
    if (w.action === 'weight') weight = w.weight!;
    else if (w.action === 'quiesce') {
      weight = 0;
      if (now.weight > 0) quiescedFrom.set(key, now.weight);
    } else {
      // Restore: the weight the quiesce took away, else the configured one, else 1.
      weight = quiescedFrom.get(key) ?? extrasOf(o.config?.() ?? null).get(serviceKey(t.svc))?.weights.get(realKey(t.svc, t.addr, t.port, t.addr6)) ?? 1;
      quiescedFrom.delete(key);
    }
    const req = { op: 'editReal' as const, svc: t.svc, addr: t.addr, ...(t.addr6 !== undefined ? { addr6: t.addr6 } : {}), port: t.port, changes: { weight } };
    o.log.info({ change: req, from, via: 'console' }, `runtime change from the web console: ${describeControlChange(req)}`);
    await o.director.request(req);
    const text = `${w.action}: ${svcName} → ${hostPort(w.addr, w.rport)} weight ${now.weight} → ${weight} (web console, ${from})`;
    emit(w.action, text);
    return text;
  };
  server = await startConsoleServer(o.addr, {
    state: () => model.current(),
    events: () => model.recentEvents(),
    ladders: () => ladders.map(({ svg: _svg, ...l }) => l),
    ladderSvg: (id) => ladders.find((l) => l.id === id)?.svg ?? null,
    metrics: o.metrics,
    write: token !== null ? (w, from) => write(w, from) : undefined,
  }, { token, log: o.log });

  /** MAC -> "192.168.0.8" for the reals of the last snapshot: names on the ladder's lanes. */
  let realNames: Record<string, string> = {};
  let busy = false;
  let lastOwnRate = 0;
  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const snap = await o.director.request({ op: 'snapshot' }, 2000);
      if (!snap) return;
      realNames = {};
      for (const sv of snap.services) for (const r of sv.reals) if (r.mac) realNames[r.mac] = r.addr6 ?? ipToString(r.addr);
      if (own && snap.at - lastOwnRate >= ESTIMATOR_PERIOD_MS) {
        own.update(snap, snap.at);
        lastOwnRate = snap.at;
      }
      const health = new Map<string, ConsoleHealth>();
      for (const h of o.health?.() ?? []) {
        if (h.virtual.proto === 'fwm') continue;
        health.set(realKey({ proto: h.virtual.proto, vip: h.virtual.vip, port: h.virtual.port }, h.real.addr, h.real.port), {
          up: h.up, lastCheckAt: wall(h.lastCheck), lastOk: h.lastOk, detail: h.lastError ?? h.lastDetail,
          latencyMs: h.lastLatencyMs === null ? null : Math.round(h.lastLatencyMs), checks: h.checks, failures: h.failures,
        });
      }
      const extras = extrasOf(o.config?.() ?? null);
      // dsrlb ha serves the file's services at their configured weights: it runs no checks.
      if (!o.health) for (const e of extras.values()) if (e.check) e.check = `${e.check} (not run: dsrlb ha runs no health checks)`;
      model.update(Date.now(), snap, rates.report(), health, extras);
      if (o.ha) model.setHa(o.ha());
      server?.broadcast('state', model.compact());
    } catch {
      // the packet path is busy or stopping: the next second tries again
    } finally {
      busy = false;
    }
  }
  await tick();
  const timer = setInterval(() => void tick(), 1000);
  const handle: ConsoleHandle = {
    server,
    model,
    event: emit,
    ladder(title, svg) {
      const l = { id: nextLadder++, at: Date.now(), title, url: '', svg };
      l.url = `/ladder/${l.id}.svg`;
      ladders.push(l);
      if (ladders.length > MAX_LADDERS) ladders.shift();
      const { svg: _svg, ...pub } = l;
      server?.broadcast('ladder', pub);
    },
    async stop() {
      clearInterval(timer);
      if (soonTimer) clearTimeout(soonTimer);
      o.director.onPacketEvent = null;
      await o.director.request({ op: 'sample', perSecond: 0 }).catch(() => undefined);
      await server?.close();
      server = null;
    },
  };
  o.director.onPacketEvent = (m) => {
    if (m.ev === 'arpVip') {
      const what = m.ip6 ? `NDP for the VIP6 ${m.ip6} from another host, ${m.mac} (${m.op === 'reply' ? 'advertisement' : 'solicitation'})` : `ARP for the VIP ${ipToString(m.ip)} from another host, ${m.mac} (${m.op})`;
      handle.event('arp', `${what}; this director is ${m.active ? 'active: an address conflict' : 'standby'}`);
      return;
    }
    const l = sampleLadder(m, { config: o.config?.() ?? null, names: realNames, atMs: 0 });
    if (l) handle.ladder(l.title, l.svg);
  };
  await o.director.request({ op: 'sample', perSecond: o.samplesPerSecond ?? 2 }).catch((e: Error) => o.log.warn({ err: e.message }, 'the packet path does not sample flows'));
  return handle;
}

/** Finds the service and real a write names (dotted addresses in, u32 out). */
export function writeTarget(w: ConsoleWrite): { svc: { proto: 'tcp' | 'udp'; vip: number; port: number; vip6?: string }; addr: number; addr6?: string; port: number } {
  // validateWrite gave a dotted IPv4 address or a canonical IPv6 one; an IPv6 one travels as text
  // with its fold beside it, as ipvsadm's requests carry it.
  const v6 = w.vip.includes(':') ? parseIPv6(w.vip) : null;
  const a6 = w.addr.includes(':') ? parseIPv6(w.addr) : null;
  return {
    svc: { proto: w.proto as 'tcp' | 'udp', vip: v6 ? foldIPv6(v6) : parseIPv4(w.vip)!, port: w.port, ...(v6 ? { vip6: ipv6ToString(v6) } : {}) },
    addr: a6 ? foldIPv6(a6) : parseIPv4(w.addr)!, ...(a6 ? { addr6: ipv6ToString(a6) } : {}), port: w.rport,
  };
}

/** "10.0.0.1:80", "[2001:db8::10]:80". */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The HA part of the console's state from the node's status. */
export function haConsoleView(s: HaStatus, failovers: ConsoleHa['failovers']): ConsoleHa {
  const peerActive = s.peerHeard && !s.peerDead && s.peerState === 'active';
  return {
    self: { name: s.self, state: s.role },
    peer: { name: s.peer, state: s.peerDead ? 'dead' : s.peerState ?? 'unknown', heard: s.peerHeard, dead: s.peerDead, lastHeartbeatAgoMs: s.lastHeartbeatAgoMs },
    vipHolder: s.role === 'active' ? s.self : peerActive ? s.peer : 'nobody',
    preferred: s.preferred,
    failovers: failovers.slice(),
  };
}
