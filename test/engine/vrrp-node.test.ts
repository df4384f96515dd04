/**
 * VrrpNode with a fake clock and two transports wired back to back: two routers elect the higher
 * priority, the VIP resources and notify calls follow the state, a graceful stop hands over after
 * the skew time, and bad packets are counted, never acted on.
 */
import { describe, expect, it } from 'vitest';
import { parseKeepalivedConfig } from '../../src/config/index.ts';
import { VrrpNode } from '../../src/engine/index.ts';
import { silentLogger, type Clock, type VrrpTransport } from '../../src/ports/index.ts';

class FakeClock implements Clock {
  t = 0;
  private timers: { every: number; next: number; fn: () => void; on: boolean }[] = [];
  now(): number {
    return this.t;
  }
  every(ms: number, fn: () => void): () => void {
    const x = { every: ms, next: this.t + ms, fn, on: true };
    this.timers.push(x);
    return () => { x.on = false; };
  }
  protected once(ms: number, fn: () => void): () => void {
    const x = { every: 0, next: this.t + ms, fn, on: true };
    this.timers.push(x);
    return () => { x.on = false; };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.on && x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      if (due.every === 0) due.on = false;
      else due.next += due.every;
      due.fn();
    }
    this.t = end;
  }
}

/** The same clock with one-shot timers: VrrpNode then keeps an exact deadline instead of polling. */
class FakeClockWithAfter extends FakeClock {
  after(ms: number, fn: () => void): () => void {
    return this.once(ms, fn);
  }
}

/** Two transports: what one sends, the other receives (synchronously). */
function wire(): [VrrpTransport & { sent: Buffer[] }, VrrpTransport & { sent: Buffer[] }] {
  const mk = () => {
    const l: ((p: Buffer) => void)[] = [];
    return { sent: [] as Buffer[], deliver: (p: Buffer) => l.forEach((f) => f(p)), onPacket: (cb: (p: Buffer) => void) => void l.push(cb) };
  };
  const a = mk();
  const b = mk();
  const t = (x: typeof a, y: typeof a) => ({
    sent: x.sent,
    send: (p: Buffer) => { x.sent.push(p); y.deliver(p); },
    onPacket: x.onPacket,
    close: () => undefined,
  });
  return [t(a, b), t(b, a)];
}

const conf = (prio: number) => parseKeepalivedConfig(
  `vrrp_instance V {\n interface eth0\n virtual_router_id 7\n priority ${prio}\n advert_int 0.1\n version 3\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n`,
  'k.conf', { read: () => null, glob: () => [], dirname: () => '/' },
).vrrpInstances[0]!;

function node(prio: number, self: number, transport: VrrpTransport, clock: Clock, log: string[], takeoverAt: number[] = []) {
  return new VrrpNode({ instance: conf(prio), self, prefix: 24, tickMs: 5 }, {
    transport, clock, log: silentLogger,
    resources: {
      cleanup: async () => void log.push('cleanup'),
      takeover: async () => { log.push('takeover'); takeoverAt.push(clock.now()); },
      giveup: async () => void log.push('giveup'),
      notify: async (s) => void log.push(`notify ${s}`),
    },
  });
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe.each([
  ['a polled clock (every() only)', () => new FakeClock()],
  ['a clock with one-shot timers (after())', () => new FakeClockWithAfter()],
])('VrrpNode with %s', (_name, newClock) => {
  it('elects the higher priority, hands over on a graceful stop after the skew time, counts bad packets', async () => {
    const clock = newClock();
    const [ta, tb] = wire();
    const la: string[] = [];
    const lb: string[] = [];
    const a = node(200, 0x0a000001, ta, clock, la);
    const b = node(100, 0x0a000002, tb, clock, lb);
    await a.start();
    await b.start();
    clock.advance(400); // a: down interval 300 + 21.9 ms
    await flush();
    expect(a.status().state).toBe('master');
    expect(b.status().state).toBe('backup');
    expect(la).toEqual(['cleanup', 'notify BACKUP', 'takeover', 'notify MASTER']);
    clock.advance(2000);
    expect(b.status().state).toBe('backup');
    expect(b.status().accepted).toBeGreaterThanOrEqual(19);
    // A garbled packet and a wrong VRID: counted, nothing else.
    const bad = Buffer.from(ta.sent.at(-1)!);
    bad[21] = 99;
    ta.send(bad, 0);
    ta.send(Buffer.alloc(5), 0);
    expect(b.status().rejected).toMatchObject({ vrid: 1, decode: 1 });
    expect(b.status().state).toBe('backup');
    // Graceful stop of the master: priority 0, then the backup takes over after its skew time (~61 ms).
    const t0 = clock.now();
    await a.stop();
    expect(la.slice(-2)).toEqual(['giveup', 'notify STOP']);
    clock.advance(50);
    expect(b.status().state).toBe('backup');
    clock.advance(20);
    await flush();
    expect(b.status().state).toBe('master');
    expect(clock.now() - t0).toBeLessThan(100);
    expect(lb).toContain('takeover');
    await b.stop();
  });

  it('tracking: FAULT from master sends priority 0 and gives the VIP up; a lower priority lets the peer preempt', async () => {
    const clock = newClock();
    const [ta, tb] = wire();
    const la: string[] = [];
    const a = node(200, 0x0a000001, ta, clock, la);
    const b = node(100, 0x0a000002, tb, clock, []);
    await a.start();
    await b.start();
    clock.advance(400);
    await flush();
    expect(a.status().state).toBe('master');
    a.track(200, 'interface eth1 is down');
    await flush();
    expect(a.status().state).toBe('fault');
    expect(la.slice(-2)).toEqual(['giveup', 'notify FAULT']);
    clock.advance(100);
    await flush();
    expect(b.status().state).toBe('master');
    a.track(200, null);
    expect(a.status().state).toBe('backup');
    clock.advance(1000);
    await flush();
    expect(a.status().state).toBe('master'); // it preempts again (200 > 100)
    a.track(50, null); // a negative weight: now below the peer, which preempts
    clock.advance(1000);
    await flush();
    expect(a.status().state).toBe('backup');
    expect(b.status().state).toBe('master');
    await a.stop();
    await b.stop();
  });
});

describe('VrrpNode takeover timing', () => {
  /**
   * A master (priority 200, adverts every 100 ms) crashes: nothing more of it reaches the backup
   * (priority 100). Returns the ms from its last advert to the backup's first advert as master.
   */
  async function lastAdvertToTakeover(clock: FakeClock): Promise<number> {
    const [ta, tb] = wire();
    const sentAt = (t: typeof ta) => {
      const times: number[] = [];
      const send = t.send.bind(t);
      t.send = (p, dst) => { times.push(clock.now()); send(p, dst); };
      return times;
    };
    const fromA = sentAt(ta);
    const fromB = sentAt(tb);
    const a = node(200, 0x0a000001, ta, clock, []);
    const b = node(100, 0x0a000002, tb, clock, []);
    await a.start();
    await b.start();
    clock.advance(1003);
    await flush();
    expect(a.status().state).toBe('master');
    expect(fromB).toEqual([]);
    const crashedAt = clock.now();
    ta.send = () => undefined; // the crash
    clock.advance(1000);
    await flush();
    expect(b.status().state).toBe('master');
    const last = fromA.filter((t) => t <= crashedAt).at(-1)!;
    return fromB[0]! - last;
  }

  it('with after(), the backup takes over when Master_Down expires (3 x 100 ms + skew 60.9 ms), not at a poll tick', async () => {
    const exact = await lastAdvertToTakeover(new FakeClockWithAfter());
    expect(exact).toBeGreaterThanOrEqual(360.9);
    expect(exact).toBeLessThanOrEqual(361);
    // The same crash with a 5 ms poll (a clock without after()): later, by up to one tick.
    const polled = await lastAdvertToTakeover(new FakeClock());
    expect(polled).toBeGreaterThan(361);
    expect(polled).toBeLessThan(366);
  });
});
