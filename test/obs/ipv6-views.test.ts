/**
 * The metrics and the web console with an IPv6 service. The table is the packet path's own
 * snapshot: the IPv6 oracle run rr3 set up by `dsrlb ipvsadm` (harness6.ts) plus an IPv4 service,
 * after the run's pcap. The labels and names must carry the IPv6 addresses as ipvsadm writes them
 * (`vip="2001:db8::10"` as the IPv4 `vip` label holds the address alone, `real="[2001:db8::21]:80"`,
 * `TCP [2001:db8::10]:80`), never the 32-bit fold printed as a dotted quad; rates and console
 * writes must reach the IPv6 service and its reals.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, writeTarget, type ConsoleHandle } from '../../src/cli/console.ts';
import type { Director, PacketSnapshot } from '../../src/engine/index.ts';
import { controlRequest, validateWrite } from '../../src/io/index.ts';
import { foldIPv6, ipToString, parseIPv6 } from '../../src/model/index.ts';
import { ConsoleModel, describeControlChange, prometheusText, RateEstimator } from '../../src/obs/index.ts';
import { ipvsadm, pcapFrames, type FakeDirector } from '../ipvsadm/harness.ts';
import { DIR6, director6, run6 } from '../ipvsadm/harness6.ts';

const FOLDS = ['2001:db8::10', '2001:db8::21', '2001:db8::22', '2001:db8::23'].map((a) => ipToString(foldIPv6(parseIPv6(a)!)));
const quiet = { info() {}, warn() {}, error() {}, debug() {} } as never;

let fd: FakeDirector;
let snap: PacketSnapshot;
let rates: RateEstimator;
beforeAll(async () => {
  const { spec, out } = run6('rr3');
  fd = await director6(spec, out);
  expect((await ipvsadm(fd.control, ['-A', '-t', '10.0.0.1:80', '-s', 'rr'])).code).toBe(0);
  const frames = pcapFrames(join(DIR6, 'pcap', 'rr3.pcap'));
  rates = new RateEstimator();
  fd.now = frames[0]!.timeMs - 1;
  rates.update(fd.snapshot(), fd.now);
  fd.feed(frames);
  fd.advance(frames[0]!.timeMs + 1999);
  rates.update(fd.snapshot(), fd.now);
  snap = fd.snapshot();
});
afterAll(async () => fd?.close());

function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of text.split('\n')) if (l && !l.startsWith('#')) m.set(l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1)));
  return m;
}

describe('Prometheus metrics with an IPv6 service', () => {
  let text = '';
  let s = new Map<string, number>();
  beforeAll(async () => {
    text = await prometheusText(snap, { rates: rates.report() });
    s = samples(text);
  });
  const svc = 'proto="tcp",vip="2001:db8::10",port="80"';

  it('labels the service by its address and each real as [addr]:port; no fold is printed', () => {
    const svc6 = snap.services.find((x) => x.vip6 === '2001:db8::10')!;
    expect(s.get(`dsrlb_service_connections_total{${svc}}`)).toBe(svc6.conns);
    expect(svc6.conns).toBeGreaterThan(0);
    for (const r of svc6.reals) {
      const rl = `${svc},real="[${r.addr6}]:80"`;
      expect(s.get(`dsrlb_real_connections_total{${rl}}`), rl).toBe(r.conns);
      expect(s.get(`dsrlb_real_inactive_connections{${rl}}`), rl).toBe(r.inactConns);
      expect(s.get(`dsrlb_real_resolved{${rl}}`), rl).toBe(1);
    }
    expect(s.get(`dsrlb_service_reals{${svc}}`)).toBe(3);
    expect(s.get('dsrlb_service_reals{proto="tcp",vip="10.0.0.1",port="80"}')).toBe(0);
    for (const f of FOLDS) expect(text).not.toContain(`"${f}`);
  });

  it('joins the IPv6 service\'s rates (keyed by vip6)', () => {
    const r = rates.report().services.find((x) => x.vip6 === '2001:db8::10')!;
    expect(r.rates.cps).toBeGreaterThan(0);
    expect(s.get(`dsrlb_service_connection_rate{${svc}}`)).toBe(r.rates.cps);
  });
});

describe('the web console with an IPv6 service', () => {
  it('names the service and its reals as ipvsadm does, with their rates', () => {
    const m = new ConsoleModel({ mode: 'director', writable: false });
    const st = m.update(1000, snap, rates.report(), new Map(), new Map());
    const s6 = st.services.find((x) => x.vip6 !== undefined)!;
    expect(s6.name).toBe('TCP [2001:db8::10]:80');
    expect(s6.reals.map((r) => r.name).sort()).toEqual(['[2001:db8::21]:80', '[2001:db8::22]:80', '[2001:db8::23]:80']);
    expect(s6.reals.map((r) => r.addr6).sort()).toEqual(['2001:db8::21', '2001:db8::22', '2001:db8::23']);
    expect(s6.rates.cps).toBeGreaterThan(0);
    expect(s6.reals.some((r) => r.rates.inpps > 0)).toBe(true);
    expect(st.services.find((x) => x.vip6 === undefined)!.name).toBe('TCP 10.0.0.1:80');
    for (const f of FOLDS) expect(JSON.stringify(st)).not.toContain(f);
  });

  it('takes an IPv6 write: the address checked and made canonical, then sent with its fold', () => {
    const w = validateWrite({ proto: 'tcp', vip: '2001:DB8:0::10', port: 80, addr: '2001:db8::0:21', rport: 80, action: 'quiesce' });
    expect(w).toMatchObject({ vip: '2001:db8::10', addr: '2001:db8::21' });
    expect(writeTarget(w)).toEqual({
      svc: { proto: 'tcp', vip: foldIPv6(parseIPv6('2001:db8::10')!), port: 80, vip6: '2001:db8::10' },
      addr: foldIPv6(parseIPv6('2001:db8::21')!), addr6: '2001:db8::21', port: 80,
    });
    expect(() => validateWrite({ proto: 'tcp', vip: '2001:db8::10::1', port: 80, addr: '2001:db8::21', rport: 80, action: 'quiesce' })).toThrow(/vip/);
  });

  describe('through the console\'s write API to the packet path', () => {
    let dir = '';
    let web: ConsoleHandle;
    const TOKEN = 'ipv6-console-token-0123';
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'h6b-console-'));
      writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
      const director = {
        onPacketEvent: null,
        request: (op: Record<string, unknown>) => controlRequest(fd.control, { id: 0, ...op }),
      } as unknown as Director;
      web = await startConsole({ addr: '127.0.0.1:0', tokenFile: join(dir, 'token'), mode: 'director', director, log: quiet, samplesPerSecond: 0 });
    });
    afterAll(async () => {
      await web?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('quiesces and restores an IPv6 real', async () => {
      const post = (action: string) => fetch(`http://127.0.0.1:${web.server.address.port}/api/real`, {
        method: 'POST', headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ proto: 'tcp', vip: '2001:db8::10', port: 80, addr: '2001:db8::22', rport: 80, action }),
      });
      const weight = async () => (await ipvsadm(fd.control, ['-S', '-n'])).out.split('\n').find((l) => l.includes('-r [2001:db8::22]:80'));
      const q = await post('quiesce');
      expect(await q.json()).toEqual({ ok: true, done: expect.stringContaining('quiesce: TCP [2001:db8::10]:80 → [2001:db8::22]:80 weight 1 → 0') });
      expect(await weight()).toMatch(/-w 0$/);
      expect((await post('restore')).status).toBe(200);
      expect(await weight()).toMatch(/-w 1$/);
    });
  });
});

describe('the runtime-change log line for IPv6 requests', () => {
  it('names the IPv6 service and real as ipvsadm writes them', () => {
    const svc = { proto: 'tcp', vip: foldIPv6(parseIPv6('2001:db8::10')!), port: 80, vip6: '2001:db8::10' };
    expect(describeControlChange({ op: 'addService6', spec: { proto: 'tcp', vip6: '2001:db8::10', port: 80, scheduler: 'rr' } })).toBe('add service TCP [2001:db8::10]:80: scheduler rr');
    expect(describeControlChange({ op: 'addReal6', svc, real: { addr6: '2001:db8::21', port: 80, weight: 2 } })).toBe('add real [2001:db8::21]:80 to TCP [2001:db8::10]:80: weight 2');
    expect(describeControlChange({ op: 'deleteReal', svc, addr: 1, addr6: '2001:db8::21', port: 80 })).toBe('delete real [2001:db8::21]:80 from TCP [2001:db8::10]:80');
    expect(describeControlChange({ op: 'deleteService', svc })).toBe('delete service TCP [2001:db8::10]:80');
  });
});
