/** keepalived's tracking rules: weights, FAULT for weight 0, bounds, rise/fall of a script. */
import { describe, expect, it } from 'vitest';
import { ScriptState, trackedPriority } from '../../src/vrrp/index.ts';

describe('tracking', () => {
  it('weight 0 down is FAULT; positive weights count while up, negative while down; bounded 1..254; 255 unchanged', () => {
    expect(trackedPriority(100, [{ name: 'eth1', weight: 0, up: false }])).toEqual({ priority: 100, fault: 'eth1 is down' });
    expect(trackedPriority(100, [{ name: 'a', weight: 20, up: true }, { name: 'b', weight: -30, up: false }, { name: 'c', weight: -5, up: true }])).toEqual({ priority: 90, fault: null });
    expect(trackedPriority(100, [{ name: 'a', weight: 20, up: false }])).toEqual({ priority: 100, fault: null });
    expect(trackedPriority(250, [{ name: 'a', weight: 20, up: true }]).priority).toBe(254);
    expect(trackedPriority(10, [{ name: 'a', weight: -50, up: false }]).priority).toBe(1);
    expect(trackedPriority(255, [{ name: 'a', weight: -50, up: false }]).priority).toBe(255);
  });

  it('a script goes down after `fall` failures in a row and up after `rise` successes', () => {
    const s = new ScriptState(2, 3);
    expect(s.up).toBe(true);
    expect([s.result(false), s.result(false)]).toEqual([false, false]);
    expect(s.result(true)).toBe(false); // the run of failures is broken
    expect([s.result(false), s.result(false), s.result(false)]).toEqual([false, false, true]);
    expect(s.up).toBe(false);
    expect([s.result(true), s.result(true)]).toEqual([false, true]);
    expect(s.up).toBe(true);
  });
});
