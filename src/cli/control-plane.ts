/**
 * ldirectord's control plane around a running director: health checks turn into table changes
 * (quiescent weight 0, removal, readdquiescent, fallback), every change of a real is one log line
 * with its reason, and the configuration is re-read on SIGHUP or, with autoreload=yes, when the
 * file changes — a broken new file is reported with file:line and the running table stays.
 */
import { statSync } from 'node:fs';
import { loadKeepalivedConfig, loadLdirectordConfig, type KeepalivedConfig, type KeepalivedParseOptions, type LdirectordConfig } from '../config/index.ts';
import { describeOp, diffServices, diffServices6, services6FromConfig, servicesFromConfig, type Director, type ServiceKeyMsg } from '../engine/index.ts';
import { ConfigErrors, isDsrlbError } from '../errors/index.ts';
import {
  HealthMonitor, validateChecks, type FallbackEvent, type RealChangeEvent, type RealRef, type VirtualRef,
} from '../health/index.ts';
import { systemClock } from '../io/index.ts';
import { endpointToString } from '../model/index.ts';
import type { Logger } from '../ports/index.ts';

/** Reads and validates an ldirectord.cf (parse errors and unsupported checks alike, with file:line). */
export function loadCheckedConfig(path: string): LdirectordConfig {
  const cfg = loadLdirectordConfig(path);
  const errs = validateChecks(cfg);
  if (errs.length) throw new ConfigErrors(errs);
  return cfg;
}

/** Reads and validates a keepalived.conf: its virtual servers' checks as for an ldirectord.cf. */
export function loadCheckedKeepalived(path: string, opts: KeepalivedParseOptions = {}): KeepalivedConfig {
  const cfg = loadKeepalivedConfig(path, opts);
  const errs = validateChecks(cfg.lvs);
  if (errs.length) throw new ConfigErrors(errs);
  return cfg;
}

const svcOf = (v: VirtualRef): ServiceKeyMsg | null => (v.proto === 'fwm' ? null : { proto: v.proto, vip: v.vip, port: v.port, ...(v.vip6 ? { vip6: v.vip6 } : {}) });
const ep = (addr: number, port: number, addr6?: string) => (addr6 !== undefined ? `[${addr6}]:${port}` : endpointToString(addr, port));
const name = (v: VirtualRef, r: { addr: number; port: number; addr6?: string }) => `${v.proto.toUpperCase()} ${ep(v.vip, v.port, v.vip6)} -> ${ep(r.addr, r.port, r.addr6)}`;
/** One key per real of a virtual, both families. */
const upKey = (proto: string, vip: number, vport: number, vip6: string | undefined, addr: number, addr6: string | undefined, port: number) =>
  `${proto}/${vip6 ?? vip}/${vport}/${addr6 ?? addr}/${port}`;

export class ControlPlane {
  private health: HealthMonitor | null = null;
  private cfg: LdirectordConfig;
  /** Table changes run one after another (each may need two requests: edit, else add). */
  private queue: Promise<void> = Promise.resolve();
  private mtime = 0;
  private stopWatch: (() => void) | null = null;
  /** Told of every health change, fallback and reload (the web console's event stream). */
  onEvent: ((kind: 'health' | 'reload', text: string, lines?: string[]) => void) | null = null;

  constructor(
    private readonly director: Director, private readonly log: Logger, private readonly path: string, cfg: LdirectordConfig,
    /** How the file is re-read on reload (a keepalived.conf gives its virtual servers' model). */
    private readonly load: (path: string) => LdirectordConfig = loadCheckedConfig,
  ) {
    this.cfg = cfg;
    this.mtime = mtimeOf(path);
  }

  /** Starts the checks. The reals were loaded at their configured weights: they count as in the table. */
  start(): void {
    this.health = new HealthMonitor(this.cfg, {
      clock: systemClock,
      logger: this.log,
      inTable: () => true,
      sink: { onChange: (ev) => this.onChange(ev), onFallback: (ev) => this.onFallback(ev) },
    });
    this.health.start();
    this.watch();
  }

  /** autoreload=yes: ldirectord looks at the file's modification time between check rounds. */
  private watch(): void {
    if (this.cfg.globals.autoreload && !this.stopWatch) {
      this.stopWatch = systemClock.every(1000, () => {
        if (mtimeOf(this.path) !== this.mtime) void this.reload('the file changed (autoreload)');
      });
    } else if (!this.cfg.globals.autoreload && this.stopWatch) {
      this.stopWatch();
      this.stopWatch = null;
    }
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = null;
    this.health?.stop();
  }

  status() {
    return this.health?.status() ?? [];
  }

  /** The configuration running now (the last one a reload accepted). */
  config(): LdirectordConfig {
    return this.cfg;
  }

  private reloading: Promise<boolean> = Promise.resolve(true);

  /**
   * Applies the difference to a newly read file. Returns false (table untouched) when it is broken.
   * Reloads run one after another: a SIGHUP during a reload waits for it.
   */
  reload(why: string): Promise<boolean> {
    const next = this.reloading.then(() => this.reloadNow(why));
    this.reloading = next.catch(() => false);
    return next;
  }

  private async reloadNow(why: string): Promise<boolean> {
    this.mtime = mtimeOf(this.path);
    let next: LdirectordConfig;
    let nextServices: ReturnType<typeof servicesFromConfig>;
    let nextServices6: ReturnType<typeof services6FromConfig>;
    try {
      next = this.load(this.path);
      // A file the live director cannot serve (a fwmark service, a method other than gate) is refused like a broken one.
      nextServices = servicesFromConfig(next);
      nextServices6 = services6FromConfig(next);
    } catch (e) {
      const errs = e instanceof ConfigErrors ? e.errors : [e as Error];
      for (const err of errs) this.log.error({ file: this.path, code: isDsrlbError(err) ? err.code : undefined }, `reload refused, running configuration kept: ${err.message}`);
      this.onEvent?.('reload', `reload refused (${why}): the running configuration is kept`, errs.map((e) => e.message));
      return false;
    }
    const ops = [...diffServices(servicesFromConfig(this.cfg), nextServices), ...diffServices6(services6FromConfig(this.cfg), nextServices6)];
    const up = new Map((this.health?.status() ?? []).map((s) => [upKey(s.virtual.proto, s.virtual.vip, s.virtual.port, s.virtual.vip6, s.real.addr, s.real.addr6, s.real.port), s.up]));
    this.log.info({ why, changes: ops.length }, 'reloading the configuration');
    this.onEvent?.('reload', `configuration reloaded (${why}): ${ops.length} change${ops.length === 1 ? '' : 's'}`, ops.map((op) => describeOp(op)));
    for (const op of ops) {
      // A real the checks hold down keeps weight 0: its new weight applies when it comes back up.
      if (op.op === 'editReal' && op.changes.weight !== undefined && up.get(upKey(op.svc.proto, op.svc.vip, op.svc.port, op.svc.vip6, op.addr, op.addr6, op.port)) === false) {
        delete op.changes.weight;
        if (Object.keys(op.changes).length === 0) continue;
      }
      this.log.info({ change: describeOp(op) }, 'reload');
      await this.enqueue(() => this.director.request(op).then(() => undefined));
    }
    this.cfg = next;
    this.watch();
    const summary = this.health?.update(next);
    if (summary) this.log.info(summary, 'health checks follow the new configuration');
    return true;
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const p = this.queue.then(fn).catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'table change failed'));
    this.queue = p;
    return p;
  }

  private onChange(ev: RealChangeEvent): void {
    const svc = svcOf(ev.virtual);
    if (!svc) return;
    // The health monitor has logged the change (one line with its reason); here it reaches the table.
    this.onEvent?.('health', `${name(ev.virtual, ev.real)} ${ev.up ? 'up' : 'down'}: ${ev.action === 'remove' ? 'removed from the table' : `weight ${ev.weight}`} (${ev.reason})`);
    void this.enqueue(() => this.applyReal(svc, ev.real, ev));
  }

  private async applyReal(svc: ServiceKeyMsg, r: RealRef, ev: RealChangeEvent): Promise<void> {
    const d = this.director;
    const who = { addr: r.addr, port: r.port, ...(r.addr6 !== undefined ? { addr6: r.addr6 } : {}) };
    if (ev.action === 'remove') {
      await d.request({ op: 'deleteReal', svc, ...who }).catch(ignoreMissing);
      return;
    }
    try {
      await d.request({ op: 'editReal', svc, ...who, changes: { weight: ev.weight } });
    } catch (e) {
      if (!isDsrlbError(e) || e.code !== 'E_NO_REAL') throw e;
      if (ev.up || ev.readd) await d.request(addRealOp(svc, r, ev.weight));
    }
  }

  private onFallback(ev: FallbackEvent): void {
    const svc = svcOf(ev.virtual);
    if (!svc || !ev.fallback || !ev.action) return;
    const fb = ev.fallback;
    this.log.info({ fallback: name(ev.virtual, fb), action: ev.action, reason: ev.reason }, ev.action === 'add' ? 'fallback server in' : 'fallback server out');
    this.onEvent?.('health', `fallback server ${name(ev.virtual, fb)} ${ev.action === 'add' ? 'in' : 'out'} (${ev.reason})`);
    void this.enqueue(async () => {
      if (ev.action === 'add') await this.director.request(addRealOp(svc, fb, ev.weight)).catch(ignoreExisting);
      else await this.director.request({ op: 'deleteReal', svc, addr: fb.addr, port: fb.port, ...(fb.addr6 !== undefined ? { addr6: fb.addr6 } : {}) }).catch(ignoreMissing);
    });
  }
}

/** ipvsadm -a for a real (or fallback) of either family. */
function addRealOp(svc: ServiceKeyMsg, r: { addr: number; port: number; addr6?: string }, weight: number) {
  return r.addr6 !== undefined
    ? { op: 'addReal6' as const, svc, real: { addr6: r.addr6, port: r.port, weight } }
    : { op: 'addReal' as const, svc, real: { addr: r.addr, port: r.port, weight } };
}

function ignoreMissing(e: unknown): void {
  if (!isDsrlbError(e) || e.code !== 'E_NO_REAL') throw e;
}

function ignoreExisting(e: unknown): void {
  if (!isDsrlbError(e) || e.code !== 'E_REAL_EXISTS') throw e;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
