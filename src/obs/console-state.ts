/**
 * The live web console's model (dsrlb run/ha --http), pure: the table, health and rates of one
 * moment turned into the JSON the page draws, a short rate history per real for its charts, and a
 * bounded list of events (health changes, quiesce/restore, reloads with their difference,
 * failovers, ARP seen for a VIP from another host). Time is an argument (wall-clock ms, what the
 * browser shows); nothing here formats HTML — the page puts every string in as text.
 */
import { endpointToString } from '../model/index.ts';
import type { RateReport, Rates } from './rate.ts';
import { realKey, serviceKey, type ServiceId, type TableSnapshot } from './table.ts';

/** One rate-history point: wall-clock ms, packets/s in and out, bytes/s in and out. */
export type RatePoint = [number, number, number, number, number];

export interface ConsoleHealth {
  up: boolean;
  /** Wall-clock ms of the last check (null: none yet). */
  lastCheckAt: number | null;
  lastOk: boolean | null;
  detail: string | null;
  latencyMs: number | null;
  checks: number;
  failures: number;
}

export interface ConsoleReal {
  key: string;
  /** "192.168.0.8:80", or for IPv6 "[2001:db8::21]:80" as ipvsadm writes it */
  name: string;
  /** IPv4; for an IPv6 real the fold of addr6. */
  addr: number;
  /** An IPv6 real: its address, canonical text. */
  addr6?: string;
  port: number;
  weight: number;
  /** The weight the configuration gives it (what "restore" puts back), when known. */
  configWeight: number | null;
  active: number;
  inactive: number;
  persistent: number;
  mac: string | null;
  local: boolean;
  health: ConsoleHealth | null;
  rates: Rates;
  /** The last minutes (the full state); the compact state carries only `point`, the newest one. */
  history?: RatePoint[];
  point?: RatePoint | null;
}

export interface ConsoleService {
  key: string;
  /** "TCP 192.168.0.10:80", or for IPv6 "TCP [2001:db8::10]:80" */
  name: string;
  proto: 'tcp' | 'udp';
  /** IPv4; for an IPv6 service the fold of vip6. */
  vip: number;
  /** An IPv6 service: its VIP, canonical text. */
  vip6?: string;
  port: number;
  scheduler: string;
  persistent: number;
  /** The health check as configured ("negotiate http GET /index.html expect ..."), when known. */
  check: string | null;
  conns: number;
  rates: Rates;
  reals: ConsoleReal[];
}

export interface ConsoleHaNode {
  name: string;
  state: string;
  heard?: boolean;
  dead?: boolean;
  lastHeartbeatAgoMs?: number | null;
}

export interface ConsoleHa {
  self: ConsoleHaNode;
  peer: ConsoleHaNode;
  /** The node that answers for the VIP ('nobody' when neither is active). */
  vipHolder: string;
  preferred: string;
  failovers: Array<{ at: number; from: string; to: string; reason: string }>;
}

export type ConsoleEventKind = 'health' | 'quiesce' | 'restore' | 'weight' | 'reload' | 'failover' | 'arp' | 'write' | 'info';

export interface ConsoleEvent {
  id: number;
  at: number;
  kind: ConsoleEventKind;
  text: string;
  /** Further lines (a reload's difference, one change a line). */
  lines?: string[];
}

export interface ConsoleLadder {
  id: number;
  at: number;
  /** "192.168.0.100:40000 → 192.168.0.10:80 → 192.168.0.9:80" */
  title: string;
  /** Where the page fetches the SVG from (served as an image, never inlined). */
  url: string;
}

export interface ConsoleState {
  at: number;
  mode: 'director' | 'ha';
  /** Writes are possible (the server was given --http-token). */
  writable: boolean;
  active: boolean | null;
  services: ConsoleService[];
  ha: ConsoleHa | null;
}

/** Per-real health as the console wants it, keyed by realKey(service, addr, port). */
export type HealthByReal = ReadonlyMap<string, ConsoleHealth>;

export interface ServiceExtra {
  check: string | null;
  /** realKey -> configured weight. */
  weights: ReadonlyMap<string, number>;
}

export interface ConsoleModelOptions {
  mode: 'director' | 'ha';
  writable: boolean;
  /** Rate points kept per real (default 150: five minutes of 2 s ticks). */
  historyPoints?: number;
  /** Events kept (default 200). */
  maxEvents?: number;
}

const ZERO: Rates = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

export class ConsoleModel {
  private readonly history = new Map<string, RatePoint[]>();
  private lastRateAt = -1;
  private readonly events: ConsoleEvent[] = [];
  private nextEvent = 1;
  private state: ConsoleState;

  constructor(private readonly o: ConsoleModelOptions) {
    this.state = { at: 0, mode: o.mode, writable: o.writable, active: null, services: [], ha: null };
  }

  /**
   * A new moment: the packet path's table, the estimator's report, health and configuration facts.
   * A rate point is added to each real's history when the report is newer than the last one seen.
   */
  update(now: number, snap: TableSnapshot & { active?: boolean }, rates: RateReport | null, health: HealthByReal, extra: ReadonlyMap<string, ServiceExtra>): ConsoleState {
    const rateBy = new Map<string, Rates>();
    for (const s of rates?.services ?? []) {
      rateBy.set(serviceKey(s), s.rates);
      for (const r of s.reals) rateBy.set(realKey(s, r.addr, r.port, r.addr6), r.rates);
    }
    const newTick = rates !== null && rates.at !== this.lastRateAt;
    if (rates) this.lastRateAt = rates.at;
    const max = this.o.historyPoints ?? 150;
    const seen = new Set<string>();
    const services: ConsoleService[] = snap.services.map((s) => {
      // An IPv6 service is named by vip6 (spec.vip holds only its fold), its reals by addr6.
      const id: ServiceId = s.vip6 !== undefined ? { ...s.spec, vip6: s.vip6 } : s.spec;
      const sk = serviceKey(id);
      const ex = extra.get(sk);
      return {
        key: sk,
        name: `${s.spec.proto.toUpperCase()} ${endpointText(s.spec.vip, s.spec.port, s.vip6)}`,
        proto: s.spec.proto,
        vip: s.spec.vip,
        ...(s.vip6 !== undefined ? { vip6: s.vip6 } : {}),
        port: s.spec.port,
        scheduler: s.spec.scheduler,
        persistent: s.spec.persistent ?? 0,
        check: ex?.check ?? null,
        conns: s.conns,
        rates: rateBy.get(sk) ?? ZERO,
        reals: s.reals.map((r) => {
          const rk = realKey(id, r.addr, r.port, r.addr6);
          seen.add(rk);
          const rt = rateBy.get(rk) ?? ZERO;
          let h = this.history.get(rk);
          if (!h) this.history.set(rk, (h = []));
          if (newTick) {
            h.push([now, rt.inpps, rt.outpps, rt.inbps, rt.outbps]);
            if (h.length > max) h.splice(0, h.length - max);
          }
          return {
            key: rk,
            name: endpointText(r.addr, r.port, r.addr6),
            addr: r.addr,
            ...(r.addr6 !== undefined ? { addr6: r.addr6 } : {}),
            port: r.port,
            weight: r.weight,
            configWeight: ex?.weights.get(rk) ?? null,
            active: r.activeConns,
            inactive: r.inactConns,
            persistent: r.persistConns,
            mac: r.mac ?? null,
            local: r.local ?? false,
            health: health.get(rk) ?? null,
            rates: rt,
            history: h.slice(),
          };
        }),
      };
    });
    for (const k of [...this.history.keys()]) if (!seen.has(k)) this.history.delete(k);
    this.state = { ...this.state, at: now, active: snap.active ?? null, services };
    return this.state;
  }

  setHa(ha: ConsoleHa | null): void {
    this.state = { ...this.state, ha };
  }

  current(): ConsoleState {
    return this.state;
  }

  /**
   * The state without the rate histories, each real carrying its newest point only: what is sent
   * every second to pages that already have the history (they append the point).
   */
  compact(): ConsoleState {
    return {
      ...this.state,
      services: this.state.services.map((s) => ({
        ...s,
        reals: s.reals.map(({ history, ...r }) => ({ ...r, point: history?.[history.length - 1] ?? null })),
      })),
    };
  }

  /** Records an event; returns it (the caller sends it to the open pages). */
  event(now: number, kind: ConsoleEventKind, text: string, lines?: string[]): ConsoleEvent {
    const ev: ConsoleEvent = { id: this.nextEvent++, at: now, kind, text, ...(lines && lines.length ? { lines } : {}) };
    this.events.push(ev);
    const max = this.o.maxEvents ?? 200;
    if (this.events.length > max) this.events.splice(0, this.events.length - max);
    return ev;
  }

  recentEvents(): ConsoleEvent[] {
    return this.events.slice();
  }
}

/** The health check of a virtual service in one line, as the page shows it. */
export function describeCheck(v: { checktype: string; service: string; request: string; receive: string; checkcommand: string; httpmethod?: string; virtualhost?: string | null }): string {
  const parts = [v.checktype];
  if (v.checktype === 'negotiate' || v.checktype === 'combined') {
    parts.push(v.service);
    if (v.service === 'http' || v.service === 'https') parts.push(`${v.httpmethod ?? 'GET'} ${v.request}${v.virtualhost ? ` (Host: ${v.virtualhost})` : ''}`);
    else if (v.request) parts.push(`request ${JSON.stringify(v.request)}`);
    if (v.receive) parts.push(`expect ${JSON.stringify(v.receive)}`);
  }
  if ((v.checktype === 'external' || v.checktype === 'external-perl') && v.checkcommand) parts.push(v.checkcommand);
  return parts.join(' ');
}

/** "10.0.0.1:80", or "[2001:db8::10]:80" for an IPv6 address (as ipvsadm writes them). */
function endpointText(addr: number, port: number, addr6: string | undefined): string {
  return addr6 !== undefined ? `[${addr6}]:${port}` : endpointToString(addr, port);
}

/** "a real named by address": used by event texts. */
export function realName(proto: string, vip: number, port: number, addr: number, rport: number): string {
  return `${proto.toUpperCase()} ${endpointToString(vip, port)} → ${endpointToString(addr, rport)}`;
}
