import { describe, expect, it } from 'vitest';
import {
  nextKind, reconcileVirtual, startVirtual, step, type CheckOutcome, type FallbackChange, type RealChange,
  type RealPolicySettings, type VirtualHealthState, type VirtualPolicySettings,
} from '../../src/health/index.ts';

const R = (o: Partial<RealPolicySettings> = {}): RealPolicySettings => ({
  weight: 3, failurecount: 1, quiescent: true, readdquiescent: false, checktype: 'negotiate', checkConnects: 0, ...o,
});
const FB = { addr: 0x0a000063, port: 80 };

function V(reals: Record<string, Partial<RealPolicySettings>>, o: Partial<VirtualPolicySettings> = {}): VirtualPolicySettings {
  return { reals: Object.fromEntries(Object.entries(reals).map(([k, v]) => [k, R(v)])), fallback: null, fallbackcommand: null, ...o };
}

function fmtReal(c: RealChange): string {
  return `${c.real}:${c.up ? 'up' : 'down'}:${c.action}${c.action === 'remove' ? '' : `=${c.weight}`}${!c.up && c.action === 'weight' && c.readd ? ':readd' : ''}`;
}
function fmtFb(f: FallbackChange): string[] {
  return [...(f.action ? [`fb:${f.action}`] : []), ...(f.command ? [`cmd:${f.command}`] : [])];
}

type Step = [real: string, result: 'ok' | 'fail' | 'maint', kind?: CheckOutcome['kind']];

/** Runs a sequence of results, one every 10 s of fake time, and returns what each step changed. */
function run(s: VirtualPolicySettings, up: string[], steps: Step[]): { log: string[][]; state: VirtualHealthState; notes: string[] } {
  let now = 1000;
  const st = startVirtual(s, now, (k) => up.includes(k));
  let state = st.state;
  const log: string[][] = [];
  const notes: string[] = [];
  for (const [real, res, kind] of steps) {
    now += 10_000;
    const outcome: CheckOutcome = res === 'maint'
      ? { kind: kind ?? 'negotiate', ok: false, forced: true, detail: 'server in maintenance' }
      : { kind: kind ?? 'negotiate', ok: res === 'ok', detail: res };
    const r = step(state, { real, outcome }, now, s);
    state = r.state;
    if (r.note) notes.push(r.note);
    log.push([...(r.change ? [fmtReal(r.change)] : []), ...r.fallback.flatMap(fmtFb)]);
  }
  return { log, state, notes };
}

describe('policy: failurecount, quiescent, readdquiescent (ldirectord _service_down / _service_up)', () => {
  const cases: Array<{ name: string; s: VirtualPolicySettings; up: string[]; steps: Step[]; log: string[][] }> = [
    {
      name: 'failurecount=1, quiescent=yes: the first failure sets weight 0, the first success restores the weight',
      s: V({ a: {}, b: {} }), up: ['a', 'b'],
      steps: [['a', 'ok'], ['a', 'fail'], ['a', 'fail'], ['a', 'ok'], ['a', 'ok']],
      log: [[], ['a:down:weight=0'], [], ['a:up:weight=3'], []],
    },
    {
      name: 'failurecount=3: down at the third consecutive failure; one success resets the count',
      s: V({ a: { failurecount: 3 }, b: {} }), up: ['a', 'b'],
      steps: [['a', 'fail'], ['a', 'fail'], ['a', 'ok'], ['a', 'fail'], ['a', 'fail'], ['a', 'fail'], ['a', 'fail']],
      log: [[], [], [], [], [], ['a:down:weight=0'], []],
    },
    {
      name: 'failures of a real that is down do not count: one success brings it back',
      s: V({ a: { failurecount: 2 }, b: {} }), up: ['b'],
      steps: [['a', 'fail'], ['a', 'fail'], ['a', 'fail'], ['a', 'ok'], ['a', 'fail'], ['a', 'fail']],
      log: [[], [], [], ['a:up:weight=3'], [], ['a:down:weight=0']],
    },
    {
      name: 'quiescent=no: removed when down, added back when up',
      s: V({ a: { quiescent: false }, b: { quiescent: false } }), up: ['a', 'b'],
      steps: [['a', 'fail'], ['a', 'ok']],
      log: [['a:down:remove'], ['a:up:add=3']],
    },
    {
      name: 'readdquiescent=yes: a quiesced real absent from the table is re-added at weight 0',
      s: V({ a: { readdquiescent: true }, b: {} }), up: ['a', 'b'],
      steps: [['a', 'fail']],
      log: [['a:down:weight=0:readd']],
    },
    {
      name: 'maintenance forces a real down at once, whatever failurecount; removing the file lets the next success in',
      s: V({ a: { failurecount: 5 }, b: {} }), up: ['a', 'b'],
      steps: [['a', 'maint'], ['a', 'maint'], ['a', 'ok']],
      log: [['a:down:weight=0'], [], ['a:up:weight=3']],
    },
    {
      name: 'checktype=on (always ok) keeps a real up',
      s: V({ a: { checktype: 'on' } }), up: [],
      steps: [['a', 'ok', 'on'], ['a', 'ok', 'on']],
      log: [['a:up:weight=3'], []],
    },
    {
      name: 'a result for an unknown real changes nothing',
      s: V({ a: {} }), up: ['a'],
      steps: [['zz', 'fail']],
      log: [[]],
    },
  ];
  it.each(cases)('$name', ({ s, up, steps, log }) => {
    expect(run(s, up, steps).log).toEqual(log);
  });

  it('logs soft failures and the reset of the count', () => {
    const { notes, state } = run(V({ a: { failurecount: 3 } }), ['a'], [['a', 'fail'], ['a', 'fail'], ['a', 'ok']]);
    expect(notes).toEqual(['soft failure 1/3: fail', 'soft failure 2/3: fail', 'failure count reset (was 2/3)']);
    expect(state.reals.a).toMatchObject({ up: true, failures: 0, lastCheck: 31_000, lastOk: true, lastDetail: 'ok' });
  });

  it('records when the state changed, and the failure count at the fall', () => {
    const { state } = run(V({ a: { failurecount: 2 }, b: {} }), ['a', 'b'], [['a', 'fail'], ['a', 'fail']]);
    expect(state.reals.a).toMatchObject({ up: false, failures: 2, since: 21_000, maintenance: false });
  });
});

describe('policy: fallback and fallbackcommand (ldirectord fallback_on / fallback_off / do_fallback_command)', () => {
  it.each([
    {
      name: 'fallback added (with start) only when the last real goes down, removed (with stop) when one is back',
      s: V({ a: {}, b: {} }, { fallback: FB, fallbackcommand: '/etc/fb' }), up: ['a', 'b'],
      steps: [['a', 'fail'], ['b', 'fail'], ['b', 'fail'], ['a', 'ok'], ['b', 'ok'], ['a', 'fail']] as Step[],
      log: [['a:down:weight=0'], ['b:down:weight=0', 'fb:add', 'cmd:start'], [], ['a:up:weight=3', 'fb:remove', 'cmd:stop'], ['b:up:weight=3'], ['a:down:weight=0']],
    },
    {
      name: 'fallbackcommand without a fallback server',
      s: V({ a: {} }, { fallbackcommand: '/etc/fb' }), up: ['a'],
      steps: [['a', 'fail'], ['a', 'ok']] as Step[],
      log: [['a:down:weight=0', 'cmd:start'], ['a:up:weight=3', 'cmd:stop']],
    },
    {
      name: 'a fallback server without a command',
      s: V({ a: { quiescent: false } }, { fallback: FB }), up: ['a'],
      steps: [['a', 'fail'], ['a', 'ok']] as Step[],
      log: [['a:down:remove', 'fb:add'], ['a:up:add=3', 'fb:remove']],
    },
  ])('$name', ({ s, up, steps, log }) => {
    expect(run(s, up, steps).log).toEqual(log);
  });

  it('the fallback is added at weight 1 and removed, never quiesced (the event carries the target)', () => {
    const s = V({ a: {} }, { fallback: FB });
    const st = startVirtual(s, 0, () => true);
    const r = step(st.state, { real: 'a', outcome: { kind: 'negotiate', ok: false, detail: 'x' } }, 1, s);
    expect(r.fallback).toEqual([{ action: 'add', target: FB, command: null, reason: 'every real server is down' }]);
  });
});

describe('policy: start (ldirectord ld_start)', () => {
  const fmt = (r: ReturnType<typeof startVirtual>) => [...r.changes.map(fmtReal), ...r.fallback.flatMap(fmtFb)];

  it('fresh table: every real down until checked (quiesced at 0 and present), the fallback on with start', () => {
    const s = V({ a: {}, b: { quiescent: false } }, { fallback: FB, fallbackcommand: '/fb' });
    expect(fmt(startVirtual(s, 0, () => false))).toEqual(['a:down:weight=0:readd', 'b:down:remove', 'fb:add', 'cmd:start']);
  });

  it('reals already in the table stay up; the command gets its first stop (as ldirectord does)', () => {
    const s = V({ a: {}, b: {} }, { fallback: FB, fallbackcommand: '/fb' });
    expect(fmt(startVirtual(s, 0, (k) => k === 'a'))).toEqual(['a:up:weight=3', 'b:down:weight=0:readd', 'cmd:stop']);
  });

  it('a virtual with no reals gets its fallback', () => {
    expect(fmt(startVirtual(V({}, { fallback: FB }), 0, () => false))).toEqual(['fb:add']);
  });
});

describe('policy: checktype=N (ldirectord combined)', () => {
  it('one negotiate, then N connects while they pass; a failed connect brings a negotiate; a failed negotiate is retried', () => {
    const s = V({ a: { checktype: 'combined', checkConnects: 2 } });
    let state = startVirtual(s, 0, () => true).state;
    const kinds: string[] = [];
    const results = ['ok', 'ok', 'ok', 'ok', 'ok', 'fail', 'fail', 'ok', 'ok', 'ok'];
    results.forEach((res, i) => {
      const kind = nextKind(state.reals.a!, s.reals.a!);
      kinds.push(kind);
      state = step(state, { real: 'a', outcome: { kind, ok: res === 'ok', detail: res } }, i, s).state;
    });
    expect(kinds).toEqual(['negotiate', 'connect', 'connect', 'negotiate', 'connect', 'connect', 'negotiate', 'negotiate', 'connect', 'connect']);
  });

  it('N=0 always negotiates; other checktypes map to their check', () => {
    const st = startVirtual(V({ a: {} }), 0, () => true).state.reals.a!;
    expect(nextKind({ ...st, negotiateDue: false }, R({ checktype: 'combined', checkConnects: 0 }))).toBe('negotiate');
    expect(nextKind(st, R({ checktype: 'external-perl' }))).toBe('external');
    expect(nextKind(st, R({ checktype: 'off' }))).toBe('off');
    expect(nextKind(st, R({ checktype: 'connect' }))).toBe('connect');
  });
});

describe('policy: reload (reconcileVirtual)', () => {
  const fmt = (r: ReturnType<typeof reconcileVirtual>) => [...r.changes.map(fmtReal), ...r.fallback.flatMap(fmtFb)];

  it('kept reals keep their state and failure count; new reals start down; removed reals go', () => {
    const s1 = V({ a: { failurecount: 3 }, b: {} });
    let st = startVirtual(s1, 0, () => true).state;
    st = step(st, { real: 'a', outcome: { kind: 'negotiate', ok: false, detail: 'x' } }, 1, s1).state;
    const s2 = V({ a: { failurecount: 3 }, c: {} });
    const r = reconcileVirtual(st, s1, s2, 2, () => false);
    expect(Object.keys(r.state.reals)).toEqual(['a', 'c']);
    expect(r.state.reals.a).toMatchObject({ up: true, failures: 1 });
    expect(r.state.reals.c).toMatchObject({ up: false, failures: 0 });
    expect(fmt(r)).toEqual(['c:down:weight=0:readd']);
  });

  it('a new weight for a real that is up; quiescent changed for a real that is down', () => {
    const s1 = V({ a: {}, b: {} });
    let st = startVirtual(s1, 0, () => true).state;
    st = step(st, { real: 'b', outcome: { kind: 'negotiate', ok: false, detail: 'x' } }, 1, s1).state;
    const s2 = V({ a: { weight: 7 }, b: { quiescent: false } });
    expect(fmt(reconcileVirtual(st, s1, s2, 2, () => false))).toEqual(['a:up:weight=7', 'b:down:remove']);
  });

  it('a changed fallback server is replaced while in use; a new one is added when all reals are down', () => {
    const other = { addr: 0x0a000064, port: 80 };
    const s1 = V({ a: {} }, { fallback: FB });
    const st = startVirtual(s1, 0, () => false).state;
    expect(st.fallbackActive).toBe(true);
    const r = reconcileVirtual(st, s1, V({ a: {} }, { fallback: other }), 1, () => false);
    expect(r.fallback.map((f) => [f.action, f.target])).toEqual([['remove', FB], ['add', other]]);
    const none = reconcileVirtual(st, s1, V({ a: {} }), 1, () => false);
    expect(none.fallback.map((f) => f.action)).toEqual(['remove']);
    expect(none.state.fallbackActive).toBe(false);
    const s0 = V({ a: {} });
    const st0 = startVirtual(s0, 0, () => false).state;
    expect(reconcileVirtual(st0, s0, s1, 1, () => false).fallback.map((f) => f.action)).toEqual(['add']);
  });

  it('nothing changes when nothing changed', () => {
    const s = V({ a: {}, b: {} }, { fallback: FB, fallbackcommand: '/fb' });
    const st = startVirtual(s, 0, (k) => k === 'a').state;
    expect(fmt(reconcileVirtual(st, s, s, 1, () => true))).toEqual([]);
  });
});
