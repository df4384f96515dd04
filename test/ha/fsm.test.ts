import { describe, expect, it } from 'vitest';
import { HaFsm, TRANSITIONS, type FsmAction, type FsmConfig, type WireState } from '../../src/ha/index.ts';

const base: FsmConfig = { self: 'www1', peer: 'www2', preferred: 'www1', autoFailback: 'off', deadtimeMs: 3000, warntimeMs: 1500, initdeadMs: 6000 };
const kinds = (a: FsmAction[]) => a.map((x) => (x.do === 'log' ? `log:${x.code}` : x.do));

function started(cfg: Partial<FsmConfig> = {}, now = 0): HaFsm {
  const f = new HaFsm({ ...base, ...cfg });
  expect(kinds(f.handle({ ev: 'start', now }))).toEqual(['cleanup', 'announce']);
  return f;
}
const hb = (f: HaFsm, now: number, state: WireState) => f.handle({ ev: 'heartbeat', now, state });
const tick = (f: HaFsm, now: number) => f.handle({ ev: 'tick', now });

describe('ha state machine', () => {
  it('has named transitions', () => {
    expect(new Set(TRANSITIONS.map((t) => t.name)).size).toBe(TRANSITIONS.length);
  });

  it('alone: waits initdead, then takes over', () => {
    const f = started({ self: 'www2', peer: 'www1' });
    expect(tick(f, 5999)).toEqual([]);
    expect(f.role).toBe('init');
    expect(kinds(tick(f, 6000))).toEqual(['takeover', 'announce']);
    expect(f.role).toBe('active');
  });

  it('both start: the preferred node takes over as soon as it hears the peer; the other stands by', () => {
    const a = started();
    const b = started({ self: 'www2', peer: 'www1' });
    expect(kinds(hb(b, 100, 'init'))).toEqual(['log:I_HA_PEER_UP', 'announce']);
    expect(b.role).toBe('standby');
    expect(kinds(hb(a, 110, 'standby'))).toEqual(['log:I_HA_PEER_UP', 'takeover', 'announce']);
    expect(a.role).toBe('active');
    expect(hb(b, 200, 'active')).toEqual([]);
    expect(b.role).toBe('standby');
  });

  it('peer dead after deadtime (warned at warntime), counted from its last heartbeat', () => {
    const b = started({ self: 'www2', peer: 'www1' });
    hb(b, 100, 'active');
    expect(tick(b, 1599)).toEqual([]);
    expect(kinds(tick(b, 1600))).toEqual(['log:W_HA_LATE']);
    expect(tick(b, 2000)).toEqual([]);
    expect(kinds(tick(b, 3100))).toEqual(['log:W_HA_PEER_DEAD', 'takeover', 'announce']);
    expect(b.role).toBe('active');
    expect(tick(b, 9000)).toEqual([]);
  });

  it('orderly giveup: the active node sends giveup before releasing; the standby takes over at once', () => {
    const a = started();
    hb(a, 10, 'standby');
    expect(a.role).toBe('active');
    expect(kinds(a.handle({ ev: 'shutdown', now: 50 }))).toEqual(['send-giveup', 'giveup']);
    expect(a.role).toBe('stopped');
    const b = started({ self: 'www2', peer: 'www1' });
    hb(b, 10, 'active');
    expect(kinds(hb(b, 60, 'stopping'))).toEqual(['takeover', 'announce']);
  });

  it('auto_failback off: the preferred node coming back stays standby', () => {
    const a = started({}, 0);
    expect(kinds(hb(a, 100, 'active'))).toEqual(['log:I_HA_PEER_UP', 'announce']);
    expect(a.role).toBe('standby');
    const b = started({ self: 'www2', peer: 'www1', autoFailback: 'off' });
    tick(b, 7000);
    expect(b.role).toBe('active');
    expect(hb(b, 7100, 'standby').filter((x) => x.do !== 'log')).toEqual([]);
    expect(b.role).toBe('active');
  });

  it('auto_failback on (and legacy): the non-preferred active hands over when the preferred node stands by', () => {
    for (const autoFailback of ['on', 'legacy'] as const) {
      const b = started({ self: 'www2', peer: 'www1', autoFailback });
      tick(b, 7000);
      hb(b, 7050, 'init');
      expect(b.role).toBe('active');
      expect(kinds(hb(b, 7100, 'standby'))).toEqual(['send-giveup', 'giveup', 'announce']);
      expect(b.role).toBe('standby');
      const a = started({ autoFailback });
      hb(a, 7000, 'active');
      expect(a.role).toBe('standby');
      expect(kinds(hb(a, 7101, 'stopping'))).toEqual(['takeover', 'announce']);
    }
  });

  it('split brain: deterministic, exactly one keeps the resources and never stops serving', () => {
    const a = started();
    const b = started({ self: 'www2', peer: 'www1' });
    tick(a, 6000);
    tick(b, 6000);
    expect([a.role, b.role]).toEqual(['active', 'active']);
    const ka = kinds(hb(a, 7000, 'active'));
    const kb = kinds(hb(b, 7000, 'active'));
    expect(ka).toEqual(['log:I_HA_PEER_UP', 'log:E_HA_SPLIT_BRAIN', 'reannounce', 'announce']);
    expect(ka).not.toContain('giveup');
    expect(kb).toEqual(['log:I_HA_PEER_UP', 'log:E_HA_SPLIT_BRAIN', 'giveup', 'announce']);
    expect([a.role, b.role]).toEqual(['active', 'standby']);
    // A peer that goes on saying active (it cannot hear us): announced once, not at every heartbeat.
    expect(hb(a, 7100, 'active')).toEqual([]);
    expect(hb(a, 7200, 'active')).toEqual([]);
  });

  it('the peer comes back after being dead while we were active (it may have taken over): the VIP is announced again', () => {
    const a = started();
    hb(a, 10, 'standby');
    tick(a, 4000);
    expect(a.peer.dead).toBe(true);
    expect(kinds(hb(a, 4100, 'standby'))).toEqual(['log:I_HA_PEER_BACK', 'log:W_HA_PEER_YIELDED', 'reannounce']);
    expect(a.role).toBe('active');
    expect(hb(a, 4200, 'standby')).toEqual([]);
  });

  it('a restarted peer while we are standby with nobody active: the preferred one takes', () => {
    const a = started();
    hb(a, 10, 'active');
    expect(a.role).toBe('standby');
    expect(kinds(hb(a, 500, 'init'))).toEqual(['takeover', 'announce']);
  });

  describe('early death: heartbeats refused (ICMP port unreachable) and silent > 1.5 × keepalive', () => {
    const refused = (f: HaFsm, now: number) => f.handle({ ev: 'refused', now, addr: '192.168.0.7' });
    const standby = (extra: Partial<FsmConfig> = {}) => {
      const b = started({ self: 'www2', peer: 'www1', keepaliveMs: 100, deadtimeMs: 300, warntimeMs: 200, initdeadMs: 1000, ...extra });
      hb(b, 0, 'active');
      expect(b.role).toBe('standby');
      return b;
    };

    it('a refusal, then silence past 1.5 × keepalive: dead early, on the tick that crosses it', () => {
      const b = standby();
      hb(b, 100, 'active');
      expect(refused(b, 120)).toEqual([]);
      expect(tick(b, 250)).toEqual([]); // silent 150 ms: not more than 1.5 × keepalive
      const out = tick(b, 251);
      expect(kinds(out)).toEqual(['log:W_HA_PEER_DEAD_EARLY', 'takeover', 'announce']);
      expect(out.find((a) => a.do === 'takeover')).toMatchObject({ reason: expect.stringMatching(/refused/) });
      expect(out.find((a) => a.do === 'log')).toMatchObject({ msg: expect.stringMatching(/ICMP port unreachable.*silent for 151 ms/) });
      expect(b.role).toBe('active');
      expect(b.peer.dead).toBe(true);
      expect(b.history.at(-1)).toMatchObject({ transition: 'peer-refused-silent' });
      expect(tick(b, 400)).toEqual([]); // already dead: no second log at deadtime
    });

    it('a refusal after the silence is already long enough: dead at once, on the refusal', () => {
      const b = standby();
      hb(b, 100, 'active');
      expect(tick(b, 260)).toEqual([]);
      expect(kinds(refused(b, 270))).toEqual(['log:W_HA_PEER_DEAD_EARLY', 'takeover', 'announce']);
      expect(b.history.at(-1)).toMatchObject({ transition: 'peer-refused' });
    });

    it('refusals while heartbeats keep arriving (a forged ICMP): nothing', () => {
      const b = standby();
      for (let t = 100; t <= 2000; t += 100) {
        expect(refused(b, t + 50)).toEqual([]);
        expect(hb(b, t + 100, 'active')).toEqual([]);
        expect(tick(b, t + 140)).toEqual([]);
      }
      expect(b.role).toBe('standby');
      expect(b.peer.dead).toBe(false);
    });

    it('a refusal before the last heartbeat does not count: a later silence waits for deadtime', () => {
      const b = standby();
      refused(b, 50);
      hb(b, 100, 'active');
      expect(tick(b, 260)).toEqual([]);
      expect(kinds(tick(b, 300))).toEqual(['log:W_HA_LATE']);
      expect(tick(b, 399)).toEqual([]);
      expect(kinds(tick(b, 400))).toEqual(['log:W_HA_PEER_DEAD', 'takeover', 'announce']);
    });

    it('no refusal: deadtime as before', () => {
      const b = standby();
      hb(b, 100, 'active');
      expect(tick(b, 299)).toEqual([]);
      expect(kinds(tick(b, 300))).toEqual(['log:W_HA_LATE']);
      expect(tick(b, 399)).toEqual([]);
      expect(kinds(tick(b, 400))).toEqual(['log:W_HA_PEER_DEAD', 'takeover', 'announce']);
    });

    it('without keepalive in the config: refusals never shorten deadtime', () => {
      const b = standby({ keepaliveMs: undefined });
      hb(b, 100, 'active');
      refused(b, 120);
      expect(kinds(tick(b, 300))).toEqual(['log:W_HA_LATE']);
      expect(tick(b, 399)).toEqual([]);
      expect(kinds(tick(b, 400))).toEqual(['log:W_HA_PEER_DEAD', 'takeover', 'announce']);
    });

    it('before the peer was ever heard (it is not started yet): refusals are ignored, initdead applies', () => {
      const b = started({ self: 'www2', peer: 'www1', keepaliveMs: 100, deadtimeMs: 300, warntimeMs: 200, initdeadMs: 1000 });
      expect(refused(b, 500)).toEqual([]);
      expect(tick(b, 999)).toEqual([]);
      expect(b.role).toBe('init');
      expect(kinds(tick(b, 1000))).toEqual(['takeover', 'announce']);
    });

    it('an active node marks the peer dead early too (logged; nothing to take over)', () => {
      const a = started({ keepaliveMs: 100, deadtimeMs: 300, warntimeMs: 200, initdeadMs: 1000 });
      hb(a, 0, 'standby');
      expect(a.role).toBe('active');
      refused(a, 100);
      expect(kinds(tick(a, 151))).toEqual(['log:W_HA_PEER_DEAD_EARLY']);
      expect(a.role).toBe('active');
    });
  });

  it('random event sequences: never both active for long — whenever both have heard each other active, the non-preferred yields', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let bothActive = 0; // how many times the sequences reached the state the property is about
    for (let run = 0; run < 200; run++) {
      const a = started({ autoFailback: rnd() < 0.5 ? 'on' : 'off' });
      const b = started({ self: 'www2', peer: 'www1', autoFailback: a.cfg.autoFailback });
      let now = 0;
      for (let i = 0; i < 60; i++) {
        now += Math.floor(rnd() * 1500);
        const r = rnd();
        if (r < 0.4) hb(a, now, b.role === 'stopped' ? 'stopping' : b.role);
        else if (r < 0.8) hb(b, now, a.role === 'stopped' ? 'stopping' : a.role);
        else {
          tick(a, now);
          tick(b, now);
        }
        if (a.role === 'active' && b.role === 'active') {
          bothActive++;
          // One exchange of heartbeats resolves it.
          hb(a, now, 'active');
          hb(b, now, 'active');
          expect([a.role, b.role]).toEqual(['active', 'standby']);
        }
      }
    }
    // The check above ran: the random sequences did reach "both active" (this seed: many times).
    expect(bothActive).toBeGreaterThan(0);
  });
});
