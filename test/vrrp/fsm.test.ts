/**
 * The VRRP router's state machine with time as an argument: the RFC timer formulas, priority 255 and
 * 0, preemption, nopreempt, preempt_delay, the tie-break, fault, and that a flood of adverts from a
 * lower priority master never makes a backup take over early.
 */
import { describe, expect, it } from 'vitest';
import { VrrpRouter, type RouterConfig, type VrrpAction } from '../../src/vrrp/index.ts';

const ME = 0x0a4d0002;
const PEER = 0x0a4d0001;
const r = (over: Partial<RouterConfig> = {}) => new VrrpRouter({ version: 3, priority: 100, advertIntCs: 100, preempt: true, preemptDelayCs: 0, self: ME, ...over });
const states = (a: VrrpAction[]) => a.filter((x) => x.type === 'state').map((x) => (x as { to: string }).to);
const sends = (a: VrrpAction[]) => a.filter((x) => x.type === 'send').map((x) => (x as { priority: number }).priority);

describe('VRRP timers (RFC 5798 / 3768)', () => {
  it('Skew_Time and Master_Down_Interval', () => {
    // v3: skew = (256 - 100) x 1 s / 256 = 609.375 ms; down = 3 s + skew.
    expect(r().skewMs()).toBeCloseTo(609.375);
    expect(r().masterDownMs()).toBeCloseTo(3609.375);
    // v3 at 100 ms, priority 150: skew = 106 x 100 / 256 = 41.4 ms; down = 341.4 ms.
    expect(r({ advertIntCs: 10, priority: 150 }).masterDownMs()).toBeCloseTo(341.40625);
    // v2: skew = (256 - 150) / 256 s, whatever the interval.
    expect(r({ version: 2, priority: 150, advertIntCs: 200 }).masterDownMs()).toBeCloseTo(6000 + 414.0625);
  });

  it('a backup with no master becomes master after Master_Down_Interval, then advertises every interval', () => {
    const v = r();
    expect(states(v.start(0))).toEqual(['backup']);
    expect(v.tick(3609)).toEqual([]);
    const a = v.tick(3610);
    expect(states(a)).toEqual(['master']);
    expect(sends(a)).toEqual([100]);
    expect(v.nextDeadline()).toBe(4610);
    expect(sends(v.tick(4610))).toEqual([100]);
  });

  it('priority 255 is master at once', () => {
    const v = r({ priority: 255 });
    const a = v.start(0);
    expect(states(a)).toEqual(['master']);
    expect(sends(a)).toEqual([255]);
  });

  it('adverts from the master keep a backup down; the v3 master interval is learnt', () => {
    const v = r({ advertIntCs: 100 });
    v.start(0);
    for (let t = 1000; t <= 20000; t += 1000) expect(v.receive({ src: PEER, priority: 150, advertIntCs: 10 }, t)).toEqual([]);
    expect(v.masterAdverCs).toBe(10);
    // learnt 100 ms: down = 300 + (156 x 100 / 256) = 360.9 ms after the last advert.
    expect(v.nextDeadline()).toBeCloseTo(20360.9375);
    expect(states(v.tick(20361))).toEqual(['master']);
  });

  it('priority 0 from the master: the backup takes over after Skew_Time only', () => {
    const v = r({ advertIntCs: 10, priority: 150 });
    v.start(0);
    v.receive({ src: PEER, priority: 200, advertIntCs: 10 }, 100);
    v.receive({ src: PEER, priority: 0, advertIntCs: 10 }, 150);
    expect(v.nextDeadline()).toBeCloseTo(150 + 41.40625);
    expect(states(v.tick(192))).toEqual(['master']);
  });

  it('a master answers priority 0 with an advert at once', () => {
    const v = r({ priority: 255 });
    v.start(0);
    expect(sends(v.receive({ src: PEER, priority: 0, advertIntCs: 100 }, 10))).toEqual([255]);
  });

  it('preempt: a higher priority backup ignores a lower master and takes over at its down timer', () => {
    const v = r({ priority: 200 });
    v.start(0);
    // A flood of lower priority adverts does not reset the timer, nor make it take over early.
    for (let t = 0; t < 3700; t += 1) expect(v.receive({ src: PEER, priority: 100, advertIntCs: 100 }, t)).toEqual([]);
    expect(v.nextDeadline()).toBeCloseTo(3000 + 218.75);
  });

  it('nopreempt: a higher priority backup stays backup while a master advertises', () => {
    const v = r({ priority: 200, preempt: false });
    v.start(0);
    for (let t = 1000; t <= 30000; t += 1000) v.receive({ src: PEER, priority: 100, advertIntCs: 100 }, t);
    expect(v.tick(30000 + 3000)).toEqual([]);
    expect(v.state).toBe('backup');
  });

  it('preempt_delay: no preemption during the delay after start-up, then preemption', () => {
    const v = r({ priority: 200, preemptDelayCs: 1000 });
    v.start(0);
    for (let t = 500; t < 10000; t += 1000) v.receive({ src: PEER, priority: 100, advertIntCs: 100 }, t);
    expect(v.state).toBe('backup');
    for (let t = 10500; t < 14000; t += 1000) v.receive({ src: PEER, priority: 100, advertIntCs: 100 }, t);
    expect(states(v.tick(9500 + 3218.75 + 1))).toEqual(['master']);
  });

  it('a master yields to a higher priority, or to the higher address at equal priority, and not otherwise', () => {
    const v = r({ priority: 255 });
    v.start(0);
    expect(v.receive({ src: PEER, priority: 100, advertIntCs: 100 }, 1)).toEqual([]);
    const w = r({ priority: 100 });
    w.start(0);
    w.tick(4000);
    expect(w.state).toBe('master');
    expect(w.receive({ src: PEER, priority: 100, advertIntCs: 100 }, 4100)).toEqual([]); // PEER < ME
    expect(states(w.receive({ src: 0x0a4d0009, priority: 100, advertIntCs: 100 }, 4200))).toEqual(['backup']);
    const x = r({ priority: 100 });
    x.start(0);
    x.tick(4000);
    expect(states(x.receive({ src: PEER, priority: 101, advertIntCs: 100 }, 4100))).toEqual(['backup']);
  });

  it('graceful stop of a master sends priority 0; fault stops adverts and comes back as backup', () => {
    const v = r({ priority: 255 });
    v.start(0);
    expect(sends(v.shutdown())).toEqual([0]);
    const f = r({ priority: 255 });
    f.start(0);
    const a = f.fault(10, 'eth1 down');
    expect(sends(a)).toEqual([0]);
    expect(states(a)).toEqual(['fault']);
    expect(f.nextDeadline()).toBe(Infinity);
    expect(states(f.recover(20))).toEqual(['backup']);
  });
});
