/**
 * HealthMonitor: runs the checks of every real of a configuration and turns their results into table
 * changes through the pure policy (policy.ts). Time comes from the Clock port: one repeating tick
 * (tickMs) looks for due checks, so tests drive it with a fake clock.
 *
 * - Each real is checked every checkinterval. Check starts are staggered: the first round is spread
 *   over startSpreadMs, later rounds over the whole interval (real i of n: offset i/n of it).
 * - Checks run concurrently and independently: a slow check delays nobody else. A real never has
 *   two checks at once; a round that comes while its check still runs is skipped (and counted).
 *   Every check is bounded by its own timeout, and the runner gives up on it `guardMs` later.
 * - update(cfg) applies a reloaded configuration: reals that stay keep their health state.
 */
import type { LdirectordConfig, RealServer, VirtualService } from '../config/index.ts';
import type { Clock, Logger } from '../ports/index.ts';
import { silentLogger } from '../ports/index.ts';
import { defaultCheckers } from './checks/index.ts';
import { fsMaintenanceProbe, shellCommandRunner, type CommandRunner, type MaintenanceProbe } from './host.ts';
import { maintenanceNames } from './maintenance.ts';
import {
  nextKind, reconcileVirtual, startVirtual, step, type CheckOutcome, type FallbackChange, type RealChange,
  type VirtualHealthState, type VirtualPolicySettings,
} from './policy.ts';
import { addressText, policySettingsFor, realKey, realRef, specFor, virtualKey, virtualRef, type SpecResult } from './spec.ts';
import {
  specBoundMs, type Checker, type CheckerRegistry, type CheckKind, type HealthSink, type HealthUpdateSummary, type RealHealthStatus,
  type RealRef, type VirtualHealthStatus, type VirtualRef,
} from './types.ts';

export interface HealthMonitorOptions {
  clock: Clock;
  sink: HealthSink;
  /** Replaces some or all of the real checkers (tests inject fakes). */
  checkers?: Partial<CheckerRegistry>;
  maintenance?: MaintenanceProbe;
  runCommand?: CommandRunner;
  logger?: Logger;
  /** Scheduling granularity (default 100 ms). */
  tickMs?: number;
  /** The first round of checks is spread over this (default 1000 ms, at most the interval). */
  startSpreadMs?: number;
  /** How long past its own timeout the runner waits for a check before failing it (default 1000 ms). */
  guardMs?: number;
  /**
   * Whether a real is already in the director's table with a weight > 0 when checking starts (or
   * when it appears in a reload). ldirectord's ld_start() keeps such reals up and puts every other
   * real down until its first successful check. Default: no real is (a fresh table).
   */
  inTable?: (virtual: VirtualRef, real: RealRef) => boolean;
}

interface InFlight {
  token: number;
  kind: CheckKind;
  started: number;
  deadline: number;
  abort: AbortController;
}

interface RealEntry {
  key: string;
  vs: VirtualService;
  r: RealServer;
  ref: RealRef;
  intervalMs: number;
  anchor: number;
  nextDue: number;
  inFlight: InFlight | null;
  gone: boolean;
  checks: number;
  skipped: number;
  lastLatencyMs: number | null;
  lastError: string | null;
}

interface VirtualEntry {
  key: string;
  vs: VirtualService;
  ref: VirtualRef;
  settings: VirtualPolicySettings;
  state: VirtualHealthState;
  reals: Map<string, RealEntry>;
}

export class HealthMonitor {
  private cfg: LdirectordConfig;
  private readonly clock: Clock;
  private readonly sink: HealthSink;
  private readonly checkers: CheckerRegistry;
  private readonly maintenance: MaintenanceProbe;
  private readonly runCommand: CommandRunner;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly startSpreadMs: number;
  private readonly guardMs: number;
  private readonly inTable: (v: VirtualRef, r: RealRef) => boolean;
  private readonly virtuals = new Map<string, VirtualEntry>();
  private cancelTick: (() => void) | null = null;
  private started = false;
  private stopped = false;
  private seq = 0;

  constructor(cfg: LdirectordConfig, opts: HealthMonitorOptions) {
    this.cfg = cfg;
    this.clock = opts.clock;
    this.sink = opts.sink;
    this.checkers = { ...defaultCheckers(), ...opts.checkers };
    this.maintenance = opts.maintenance ?? fsMaintenanceProbe();
    this.runCommand = opts.runCommand ?? shellCommandRunner;
    this.log = opts.logger ?? silentLogger;
    this.tickMs = opts.tickMs ?? 100;
    this.startSpreadMs = opts.startSpreadMs ?? 1000;
    this.guardMs = opts.guardMs ?? 1000;
    this.inTable = opts.inTable ?? (() => false);
  }

  /** Puts the table in the starting state (events), then starts checking. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const now = this.clock.now();
    const fresh: RealEntry[] = [];
    for (const vs of this.cfg.virtuals) fresh.push(...this.addVirtual(vs, now));
    this.schedule(fresh, now, true);
    this.cancelTick = this.clock.every(this.tickMs, () => this.tick());
    this.tick();
  }

  /** Stops checking; checks in flight are aborted and their results ignored. */
  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelTick = null;
    for (const v of this.virtuals.values()) for (const e of v.reals.values()) this.drop(e);
  }

  /** Applies a reloaded configuration. Reals that stay (same virtual, address and port) keep their state. */
  update(cfg: LdirectordConfig): HealthUpdateSummary {
    this.cfg = cfg;
    const summary: HealthUpdateSummary = { added: [], removed: [], kept: [] };
    if (!this.started || this.stopped) return summary;
    const now = this.clock.now();
    const fresh: RealEntry[] = [];
    const wanted = new Map(cfg.virtuals.map((vs) => [virtualKey(vs), vs]));
    for (const [key, v] of this.virtuals) {
      if (wanted.has(key)) continue;
      for (const e of v.reals.values()) { this.drop(e); summary.removed.push(`${key} ${e.key}`); }
      this.virtuals.delete(key);
    }
    for (const [key, vs] of wanted) {
      const v = this.virtuals.get(key);
      if (!v) {
        const added = this.addVirtual(vs, now);
        fresh.push(...added);
        summary.added.push(...added.map((e) => `${key} ${e.key}`));
        continue;
      }
      const settings = policySettingsFor(vs);
      const res = reconcileVirtual(v.state, v.settings, settings, now, (rk) => {
        const r = vs.reals.find((x) => realKey(x) === rk)!;
        return this.inTable(virtualRef(vs), realRef(vs, r));
      });
      const newReals = new Map<string, RealEntry>();
      for (const r of vs.reals) {
        const rk = realKey(r);
        const e = v.reals.get(rk);
        if (e) {
          e.vs = vs; e.r = r; e.ref = realRef(vs, r);
          const interval = vs.checkinterval * 1000;
          if (interval !== e.intervalMs) {
            e.intervalMs = interval;
            e.nextDue = Math.min(e.nextDue, now + interval);
            e.anchor = e.nextDue;
          }
          newReals.set(rk, e);
          summary.kept.push(`${key} ${rk}`);
        } else {
          const ne = this.newEntry(vs, r, now);
          newReals.set(rk, ne);
          fresh.push(ne);
          summary.added.push(`${key} ${rk}`);
        }
      }
      for (const [rk, e] of v.reals) {
        if (!newReals.has(rk)) { this.drop(e); summary.removed.push(`${key} ${rk}`); }
      }
      v.vs = vs; v.reals = newReals; v.settings = settings; v.state = res.state;
      this.emitAll(v, res.changes, res.fallback);
    }
    this.schedule(fresh, now, false);
    this.tick();
    return summary;
  }

  /** Per real: health, failures, last check, latency and error (for metrics and logs). */
  status(): RealHealthStatus[] {
    const out: RealHealthStatus[] = [];
    for (const v of this.virtuals.values()) {
      for (const e of v.reals.values()) {
        const s = v.state.reals[e.key]!;
        const set = v.settings.reals[e.key]!;
        out.push({
          virtual: v.ref, real: e.ref, checktype: e.vs.checktype, up: s.up, weight: s.up ? set.weight : 0,
          failures: s.failures, failurecount: set.failurecount, maintenance: s.maintenance, since: s.since,
          lastCheck: s.lastCheck, lastOk: s.lastOk, lastLatencyMs: e.lastLatencyMs, lastError: e.lastError,
          lastDetail: s.lastDetail, checks: e.checks, skipped: e.skipped, checking: e.inFlight !== null,
        });
      }
    }
    return out;
  }

  /** Per virtual: how many reals are up, and whether the fallback server is in use. */
  virtualStatus(): VirtualHealthStatus[] {
    return [...this.virtuals.values()].map((v) => ({
      virtual: v.ref, reals: v.reals.size, realsUp: Object.values(v.state.reals).filter((r) => r.up).length,
      fallback: v.settings.fallback, fallbackActive: v.state.fallbackActive,
    }));
  }

  private addVirtual(vs: VirtualService, now: number): RealEntry[] {
    const key = virtualKey(vs);
    const ref = virtualRef(vs);
    const settings = policySettingsFor(vs);
    const reals = new Map<string, RealEntry>();
    for (const r of vs.reals) reals.set(realKey(r), this.newEntry(vs, r, now));
    const st = startVirtual(settings, now, (rk) => this.inTable(ref, reals.get(rk)!.ref));
    const v: VirtualEntry = { key, vs, ref, settings, state: st.state, reals };
    this.virtuals.set(key, v);
    this.emitAll(v, st.changes, st.fallback);
    return [...reals.values()];
  }

  private newEntry(vs: VirtualService, r: RealServer, now: number): RealEntry {
    return {
      key: realKey(r), vs, r, ref: realRef(vs, r), intervalMs: vs.checkinterval * 1000, anchor: now, nextDue: now,
      inFlight: null, gone: false, checks: 0, skipped: 0, lastLatencyMs: null, lastError: null,
    };
  }

  /** Spreads first checks over startSpreadMs and the later rounds over each interval. */
  private schedule(entries: RealEntry[], now: number, wholeInterval: boolean): void {
    const groups = new Map<number, RealEntry[]>();
    for (const e of entries) groups.set(e.intervalMs, [...(groups.get(e.intervalMs) ?? []), e]);
    for (const [interval, list] of groups) {
      const n = list.length;
      const spread = Math.min(this.startSpreadMs, interval);
      list.forEach((e, i) => {
        e.nextDue = now + Math.floor((i * spread) / n);
        e.anchor = wholeInterval ? now + Math.floor((i * interval) / n) : e.nextDue;
      });
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const v of this.virtuals.values()) {
      for (const e of v.reals.values()) {
        const f = e.inFlight;
        if (f && now >= f.deadline) {
          f.abort.abort();
          this.finish(v, e, f.token, { kind: f.kind, ok: false, detail: `no result within ${f.deadline - f.started} ms` });
        }
        if (now < e.nextDue) continue;
        if (e.inFlight) e.skipped++;
        else this.launch(v, e, now);
        const k = Math.max(0, Math.floor((now - e.anchor) / e.intervalMs) + 1);
        e.nextDue = e.anchor + k * e.intervalMs;
      }
    }
  }

  private launch(v: VirtualEntry, e: RealEntry, now: number): void {
    const kind = nextKind(v.state.reals[e.key]!, v.settings.reals[e.key]!);
    const spec: SpecResult | null = kind === 'on' || kind === 'off' ? null : specFor(e.vs, e.r, kind);
    const bound = spec && spec.ok ? specBoundMs(spec.spec) : 0;
    const token = ++this.seq;
    const abort = new AbortController();
    e.inFlight = { token, kind, started: now, deadline: now + bound + this.guardMs, abort };
    void this.run(v, e, token, kind, spec, abort.signal);
  }

  private async run(v: VirtualEntry, e: RealEntry, token: number, kind: CheckKind, spec: SpecResult | null, signal: AbortSignal): Promise<void> {
    let outcome: CheckOutcome | null;
    try {
      const dir = this.cfg.globals.maintenancedir;
      const file = dir ? await this.inMaintenance(dir, e) : null;
      if (e.inFlight?.token !== token) return;
      if (file) outcome = { kind, ok: false, forced: true, detail: `server in maintenance: ${dir}/${file}` };
      else if (kind === 'off') outcome = null;
      else if (kind === 'on') outcome = { kind, ok: true, detail: 'checktype on' };
      else if (!spec || !spec.ok) outcome = { kind, ok: false, detail: spec ? spec.problem.message : 'no check' };
      else {
        const checkSpec = spec.spec;
        const checker = this.checkers[checkSpec.checker] as Checker;
        const res = await checker(checkSpec, signal);
        outcome = { kind, ok: res.ok, detail: res.detail };
      }
    } catch (err) {
      outcome = { kind, ok: false, detail: `check failed to run: ${(err as Error).message}` };
    }
    this.finish(v, e, token, outcome);
  }

  private async inMaintenance(dir: string, e: RealEntry): Promise<string | null> {
    try {
      const ip = addressText(e.r);
      const host = await this.maintenance.hostname(ip);
      return await this.maintenance.find(dir, maintenanceNames(ip, e.r.port, host));
    } catch {
      return null;
    }
  }

  private finish(v: VirtualEntry, e: RealEntry, token: number, outcome: CheckOutcome | null): void {
    const f = e.inFlight;
    if (!f || f.token !== token || e.gone || this.stopped) return;
    e.inFlight = null;
    if (!outcome) return;
    const now = this.clock.now();
    const latency = Math.max(0, now - f.started);
    e.checks++;
    e.lastLatencyMs = latency;
    e.lastError = outcome.ok ? null : outcome.detail;
    const res = step(v.state, { real: e.key, outcome }, now, v.settings);
    v.state = res.state;
    this.safe(() => this.sink.onCheck?.({ virtual: v.ref, real: e.ref, kind: outcome.kind, ok: outcome.ok, detail: outcome.detail, latencyMs: latency, at: now }));
    if (res.note) this.log.info({ virtual: v.key, real: e.key, note: res.note }, `real ${e.key} (${v.key}): ${res.note}`);
    this.emitAll(v, res.change ? [res.change] : [], res.fallback);
  }

  private drop(e: RealEntry): void {
    e.gone = true;
    e.inFlight?.abort.abort();
    e.inFlight = null;
  }

  private emitAll(v: VirtualEntry, changes: RealChange[], fallback: FallbackChange[]): void {
    for (const c of changes) {
      const e = v.reals.get(c.real);
      if (!e) continue;
      const ev = { virtual: v.ref, real: e.ref, action: c.action, weight: c.weight, readd: c.readd, up: c.up, reason: c.reason };
      const state = c.action === 'remove' ? 'removed' : c.up ? 'up' : 'quiesced';
      this.log.info({ virtual: v.key, real: c.real, state, action: c.action, weight: c.weight, up: c.up, reason: c.reason },
        `real ${c.real} (${v.key}) ${state}, weight ${c.weight}: ${c.reason}`);
      this.safe(() => this.sink.onChange(ev));
    }
    for (const f of fallback) {
      const commandLine = f.command && v.settings.fallbackcommand ? `${v.settings.fallbackcommand} ${f.command}` : null;
      this.log.info({ virtual: v.key, action: f.action, command: f.command, reason: f.reason }, `fallback of ${v.key}: ${f.action ?? 'no change'}${f.command ? `, command ${f.command}` : ''} (${f.reason})`);
      this.safe(() => this.sink.onFallback({
        virtual: v.ref, fallback: f.target, action: f.action, weight: f.action === 'add' ? 1 : 0, command: f.command, commandLine, reason: f.reason,
      }));
      if (commandLine) {
        void this.runCommand(commandLine).then((r) => {
          if (r.code === 0) return;
          this.log.warn({ virtual: v.key, command: commandLine, code: r.code, signal: r.signal, error: r.error }, `fallbackcommand failed: ${commandLine}`);
        }, () => undefined);
      }
    }
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, `health sink failed: ${(err as Error).message}`);
    }
  }
}
