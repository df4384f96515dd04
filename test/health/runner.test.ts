import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig, type LdirectordConfig } from '../../src/config/index.ts';
import { HealthMonitor, type HealthMonitorOptions } from '../../src/health/index.ts';
import { ipToString } from '../../src/model/index.ts';
import { FakeClock, fakeCheckers, fakeMaintenance, recordingSink } from './fakes.ts';

const cfg = (text: string): LdirectordConfig => parseLdirectordConfig(text, 'lb.cf');

/** One HTTP virtual with reals 10.0.0.2.. (weights 1..), checkinterval 10 s, negotiatetimeout 3 s. */
function httpConfig(n: number, extra = '', globals = ''): LdirectordConfig {
  const reals = Array.from({ length: n }, (_, i) => `\treal=10.0.0.${i + 2}:80 gate ${i + 1}`).join('\n');
  return cfg(`${globals}checkinterval=10\nnegotiatetimeout=3\nquiescent=yes\nvirtual=10.0.0.1:80\n${reals}\n\tservice=http\n\treceive="ok"\n${extra}`);
}

function setup(config: LdirectordConfig, o: Partial<HealthMonitorOptions> = {}) {
  const clock = new FakeClock();
  const fc = fakeCheckers(clock);
  const rec = recordingSink();
  const commands: string[] = [];
  const mon = new HealthMonitor(config, {
    clock, sink: rec.sink, checkers: fc.registry, tickMs: 50, startSpreadMs: 1000, guardMs: 1000,
    runCommand: async (line) => { commands.push(line); return { code: 0, signal: null }; },
    ...o,
  });
  return { clock, fc, rec, mon, commands };
}

const at = (calls: { target: string; at: number }[], target: string) => calls.filter((c) => c.target === target).map((c) => c.at);

describe('HealthMonitor: start and schedule', () => {
  it('fresh table: reals start down, come up at their first check; fallback on, then off', async () => {
    const { clock, rec, mon, commands } = setup(httpConfig(2, '\tfallback=10.0.0.99:80\n\tfallbackcommand="/etc/fb.sh"\n'));
    mon.start();
    expect(rec.lines()).toEqual(['10.0.0.2 down weight=0', '10.0.0.3 down weight=0']);
    expect(rec.changes[0]!.readd).toBe(true);
    expect(rec.fbLines()).toEqual(['fallback add + /etc/fb.sh start']);
    expect(rec.fallbacks[0]).toMatchObject({ fallback: { addr: 0x0a000063, port: 80 }, weight: 1 });
    await clock.advance(1000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 up weight=1', '10.0.0.3 up weight=2']);
    expect(rec.fbLines()).toEqual(['fallback add + /etc/fb.sh start', 'fallback remove + /etc/fb.sh stop']);
    expect(commands).toEqual(['/etc/fb.sh start', '/etc/fb.sh stop']);
    mon.stop();
  });

  it('reals already in the table start up (inTable), and nothing changes while they pass', async () => {
    const { clock, rec, mon } = setup(httpConfig(2), { inTable: () => true });
    mon.start();
    expect(rec.lines()).toEqual(['10.0.0.2 up weight=1', '10.0.0.3 up weight=2']);
    await clock.advance(30_000);
    expect(rec.changes).toHaveLength(2);
    expect(rec.fallbacks).toEqual([]);
    mon.stop();
  });

  it('staggers: the first round over startSpreadMs, then each real at its own offset of the interval', async () => {
    const { clock, fc, mon } = setup(httpConfig(4));
    mon.start();
    await clock.advance(25_000);
    expect(at(fc.calls, '10.0.0.2')).toEqual([0, 10_000, 20_000]);
    expect(at(fc.calls, '10.0.0.3')).toEqual([250, 2500, 12_500, 22_500]);
    expect(at(fc.calls, '10.0.0.4')).toEqual([500, 5000, 15_000, 25_000]);
    expect(at(fc.calls, '10.0.0.5')).toEqual([750, 7500, 17_500]);
    mon.stop();
  });

  it('a slow check delays nobody: the others keep their rounds; its own rounds are skipped; the guard fails it', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(2), { inTable: () => true });
    fc.behaviour.set('10.0.0.2', 'hang');
    mon.start();
    await clock.advance(3000);
    // negotiatetimeout 3 s + guard 1 s: the hanging check is failed at 4 s.
    expect(rec.lines().slice(2)).toEqual([]);
    await clock.advance(1000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 down weight=0']);
    expect(rec.checks.find((c) => !c.ok)).toMatchObject({ detail: 'no result within 4000 ms', latencyMs: 4000 });
    await clock.advance(36_000);
    expect(at(fc.calls, '10.0.0.3')).toEqual([500, 5000, 15_000, 25_000, 35_000]);
    expect(at(fc.calls, '10.0.0.2')).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
    mon.stop();
  });

  it('a check longer than the interval: the round that comes meanwhile is skipped and counted', async () => {
    const config = cfg('checkinterval=2\nnegotiatetimeout=5\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tservice=http\n');
    const { clock, fc, mon } = setup(config, { inTable: () => true });
    fc.behaviour.set('10.0.0.2', { after: 3000, ok: true });
    mon.start();
    await clock.advance(2000);
    await fc.release();
    await clock.advance(1000);
    await fc.release();
    expect(at(fc.calls, '10.0.0.2')).toEqual([0]);
    expect(mon.status()[0]).toMatchObject({ skipped: 1, checks: 1, lastLatencyMs: 3000, checking: false });
    await clock.advance(1000);
    expect(at(fc.calls, '10.0.0.2')).toEqual([0, 4000]);
    mon.stop();
  });
});

describe('HealthMonitor: ldirectord timing', () => {
  it('failurecount=2: down at the second consecutive failure, up again at the first success', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(2, '\tfailurecount=2\n'), { inTable: () => true });
    mon.start();
    await clock.advance(5000);
    fc.behaviour.set('10.0.0.2', 'fail');
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual([]);
    expect(mon.status()[0]).toMatchObject({ up: true, failures: 1, lastOk: false, lastError: '500 Internal Server Error' });
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 down weight=0']);
    expect(rec.changes[2]!.reason).toBe('check failed (2/2): 500 Internal Server Error');
    fc.behaviour.set('10.0.0.2', 'ok');
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 down weight=0', '10.0.0.2 up weight=1']);
    mon.stop();
  });

  it('quiescent=no removes and adds; every real down brings the fallback', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(1, '\tquiescent=no\n\tfallback=127.0.0.1:80\n'), { inTable: () => true });
    fc.behaviour.set('10.0.0.2', 'fail');
    mon.start();
    await clock.advance(100);
    expect(rec.lines()).toEqual(['10.0.0.2 up add=1', '10.0.0.2 down remove']);
    expect(rec.fbLines()).toEqual(['fallback add']);
    fc.behaviour.set('10.0.0.2', 'ok');
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 up add=1']);
    expect(rec.fbLines()).toEqual(['fallback add', 'fallback remove']);
    mon.stop();
  });

  it('checktype=N: connect checks between negotiate checks', async () => {
    const { clock, fc, mon } = setup(httpConfig(1, '\tchecktype=2\n'), { inTable: () => true });
    mon.start();
    await clock.advance(50_000);
    expect(fc.calls.map((c) => c.checker)).toEqual(['http', 'connect', 'connect', 'http', 'connect', 'connect']);
    mon.stop();
  });

  it('checktype=on: up without a checker; checktype=off: never checked (quiescent defaults to no, as in ldirectord)', async () => {
    const config = cfg('virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=on\nvirtual=10.0.0.1:81\n\treal=10.0.0.3:81 gate\n\tchecktype=off\n');
    const { clock, fc, rec, mon } = setup(config);
    mon.start();
    await clock.advance(30_000);
    expect(fc.calls).toEqual([]);
    expect(rec.lines()).toEqual(['10.0.0.2 down remove', '10.0.0.3 down remove', '10.0.0.2 up add=1']);
    mon.stop();
  });

  it('a service the checkers do not speak fails at run time with the validateChecks message', async () => {
    const { clock, rec, mon } = setup(cfg('virtual=10.0.0.1:3306\n\treal=10.0.0.2:3306 gate\n'), { inTable: () => true });
    mon.start();
    await clock.advance(100);
    expect(rec.changes[1]!.reason).toMatch(/service=mysql .*not supported yet/);
    mon.stop();
  });
});

describe('HealthMonitor: maintenancedir', () => {
  it('a file named after the real forces it down without checking it; removing the file brings it back', async () => {
    const m = fakeMaintenance({ '10.0.0.2': 'web1.example.org' });
    const { clock, fc, rec, mon } = setup(httpConfig(2, '', 'maintenancedir=/var/lib/maint\n'), { inTable: () => true, maintenance: m.probe });
    mon.start();
    await clock.advance(1000);
    expect(m.asked[0]).toEqual(['10.0.0.2:80', '10.0.0.2', 'web1.example.org:80', 'web1.example.org', 'web1:80', 'web1']);
    m.files.add('web1');
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 down weight=0']);
    expect(rec.changes[2]!.reason).toBe('server in maintenance: /var/lib/maint/web1');
    const checked = at(fc.calls, '10.0.0.2').length;
    await clock.advance(20_000);
    expect(at(fc.calls, '10.0.0.2').length).toBe(checked);
    expect(mon.status()[0]).toMatchObject({ up: false, maintenance: true });
    m.files.delete('web1');
    await clock.advance(10_000);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.2 down weight=0', '10.0.0.2 up weight=1']);
    mon.stop();
  });
});

describe('HealthMonitor: reload', () => {
  it('kept reals keep their state, new reals start down and get checked, removed reals stop', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(3, '\tfailurecount=3\n'), { inTable: (_v, r) => r.addr !== 0x0a000009 });
    fc.behaviour.set('10.0.0.2', 'fail');
    mon.start();
    await clock.advance(1000);
    expect(mon.status().find((s) => s.real.addr === 0x0a000002)).toMatchObject({ up: true, failures: 1 });
    const next = cfg('checkinterval=10\nnegotiatetimeout=3\nquiescent=yes\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 1\n\treal=10.0.0.3:80 gate 5\n\treal=10.0.0.9:80 gate 1\n\tservice=http\n\tfailurecount=3\n');
    const summary = mon.update(next);
    expect(summary).toEqual({
      added: ['tcp:10.0.0.1:80 10.0.0.9:80'], removed: ['tcp:10.0.0.1:80 10.0.0.4:80'], kept: ['tcp:10.0.0.1:80 10.0.0.2:80', 'tcp:10.0.0.1:80 10.0.0.3:80'],
    });
    expect(rec.lines().slice(3)).toEqual(['10.0.0.3 up weight=5', '10.0.0.9 down weight=0']);
    expect(mon.status().find((s) => s.real.addr === 0x0a000002)).toMatchObject({ up: true, failures: 1 });
    const removedCalls = at(fc.calls, '10.0.0.4').length;
    await clock.advance(25_000);
    expect(at(fc.calls, '10.0.0.4').length).toBe(removedCalls);
    expect(at(fc.calls, '10.0.0.9')[0]).toBe(1000);
    // 10.0.0.2 kept its count: two more failures take it down.
    expect(rec.lines().slice(5)).toEqual(['10.0.0.9 up weight=1', '10.0.0.2 down weight=0']);
    expect(mon.status().map((s) => ipToString(s.real.addr))).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.9']);
    mon.stop();
  });

  it('a removed virtual stops, an added virtual starts like at start', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(1), { inTable: () => true });
    mon.start();
    await clock.advance(100);
    mon.update(cfg('checkinterval=10\nvirtual=10.0.0.1:443\n\treal=10.0.0.7:443 gate\n\tchecktype=connect\n\tfallback=10.0.0.99:443\n'));
    expect(rec.lines()).toEqual(['10.0.0.2 up weight=1', '10.0.0.7 up add=1']);
    fc.behaviour.set('10.0.0.7', 'fail');
    await clock.advance(20_000);
    expect(at(fc.calls, '10.0.0.2')).toEqual([0]);
    expect(rec.lines().slice(2)).toEqual(['10.0.0.7 down remove']);
    expect(rec.fallbacks.map((f) => [f.virtual.port, f.action])).toEqual([[443, 'add']]);
    expect(mon.virtualStatus()).toEqual([{ virtual: { proto: 'tcp', vip: 0x0a000001, port: 443 }, reals: 1, realsUp: 0, fallback: { addr: 0x0a000063, port: 443 }, fallbackActive: true }]);
    mon.stop();
  });
});

describe('HealthMonitor: status and stop', () => {
  it('status() per real: up/down, failures, last check, latency, last error', async () => {
    const { clock, fc, mon } = setup(httpConfig(2), { inTable: () => true });
    fc.behaviour.set('10.0.0.3', { after: 120, ok: false });
    mon.start();
    await clock.advance(700);
    await fc.release();
    const [a, b] = mon.status();
    expect(a).toMatchObject({
      virtual: { proto: 'tcp', vip: 0x0a000001, port: 80 }, real: { addr: 0x0a000002, port: 80, configPort: 80 }, checktype: 'negotiate',
      up: true, weight: 1, failures: 0, failurecount: 1, lastCheck: 0, lastOk: true, lastLatencyMs: 0, lastError: null, checks: 1,
    });
    expect(b).toMatchObject({ up: false, weight: 0, failures: 1, lastCheck: 700, lastOk: false, lastLatencyMs: 200, lastError: 'slow fail', since: 700 });
    mon.stop();
  });

  it('stop() ends the ticking, aborts checks in flight and ignores their results', async () => {
    const { clock, fc, rec, mon } = setup(httpConfig(1), { inTable: () => true });
    fc.behaviour.set('10.0.0.2', 'hang');
    mon.start();
    await clock.advance(100);
    expect(mon.status()[0]!.checking).toBe(true);
    mon.stop();
    expect(clock.liveTimers).toBe(0);
    await clock.advance(60_000);
    expect(fc.calls).toHaveLength(1);
    expect(rec.changes).toHaveLength(1);
  });

  it('a sink that throws does not stop the checks', async () => {
    const clock = new FakeClock();
    const fc = fakeCheckers(clock);
    let n = 0;
    const mon = new HealthMonitor(httpConfig(1), {
      clock, checkers: fc.registry, tickMs: 50, sink: { onChange: () => { n++; throw new Error('boom'); }, onFallback: () => undefined },
    });
    fc.behaviour.set('10.0.0.2', 'fail');
    mon.start();
    await clock.advance(100);
    fc.behaviour.set('10.0.0.2', 'ok');
    await clock.advance(10_000);
    expect(n).toBe(2);
    mon.stop();
  });
});
