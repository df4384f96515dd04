/** Fake time and fake checkers for the runner tests. */
import type { Clock } from '../../src/ports/index.ts';
import type {
  CheckerRegistry, CheckResult, CheckSpec, FallbackEvent, HealthSink, MaintenanceProbe, RealChangeEvent, CheckEvent,
} from '../../src/health/index.ts';
import { ipToString } from '../../src/model/index.ts';

/** Lets every promise that is ready settle (the runner's check chains are microtasks and callbacks). */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

export class FakeClock implements Clock {
  t = 0;
  private timers: { ms: number; next: number; fn: () => void; live: boolean }[] = [];
  now(): number { return this.t; }
  every(ms: number, fn: () => void): () => void {
    const tm = { ms, next: this.t + ms, fn, live: true };
    this.timers.push(tm);
    return () => { tm.live = false; };
  }
  /** Moves time forward, firing every timer on its way (in time order), settling promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
  get liveTimers(): number { return this.timers.filter((x) => x.live).length; }
}

/** The real a spec is about (address, or the host of an http URL). */
export function targetOf(spec: CheckSpec): string {
  switch (spec.checker) {
    case 'http': return new URL(spec.url).hostname;
    case 'external': return spec.args[2]!;
    case 'none': return 'none';
    default: return spec.address;
  }
}

export type Behaviour = 'ok' | 'fail' | 'hang' | { after: number; ok: boolean };

export interface Call { target: string; checker: string; at: number; spec: CheckSpec }

/** Checkers that answer per real as told: at once, never (until aborted), or after some fake ms. */
export function fakeCheckers(clock: FakeClock) {
  const behaviour = new Map<string, Behaviour>();
  const calls: Call[] = [];
  const pending: { until: number; resolve: () => void }[] = [];
  const check = async (spec: CheckSpec, signal: AbortSignal): Promise<CheckResult> => {
    const target = targetOf(spec);
    calls.push({ target, checker: spec.checker, at: clock.now(), spec });
    const b = behaviour.get(target) ?? 'ok';
    if (b === 'ok') return { ok: true, detail: '200 OK' };
    if (b === 'fail') return { ok: false, detail: '500 Internal Server Error' };
    return new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve({ ok: false, detail: 'aborted' }));
      if (b !== 'hang') pending.push({ until: clock.now() + b.after, resolve: () => resolve({ ok: b.ok, detail: b.ok ? 'slow ok' : 'slow fail' }) });
    });
  };
  const registry = Object.fromEntries(
    ['connect', 'http', 'simpletcp', 'dns', 'ping', 'external', 'none'].map((k) => [k, check]),
  ) as unknown as CheckerRegistry;
  /** Resolves the slow checks whose time has come (call after clock.advance). */
  const release = async (): Promise<void> => {
    for (const p of pending.filter((x) => x.until <= clock.now())) {
      pending.splice(pending.indexOf(p), 1);
      p.resolve();
    }
    await flush();
  };
  return { registry, behaviour, calls, release };
}

export function recordingSink() {
  const changes: RealChangeEvent[] = [];
  const fallbacks: FallbackEvent[] = [];
  const checks: CheckEvent[] = [];
  const sink: HealthSink = {
    onChange: (e) => changes.push(e), onFallback: (e) => fallbacks.push(e), onCheck: (e) => checks.push(e),
  };
  /** `10.0.0.2 down weight=0` style lines, for compact assertions. */
  const lines = (): string[] => changes.map((c) => `${ipToString(c.real.addr)} ${c.up ? 'up' : 'down'} ${c.action}${c.action === 'remove' ? '' : `=${c.weight}`}`);
  const fbLines = (): string[] => fallbacks.map((f) => [f.action ? `fallback ${f.action}` : '', f.commandLine ?? ''].filter(Boolean).join(' + '));
  return { sink, changes, fallbacks, checks, lines, fbLines };
}

/** Maintenance files as a set of names; no host names unless given. */
export function fakeMaintenance(hostnames: Record<string, string> = {}) {
  const files = new Set<string>();
  const asked: string[][] = [];
  const probe: MaintenanceProbe = {
    find: async (_dir, names) => { asked.push([...names]); return names.find((n) => files.has(n)) ?? null; },
    hostname: async (ip) => hostnames[ip] ?? null,
  };
  return { probe, files, asked };
}
