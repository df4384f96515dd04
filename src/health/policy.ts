/**
 * The check policy: what a check result does to a real and to its virtual's fallback, as ldirectord
 * decides it. Pure: state in, state and changes out; time is the `now` argument (ms).
 *
 * From ldirectord.in:
 * - _service_down(): a failure counts only while the real is up; the real goes down when its
 *   failure count reaches `failurecount` (before that: a "soft failure"); `force` (maintenance)
 *   takes it down at once. _service_up(): any success resets the count and brings the real up.
 * - _remove_service(): down with quiescent=yes → weight 0 (re-added at weight 0 when absent only with
 *   readdquiescent=yes); quiescent=no → deleted. _restore_service(): up → configured weight (added
 *   when absent).
 * - fallback_on()/fallback_off(): the fallback server (weight 1) is added when a real goes down and no
 *   real is up, deleted when a real comes up; do_fallback_command() runs `fallbackcommand start|stop`
 *   at the same moments, never twice in a row with the same word.
 * - ld_start(): at start (and reload) a real already in the table with a weight > 0 is up, any other
 *   is down (quiesced at weight 0, or absent); then the fallback is settled the same way.
 * - _check_real(): checktype=N alternates — one negotiate check, then N connect checks while they
 *   succeed; a failed connect check makes the next one a negotiate check; the first is a negotiate.
 */
import type { CheckType } from '../config/index.ts';
import type { CheckKind } from './types.ts';

export interface RealHealthState {
  up: boolean;
  /** ldirectord's failcount: consecutive failures while up (kept at its value when the real goes down). */
  failures: number;
  /** checktype=N: a negotiate check is due (first check, or after a failed connect check). */
  negotiateDue: boolean;
  /** checktype=N: connect checks passed since the last successful negotiate check. */
  connectsDone: number;
  /** Down because of a maintenance file (last check). */
  maintenance: boolean;
  /** When `up` last changed (or the real appeared). */
  since: number;
  lastCheck: number | null;
  lastOk: boolean | null;
  lastDetail: string | null;
}

export interface RealPolicySettings {
  /** Configured weight. */
  weight: number;
  failurecount: number;
  quiescent: boolean;
  readdquiescent: boolean;
  checktype: CheckType;
  /** N of checktype=N. */
  checkConnects: number;
}

export interface FallbackTarget {
  /** IPv4, or an IPv6 fallback's fold (addr6 names it). */
  addr: number;
  port: number;
  addr6?: string;
}

export interface VirtualPolicySettings {
  reals: Readonly<Record<string, RealPolicySettings>>;
  fallback: FallbackTarget | null;
  fallbackcommand: string | null;
}

export interface VirtualHealthState {
  reals: Readonly<Record<string, RealHealthState>>;
  fallbackActive: boolean;
  /** ldirectord's fallbackcommand_status: the last word, tracked even without a command. */
  commandStatus: 'start' | 'stop' | null;
}

export interface CheckOutcome {
  kind: CheckKind;
  ok: boolean;
  detail: string;
  /** Maintenance: down at once, without counting failures (ldirectord's force => 1). */
  forced?: boolean;
}

export interface RealChange {
  real: string;
  up: boolean;
  action: 'add' | 'weight' | 'remove';
  weight: number;
  readd: boolean;
  reason: string;
}

export interface FallbackChange {
  action: 'add' | 'remove' | null;
  target: FallbackTarget | null;
  command: 'start' | 'stop' | null;
  reason: string;
}

export interface StepResult {
  state: VirtualHealthState;
  change?: RealChange;
  fallback: FallbackChange[];
  /** Something worth a log line that changed nothing (a soft failure, a reset failure count). */
  note?: string;
}

/** The check _check_real() runs next for a real with this state. */
export function nextKind(state: RealHealthState, s: RealPolicySettings): CheckKind {
  switch (s.checktype) {
    case 'combined': return state.negotiateDue || state.connectsDone >= s.checkConnects ? 'negotiate' : 'connect';
    case 'external-perl': return 'external';
    default: return s.checktype;
  }
}

export function newRealState(up: boolean, now: number): RealHealthState {
  return { up, failures: 0, negotiateDue: true, connectsDone: 0, maintenance: false, since: now, lastCheck: null, lastOk: null, lastDetail: null };
}

function upChange(key: string, s: RealPolicySettings, reason: string): RealChange {
  return { real: key, up: true, action: s.quiescent ? 'weight' : 'add', weight: s.weight, readd: true, reason };
}

function downChange(key: string, s: RealPolicySettings, reason: string, readd: boolean): RealChange {
  return s.quiescent
    ? { real: key, up: false, action: 'weight', weight: 0, readd, reason }
    : { real: key, up: false, action: 'remove', weight: 0, readd: false, reason };
}

/** One check result for one real. */
export function stepReal(
  state: RealHealthState, outcome: CheckOutcome, now: number, s: RealPolicySettings, key = '',
): { state: RealHealthState; change?: RealChange; note?: string } {
  const next: RealHealthState = { ...state, lastCheck: now, lastOk: outcome.ok, lastDetail: outcome.detail, maintenance: !!outcome.forced };
  if (s.checktype === 'combined' && !outcome.forced) {
    if (outcome.kind === 'negotiate' && outcome.ok) { next.negotiateDue = false; next.connectsDone = 0; }
    if (outcome.kind === 'connect') {
      if (outcome.ok) next.connectsDone = state.connectsDone + 1;
      else next.negotiateDue = true;
    }
  }
  if (outcome.ok) {
    next.failures = 0;
    if (state.up) {
      return state.failures > 0 ? { state: next, note: `failure count reset (was ${state.failures}/${s.failurecount})` } : { state: next };
    }
    next.up = true;
    next.since = now;
    return { state: next, change: upChange(key, s, `check ok: ${outcome.detail}`) };
  }
  if (!state.up && !outcome.forced) return { state: next };
  next.failures = state.failures + 1;
  if (!state.up) return { state: next };
  if (!outcome.forced && next.failures < s.failurecount) {
    return { state: next, note: `soft failure ${next.failures}/${s.failurecount}: ${outcome.detail}` };
  }
  next.up = false;
  next.since = now;
  const reason = outcome.forced ? outcome.detail : `check failed (${next.failures}/${s.failurecount}): ${outcome.detail}`;
  return { state: next, change: downChange(key, s, reason, s.readdquiescent) };
}

function sameTarget(a: FallbackTarget | null, b: FallbackTarget | null): boolean {
  return a === b || (a !== null && b !== null && a.addr === b.addr && a.addr6 === b.addr6 && a.port === b.port);
}

/**
 * Brings the fallback in line with the reals: on when none is up, off when one is. `previous` is the
 * fallback server that may be in the table (it differs from settings.fallback after a reload).
 */
export function settleFallback(
  state: VirtualHealthState, s: VirtualPolicySettings, previous: FallbackTarget | null, reason: string,
): { state: VirtualHealthState; changes: FallbackChange[] } {
  const anyUp = Object.values(state.reals).some((r) => r.up);
  const want = !anyUp;
  const changes: FallbackChange[] = [];
  let active = state.fallbackActive;
  if (active && (!want || !sameTarget(previous, s.fallback))) {
    changes.push({ action: 'remove', target: previous, command: null, reason });
    active = false;
  }
  if (want && s.fallback && !active) {
    changes.push({ action: 'add', target: s.fallback, command: null, reason });
    active = true;
  }
  const word = want ? 'start' : 'stop';
  if (state.commandStatus !== word && s.fallbackcommand !== null) {
    const last = changes[changes.length - 1];
    const merge = last !== undefined && last.action === (want ? 'add' : 'remove');
    if (merge) last.command = word;
    else changes.push({ action: null, target: s.fallback, command: word, reason });
  }
  return { state: { ...state, fallbackActive: active, commandStatus: word }, changes };
}

/** One check result for real `key` of a virtual. */
export function step(
  state: VirtualHealthState, result: { real: string; outcome: CheckOutcome }, now: number, s: VirtualPolicySettings,
): StepResult {
  const rs = state.reals[result.real];
  const rset = s.reals[result.real];
  if (!rs || !rset) return { state, fallback: [] };
  const r = stepReal(rs, result.outcome, now, rset, result.real);
  const next: VirtualHealthState = { ...state, reals: { ...state.reals, [result.real]: r.state } };
  if (!r.change) return { state: next, fallback: [], ...(r.note ? { note: r.note } : {}) };
  const why = r.change.up ? `real ${result.real} is up` : 'every real server is down';
  const fb = settleFallback(next, s, s.fallback, why);
  return { state: fb.state, change: r.change, fallback: fb.changes };
}

/**
 * The state of a virtual when checking starts (ldirectord ld_start()). `inTable(key)`: the real is
 * already in the table with a weight > 0, so it starts up; any other real starts down. Returns the
 * changes that put the table in that state.
 */
export function startVirtual(
  s: VirtualPolicySettings, now: number, inTable: (key: string) => boolean,
): { state: VirtualHealthState; changes: RealChange[]; fallback: FallbackChange[] } {
  const reals: Record<string, RealHealthState> = {};
  const changes: RealChange[] = [];
  for (const [key, rs] of Object.entries(s.reals)) {
    const up = inTable(key);
    reals[key] = newRealState(up, now);
    changes.push(up ? upChange(key, rs, 'start: in service') : downChange(key, rs, 'start: not checked yet', true));
  }
  const fb = settleFallback({ reals, fallbackActive: false, commandStatus: null }, s, null, 'start');
  return { state: fb.state, changes, fallback: fb.changes };
}

/**
 * A new configuration for a running virtual (reload). Reals kept (same key) keep their health
 * state; a kept real that is up gets its new weight, a kept real that is down is put down again
 * when quiescent changed; new reals start as at start; removed reals are dropped (the table change
 * is the reloader's). The fallback is then settled, replacing a changed fallback server.
 */
export function reconcileVirtual(
  old: VirtualHealthState, oldSettings: VirtualPolicySettings, s: VirtualPolicySettings, now: number,
  inTable: (key: string) => boolean,
): { state: VirtualHealthState; changes: RealChange[]; fallback: FallbackChange[] } {
  const reals: Record<string, RealHealthState> = {};
  const changes: RealChange[] = [];
  for (const [key, rs] of Object.entries(s.reals)) {
    const prev = old.reals[key];
    const prevSet = oldSettings.reals[key];
    if (!prev || !prevSet) {
      const up = inTable(key);
      reals[key] = newRealState(up, now);
      changes.push(up ? upChange(key, rs, 'reload: new real in service') : downChange(key, rs, 'reload: new real, not checked yet', true));
      continue;
    }
    reals[key] = prev;
    if (prev.up && prevSet.weight !== rs.weight) changes.push(upChange(key, rs, `reload: weight ${prevSet.weight} -> ${rs.weight}`));
    if (!prev.up && prevSet.quiescent !== rs.quiescent) changes.push(downChange(key, rs, `reload: quiescent=${rs.quiescent ? 'yes' : 'no'}`, true));
  }
  const fb = settleFallback({ ...old, reals }, s, oldSettings.fallback, 'reload');
  return { state: fb.state, changes, fallback: fb.changes };
}
