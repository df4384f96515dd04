import { describe, expect, it } from 'vitest';
import type { AuthKey } from '../../src/config/index.ts';
import { HaNode, type HaNodeOptions, type HaResourceOps } from '../../src/engine/index.ts';
import { encodeMessage } from '../../src/ha/index.ts';
import { silentLogger, type Clock, type HaTransport } from '../../src/ports/index.ts';

class FakeClock implements Clock {
  t = 0;
  private timers: Array<{ ms: number; next: number; fn: () => void; on: boolean }> = [];
  now() {
    return this.t;
  }
  every(ms: number, fn: () => void) {
    const tm = { ms, next: this.t + ms, fn, on: true };
    this.timers.push(tm);
    return () => void (tm.on = false);
  }
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.on).sort((a, b) => a.next - b.next)[0];
      if (!due || due.next > end) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
      await Promise.resolve();
    }
    this.t = end;
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

/** Two endpoints of an in-memory wire; `cut` drops everything (a partition), `tap` records. */
function wire(opt: { refusals?: boolean } = {}) {
  const ends: Array<{ cb: ((m: Uint8Array) => void) | null; refused: ((addr: string) => void) | null; closed: boolean }> = [{ cb: null, refused: null, closed: false }, { cb: null, refused: null, closed: false }];
  /** `dead[i]`: end i's daemon is gone but its host is up: what is sent to it is refused (when the medium can tell). */
  const state = { cut: false, tap: [] as Uint8Array[][], dead: [false, false], forgeRefusals: false };
  state.tap = [[], []];
  const end = (i: 0 | 1): HaTransport => ({
    send(m) {
      if (ends[i]!.closed || state.dead[i]) return;
      state.tap[i]!.push(m);
      if (state.dead[1 - i] || state.forgeRefusals) queueMicrotask(() => ends[i]!.refused?.('192.0.2.1'));
      if (!state.cut && !state.dead[1 - i]) queueMicrotask(() => ends[1 - i]!.cb?.(m));
    },
    onMessage(cb) {
      ends[i]!.cb = (m) => cb(m, { addr: '192.0.2.1', port: 694 });
    },
    ...(opt.refusals ? { onRefused: (cb: (addr: string) => void) => void (ends[i]!.refused = cb) } : {}),
    async close() {
      ends[i]!.closed = true;
      ends[i]!.cb = null;
    },
  });
  return { a: end(0), b: end(1), state, inject: (i: 0 | 1, m: Uint8Array) => ends[i]!.cb?.(m) };
}

function recorder(clock: FakeClock) {
  const log: string[] = [];
  const ops: HaResourceOps = {
    cleanup: async () => void log.push(`${clock.t} cleanup`),
    takeover: async () => void log.push(`${clock.t} takeover`),
    giveup: async () => void log.push(`${clock.t} giveup`),
    reannounce: async () => void log.push(`${clock.t} reannounce`),
  };
  return { log, ops };
}

const key: AuthKey = { line: 1, index: 1, method: 'sha1', key: 'k' };
const keys = new Map([[1, key]]);
const common = { preferred: 'www1', autoFailback: 'off' as const, keepaliveMs: 100, deadtimeMs: 300, warntimeMs: 200, initdeadMs: 1000, signKey: key, keys, tickMs: 10 };
const opts = (self: 'www1' | 'www2', gen: number, extra: Partial<HaNodeOptions> = {}): HaNodeOptions => ({ ...common, self, peer: self === 'www1' ? 'www2' : 'www1', generation: gen, ...extra });

describe('HaNode with fake time and an in-memory wire', () => {
  it('both start, www1 (preferred) active; kill www1 → www2 takes over within deadtime + a tick; forged and replayed ignored', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n1 = new HaNode(opts('www1', 1000), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    const n2 = new HaNode(opts('www2', 2000), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    await n1.start();
    await n2.start();
    await clock.advance(50);
    expect([n1.role, n2.role]).toEqual(['active', 'standby']);
    expect(r1.log).toEqual(['0 cleanup', '0 takeover']);
    expect(r2.log).toEqual(['0 cleanup']);
    await clock.advance(4000);
    expect(n2.status().counters.accepted).toBeGreaterThanOrEqual(35);
    expect(n2.status().peerState).toBe('active');

    // Forged (wrong key) and replayed (a copy of one older than the last 32) messages change nothing.
    const forged = encodeMessage({ t: 'status', src: 'www1', dest: 'www2', gen: 1000, seq: 1e6, st: 'stopping' }, { ...key, key: 'guess' });
    w.inject(1, forged);
    const old = w.state.tap[0]!.find((m) => new TextDecoder().decode(m).includes('st=active'))!;
    w.inject(1, old);
    const foreign = encodeMessage({ t: 'status', src: 'www9', dest: 'www2', gen: 1, seq: 1, st: 'stopping' }, key);
    w.inject(1, foreign);
    await clock.advance(10);
    expect(n2.role).toBe('standby');
    expect(n2.status().counters).toMatchObject({ forged: 1, replayed: 1, foreign: 1 });

    // SIGKILL of www1: it just goes silent.
    w.state.cut = true;
    const killedAt = clock.t;
    for (let i = 0; i < 100 && n2.role !== 'active'; i++) await clock.advance(10);
    expect(n2.role).toBe('active');
    const took = clock.t - killedAt;
    expect(took).toBeLessThanOrEqual(300 + 10);
    expect(took).toBeGreaterThan(200 - 10);
    expect(r2.log.at(-1)).toBe(`${clock.t} takeover`);
    await n2.stop();
  });

  describe('early death: the peer\'s host refuses our heartbeats (its daemon died, the host is up)', () => {
    async function pair(refusals: boolean) {
      const clock = new FakeClock();
      const w = wire({ refusals });
      const r2 = recorder(clock);
      const logs: string[] = [];
      const log = { ...silentLogger, warn: (_o: unknown, msg: string) => void logs.push(msg) };
      const n1 = new HaNode(opts('www1', 1000), { transport: w.a, clock, resources: recorder(clock).ops, log: silentLogger });
      const n2 = new HaNode(opts('www2', 2000), { transport: w.b, clock, resources: r2.ops, log: log as typeof silentLogger });
      await n1.start();
      await n2.start();
      await clock.advance(1000);
      expect([n1.role, n2.role]).toEqual(['active', 'standby']);
      return { clock, w, n1, n2, r2, logs };
    }
    /** Kills www1 right after one of its heartbeats (the worst case for deadtime), returns kill → www2 active. */
    async function killAfterHeartbeat(p: Awaited<ReturnType<typeof pair>>): Promise<number> {
      const sent = p.w.state.tap[0]!.length;
      while (p.w.state.tap[0]!.length === sent) await p.clock.advance(1);
      p.w.state.dead[0] = true;
      const killedAt = p.clock.t;
      for (let i = 0; i < 100 && p.n2.role !== 'active'; i++) await p.clock.advance(5);
      expect(p.n2.role).toBe('active');
      return p.clock.t - killedAt;
    }

    it('refusal + silence > 1.5 × keepalive: www2 takes over early, logging why', async () => {
      const p = await pair(true);
      const took = await killAfterHeartbeat(p);
      expect(took).toBeGreaterThan(150 - 10);
      expect(took).toBeLessThanOrEqual(150 + 10 + 5);
      expect(p.n2.status().counters.refused).toBeGreaterThan(0);
      expect(p.n2.status().history.at(-1)).toMatchObject({ transition: 'peer-refused-silent' });
      expect(p.logs.join('\n')).toMatch(/dead early: its host refuses our heartbeats \(ICMP port unreachable/);
      expect(p.r2.log.at(-1)).toBe(`${p.clock.t} takeover`);
      await p.n2.stop();
    });

    it('refusals while heartbeats keep arriving (a forged ICMP): nothing happens', async () => {
      const p = await pair(true);
      p.w.state.forgeRefusals = true;
      await p.clock.advance(3000);
      expect(p.n2.status().counters.refused).toBeGreaterThanOrEqual(25);
      expect([p.n1.role, p.n2.role]).toEqual(['active', 'standby']);
      expect(p.n2.status().peerDead).toBe(false);
      expect(p.logs).toEqual([]);
      await p.n1.stop();
      await p.n2.stop();
    });

    it('no refusal (the peer silent, nothing refused: a host crash or a partition): deadtime as before', async () => {
      const p = await pair(true);
      p.w.state.cut = true;
      const killedAt = p.clock.t;
      for (let i = 0; i < 100 && p.n2.role !== 'active'; i++) await p.clock.advance(5);
      expect(p.clock.t - killedAt).toBeGreaterThan(200 - 10);
      expect(p.clock.t - killedAt).toBeLessThanOrEqual(300 + 10);
      expect(p.n2.status().counters.refused).toBe(0);
      expect(p.n2.status().history.at(-1)).toMatchObject({ transition: 'peer-dead' });
      await p.n2.stop();
    });

    it('a medium that cannot tell (bcast/mcast only: no onRefused): deadtime as before', async () => {
      const p = await pair(false);
      const took = await killAfterHeartbeat(p);
      expect(took).toBeGreaterThan(300 - 10);
      expect(took).toBeLessThanOrEqual(300 + 10 + 5);
      expect(p.n2.status().counters.refused).toBe(0);
      expect(p.n2.status().history.at(-1)).toMatchObject({ transition: 'peer-dead' });
      await p.n2.stop();
    });
  });

  it('connection sync: batches reach the peer authenticated; a replayed sync message is refused', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n1 = new HaNode(opts('www1', 1), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    const n2 = new HaNode(opts('www2', 1), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    const got: number[] = [];
    n2.onSync = (cs) => got.push(...cs.map((c) => c.cport));
    await n1.start();
    await n2.start();
    await clock.advance(50);
    const c = { proto: 'tcp' as const, caddr: 1, cport: 7, vaddr: 2, vport: 80, daddr: 3, dport: 80, state: 'ESTABLISHED' as const };
    n1.sendSync([c, { ...c, cport: 8 }]);
    await clock.advance(10);
    expect(got).toEqual([7, 8]);
    const syncMsg = w.state.tap[0]!.find((m) => new TextDecoder().decode(m).includes('t=sync'))!;
    // The same message again at once: a duplicate (as several media deliver); again after a couple
    // of newer heartbeats: still a duplicate (another medium's late copy); after more than 32
    // newer ones: a replay. None is imported twice.
    w.inject(1, syncMsg);
    await clock.advance(200);
    w.inject(1, syncMsg);
    await clock.advance(4000);
    w.inject(1, syncMsg);
    await clock.advance(10);
    expect(got).toEqual([7, 8]);
    expect(n2.status().counters).toMatchObject({ syncMessagesReceived: 1, syncConnsReceived: 2, duplicates: 2, replayed: 1 });
    expect(n1.status().counters).toMatchObject({ syncMessagesSent: 1, syncConnsSent: 2 });
    await n1.stop();
    await n2.stop();
  });

  it('orderly stop: the active sends giveup before releasing; the peer takes over on the next message, long before deadtime', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n1 = new HaNode(opts('www1', 1), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    const n2 = new HaNode(opts('www2', 1), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    await n1.start();
    await n2.start();
    await clock.advance(500);
    const t = clock.t;
    await n1.stop();
    await clock.advance(0);
    expect(n2.role).toBe('active');
    expect(r2.log.at(-1)).toBe(`${t} takeover`);
    expect(r1.log.at(-1)).toBe(`${t} giveup`);
    expect(n1.role).toBe('stopped');
    await n2.stop();
  });

  it('partition heals: both active, the preferred keeps serving (no giveup) and announces the VIP again, the other yields', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n1 = new HaNode(opts('www1', 1), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    const n2 = new HaNode(opts('www2', 1), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    await n1.start();
    await n2.start();
    await clock.advance(200);
    w.state.cut = true;
    await clock.advance(1000);
    expect([n1.role, n2.role]).toEqual(['active', 'active']);
    w.state.cut = false;
    await clock.advance(200);
    expect([n1.role, n2.role]).toEqual(['active', 'standby']);
    expect(r1.log.filter((l) => l.includes('giveup'))).toEqual([]);
    expect(r1.log.some((l) => l.includes('reannounce'))).toBe(true);
    expect(n2.status().counters.splitBrains + n1.status().counters.splitBrains).toBeGreaterThanOrEqual(1);

    await n1.stop();
    await n2.stop();
  });

  it('auto_failback off: www2 active alone (initdead), www1 restarts and stays standby; no resource moves', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n2 = new HaNode(opts('www2', 5), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    await n2.start();
    await clock.advance(1000);
    expect(n2.role).toBe('active');
    const n1 = new HaNode(opts('www1', 9), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    await n1.start();
    await clock.advance(2000);
    expect([n1.role, n2.role]).toEqual(['standby', 'active']);
    expect(r1.log).toEqual(['1000 cleanup']);
    expect(r2.log).toEqual(['0 cleanup', '1000 takeover']);
    await n1.stop();
    await n2.stop();
  });

  it('auto_failback on: www1 coming back gets the resources (www2 gives up first, then www1 takes over)', async () => {
    const clock = new FakeClock();
    const w = wire();
    const r1 = recorder(clock);
    const r2 = recorder(clock);
    const n2 = new HaNode(opts('www2', 5, { autoFailback: 'on' }), { transport: w.b, clock, resources: r2.ops, log: silentLogger });
    await n2.start();
    await clock.advance(1000);
    const n1 = new HaNode(opts('www1', 9, { autoFailback: 'on' }), { transport: w.a, clock, resources: r1.ops, log: silentLogger });
    await n1.start();
    await clock.advance(500);
    expect([n1.role, n2.role]).toEqual(['active', 'standby']);
    expect(r2.log.at(-1)).toMatch(/giveup$/);
    expect(r1.log.at(-1)).toMatch(/takeover$/);
    await n1.stop();
    await n2.stop();
  });
});
