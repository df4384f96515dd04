/**
 * Changing IPv6 services at run time through `dsrlb ipvsadm` (the fake director: the real packet
 * path behind a real control socket): -E, -e, -d, -Z, -D and -C on an IPv6 service, the refusals
 * ipvsadm and the kernel give (a real of the other family, a real that is not there), the same
 * refusals for raw control requests, and `-S` then `-R` rebuilding a table of IPv4 and IPv6
 * services on another director.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import { controlRequest } from '../../src/io/index.ts';
import { ipvsadm, pcapFrames, startFakeDirector, type FakeDirector } from './harness.ts';
import { DIR6, director6, run6 } from './harness6.ts';

const lines = (s: string): string[] => s.split('\n');
const body = (s: string): string[] => lines(s).slice(3);

describe('IPv6 services changed at run time', () => {
  let fd: FakeDirector;
  beforeAll(async () => {
    fd = await startFakeDirector({ mac: '02:00:00:00:00:01' });
    fd.pp.dp.services.setNeighbour6(parseIPv6('2001:db8::21')!, parseMac('02:00:00:00:00:21')!);
    for (const c of [
      ['-A', '-t', '[2001:db8::10]:80', '-s', 'wrr'],
      ['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21]:80', '-g', '-w', '2'],
      ['-a', '-t', '[2001:db8::10]:80', '-r', '2001:db8::22', '-w', '5'],
      ['-A', '-t', '10.0.0.1:80', '-s', 'rr'],
    ]) expect((await ipvsadm(fd.control, c)).code, c.join(' ')).toBe(0);
  });
  afterAll(async () => fd?.close());

  it('lists what -A and -a made', async () => {
    expect(body((await ipvsadm(fd.control, ['-L', '-n'])).out)).toEqual([
      'TCP  10.0.0.1:80 rr',
      'TCP  [2001:db8::10]:80 wrr',
      '  -> [2001:db8::21]:80            Route   2      0          0         ',
      '  -> [2001:db8::22]:80            Route   5      0          0         ',
      '',
    ]);
  });

  it('refuses what the kernel refuses: the service again, a real again, a real of the other family', async () => {
    expect(await ipvsadm(fd.control, ['-A', '-t', '[2001:db8:0::10]:80'])).toEqual({ code: 255, out: '', err: 'Service already exists\n' });
    expect(await ipvsadm(fd.control, ['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21]:80'])).toEqual({ code: 255, out: '', err: 'Destination already exists\n' });
    expect(await ipvsadm(fd.control, ['-a', '-t', '10.0.0.1:80', '-r', '[2001:db8::21]:80'])).toEqual({ code: 2, out: '', err: 'Different address family is allowed only for tunneling servers\n' });
    // -d has no family check in ipvsadm: the kernel looks the real up in the service's family.
    expect(await ipvsadm(fd.control, ['-d', '-t', '[2001:db8::10]:80', '-r', '10.0.0.2'])).toEqual({ code: 255, out: '', err: 'No such destination\n' });
    expect(await ipvsadm(fd.control, ['-e', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::23]:80'])).toEqual({ code: 255, out: '', err: 'No such destination\n' });
    expect(await ipvsadm(fd.control, ['-E', '-t', '[2001:db8::11]:80'])).toEqual({ code: 255, out: '', err: 'No such service\n' });
    expect(await ipvsadm(fd.control, ['-a', '-t', '[2001:db8::11]:80', '-r', '2001:db8::21'])).toEqual({ code: 255, out: '', err: 'Service not defined\n' });
  });

  it('a raw control request mixing families gets E_REAL_FAMILY, and a fold never stands for an IPv4 VIP', async () => {
    const svc6 = { proto: 'tcp', vip: 0, port: 80, vip6: '2001:db8::10' };
    await expect(controlRequest(fd.control, { id: 0, op: 'addReal', svc: svc6, real: { addr: 0x0a000002, port: 80, weight: 1 } })).rejects.toMatchObject({ code: 'E_REAL_FAMILY' });
    await expect(controlRequest(fd.control, { id: 0, op: 'addReal6', svc: { proto: 'tcp', vip: 0x0a000001, port: 80 }, real: { addr6: '2001:db8::21', port: 80, weight: 1 } })).rejects.toMatchObject({ code: 'E_REAL_FAMILY' });
    await expect(controlRequest(fd.control, { id: 0, op: 'addService6', spec: { proto: 'tcp', vip6: 'nonsense', port: 80, scheduler: 'rr' } })).rejects.toMatchObject({ code: 'E_CONTROL_REQUEST' });
  });

  it('-e, -E and -d change the IPv6 service', async () => {
    expect((await ipvsadm(fd.control, ['-e', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::22]:80', '-w', '7', '-x', '100', '-y', '50'])).code).toBe(0);
    expect((await ipvsadm(fd.control, ['-E', '-t', '[2001:db8::10]:80', '-s', 'sh', '-b', 'sh-port'])).code).toBe(0);
    expect((await ipvsadm(fd.control, ['-d', '-t', '[2001:db8::10]:80', '-r', '2001:db8::21'])).code).toBe(0);
    expect(body((await ipvsadm(fd.control, ['-L', '-n'])).out)).toEqual([
      'TCP  10.0.0.1:80 rr',
      'TCP  [2001:db8::10]:80 sh (sh-port)',
      '  -> [2001:db8::22]:80            Route   7      0          0         ',
      '',
    ]);
    expect(lines((await ipvsadm(fd.control, ['-L', '-n', '--thresholds', '-t', '[2001:db8::10]:80'])).out)[3]).toBe('  -> [2001:db8::22]:80            100        50         0          0         ');
  });

  it('-D deletes the IPv6 service alone (its fold is no IPv4 key); -C deletes every service', async () => {
    expect((await ipvsadm(fd.control, ['-D', '-t', '[2001:db8::10]:80'])).code).toBe(0);
    expect(body((await ipvsadm(fd.control, ['-L', '-n'])).out)).toEqual(['TCP  10.0.0.1:80 rr', '']);
    expect((await ipvsadm(fd.control, ['-A', '-u', '[2001:db8::10]:53'])).code).toBe(0);
    expect((await ipvsadm(fd.control, ['-C'])).code).toBe(0);
    expect(body((await ipvsadm(fd.control, ['-L', '-n'])).out)).toEqual(['']);
    expect(fd.pp.dp.services.services6.length).toBe(0);
  });
});

describe('-Z and -S / -R with IPv6 services (oracle run rr3 and an IPv4 service)', () => {
  const { spec, out } = run6('rr3');
  let a: FakeDirector;
  let b: FakeDirector | null = null;
  beforeAll(async () => {
    a = await director6(spec, out);
    expect((await ipvsadm(a.control, ['-A', '-u', '10.0.0.1:53', '-s', 'sh', '-b', 'sh-port'])).code).toBe(0);
    expect((await ipvsadm(a.control, ['-a', '-u', '10.0.0.1:53', '-r', '10.0.0.2', '-w', '3'])).code).toBe(0);
    a.feed(pcapFrames(join(DIR6, 'pcap', 'rr3.pcap')));
  });
  afterEach(async () => {
    await b?.close();
    b = null;
  });
  afterAll(async () => a?.close());

  for (const numeric of [true, false]) {
    it(`-S${numeric ? ' -n' : ''} then -R on another director rebuilds the same table`, async () => {
      const saved = (await ipvsadm(a.control, numeric ? ['-S', '-n'] : ['-S'])).out;
      // Without -n the ports are named (/etc/services), the IPv6 addresses never are.
      expect(saved).toContain(numeric ? '-A -t [2001:db8::10]:80 -s rr' : '-A -t [2001:db8::10]:http -s rr');
      b = await startFakeDirector({ mac: '02:00:00:00:00:02' });
      const r = await ipvsadm(b.control, ['-R'], saved);
      expect(r).toEqual({ code: 0, out: '', err: '' });
      expect((await ipvsadm(b.control, ['-S', '-n'])).out).toBe((await ipvsadm(a.control, ['-S', '-n'])).out);
      expect((await ipvsadm(b.control, ['-S', '-n'])).out.split('\n').filter((l) => l.includes('[2001:db8::'))).toEqual(lines(out.ipvsadm_S_n).filter((l) => l !== ''));
    });
  }

  it('-Z -t [VIP6]:PORT zeroes that service\'s counters only', async () => {
    const stats = async () => lines((await ipvsadm(a.control, ['-L', '-n', '--stats'])).out);
    const before = await stats();
    expect(before.find((l) => l.startsWith('TCP  [2001:db8::10]:80'))).not.toMatch(/\s0\s+0\s+0\s+0\s+0$/);
    expect((await ipvsadm(a.control, ['-Z', '-t', '[2001:db8::10]:80'])).code).toBe(0);
    const after = await stats();
    expect(after.find((l) => l.startsWith('TCP  [2001:db8::10]:80'))).toBe(`${'TCP  [2001:db8::10]:80'.padEnd(33)}${'        0'.repeat(5)}`);
    expect(after.find((l) => l.startsWith('UDP  10.0.0.1:53'))).toBe(before.find((l) => l.startsWith('UDP  10.0.0.1:53')));
  });
});
