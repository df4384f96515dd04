/**
 * `dsrlb ipvsadm` listing IPv6 services, against the texts Linux 6.1's ipvsadm 1.31 printed in the
 * IPv6 oracle runs (test/fixtures/ipvs-oracle/ipv6/out/*.json). The fake director (harness.ts: the
 * real packet path, a real control socket) gets the run's service through the data path's own API
 * (addService6/addDest6: `dsrlb ipvsadm -A` does not take IPv6 yet), the run's pcap is fed through
 * it, and `-L -n`, `--stats`, `--thresholds` and `-S -n` must print the kernel's lines.
 *
 * The runs show what ipvsadm does with IPv6 that it does not do with IPv4: the names are never cut
 * at 33 / 28 characters (sh3-port has a real of 40), and services and reals sort word by word with
 * C's wrapping int difference, so [2001:db8:ffff:…] comes before [2001:db8::21].
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import { parseSchedFlags, type SchedName } from '../../src/sched/index.ts';
import { ipvsadm, pcapFrames, REPO, startFakeDirector, type FakeDirector } from './harness.ts';
import type { Spec6 } from '../replay/oracle.ts';

const DIR = join(REPO, 'test/fixtures/ipvs-oracle/ipv6');

interface Texts6 {
  ipvsadm_L_n: string;
  ipvsadm_L_n_stats: string;
  ipvsadm_L_n_thresholds: string;
  ipvsadm_S_n: string;
}

const load = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const lines = (s: string): string[] => s.split('\n');

describe.each(['rr3', 'wrr123', 'sh3-port', 'udp-mh3-port', 'mh3b'])('IPv6 oracle run %s', (name) => {
  const spec = load<Spec6>(join(DIR, 'specs', `${name}.json`));
  const k = load<Texts6>(join(DIR, 'out', `${name}.json`));
  let fd: FakeDirector;

  beforeAll(async () => {
    fd = await startFakeDirector({ mac: spec.director_mac });
    const t = fd.pp.dp.services;
    const svc = t.addService6({
      proto: spec.protocol, vip6: parseIPv6(spec.vip)!, port: spec.port,
      scheduler: spec.scheduler as SchedName, schedFlags: parseSchedFlags(spec.sched_flags ?? []),
    });
    for (const r of spec.reals) {
      const addr6 = parseIPv6(r.ip)!;
      t.setNeighbour6(addr6, parseMac(r.mac)!);
      t.addDest6(svc, { addr6, port: r.port ?? spec.port, weight: r.weight, uThreshold: r.u_threshold });
    }
    fd.feed(pcapFrames(join(DIR, 'pcap', `${name}.pcap`)));
  });
  afterAll(async () => fd?.close());

  it('ipvsadm -L -n prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n']);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n));
  });

  it('ipvsadm -L -n --stats prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '--stats']);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n_stats));
  });

  it('ipvsadm -L -n --thresholds prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '--thresholds']);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n_thresholds));
  });

  it('ipvsadm -S -n prints the kernel\'s rules', async () => {
    const r = await ipvsadm(fd.control, ['-S', '-n']);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_S_n));
  });
});

describe('IPv4 and IPv6 services in one listing', () => {
  let fd: FakeDirector;
  beforeAll(async () => {
    fd = await startFakeDirector({ mac: '02:00:00:00:00:01' });
    const t = fd.pp.dp.services;
    // The IPv6 service first, so that the listing's order is ipvsadm's sort, not the order added.
    const s6 = t.addService6({ proto: 'tcp', vip6: parseIPv6('2001:db8::10')!, port: 80, scheduler: 'rr' });
    t.addDest6(s6, { addr6: parseIPv6('2001:db8::21')!, port: 80, weight: 1 });
    const r = await ipvsadm(fd.control, ['-A', '-t', '10.0.0.1:80', '-s', 'wlc']);
    expect(r.code).toBe(0);
    await ipvsadm(fd.control, ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:80', '-g', '-w', '2']);
  });
  afterAll(async () => fd?.close());

  it('lists IPv4 services before IPv6 ones (libipvs compares the family first)', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n']);
    expect(lines(r.out).slice(3)).toEqual([
      'TCP  10.0.0.1:80 wlc',
      '  -> 10.0.0.2:80                  Route   2      0          0         ',
      'TCP  [2001:db8::10]:80 rr',
      '  -> [2001:db8::21]:80            Route   1      0          0         ',
      '',
    ]);
  });
});
