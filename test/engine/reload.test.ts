import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { describeOp, diffServices, diffServices6, services6FromConfig, servicesFromConfig } from '../../src/engine/index.ts';
import { foldIPv6, parseIPv6 } from '../../src/model/index.ts';

const cfg = (text: string) => servicesFromConfig(parseLdirectordConfig(text, 'x.cf'));

const BASE = `
virtual=10.0.0.100:80
	real=10.0.0.21:80 gate 1
	real=10.0.0.22:80 gate 1
	scheduler=rr
virtual=10.0.0.100:443
	real=10.0.0.21:443 gate 1
	scheduler=rr
`;

describe('reload difference', () => {
  it('nothing changed: no operation (flows and health state stay)', () => {
    expect(diffServices(cfg(BASE), cfg(BASE))).toEqual([]);
  });

  it('a sequence of edited files gives exactly the expected operations', () => {
    const v2 = BASE.replace('real=10.0.0.22:80 gate 1', 'real=10.0.0.22:80 gate 3\n\treal=10.0.0.23:80 gate 1').replace('scheduler=rr\nvirtual=10.0.0.100:443', 'scheduler=wlc\nvirtual=10.0.0.100:443');
    expect(diffServices(cfg(BASE), cfg(v2)).map(describeOp)).toEqual([
      'edit service TCP 10.0.0.100:80: {"scheduler":"wlc"}',
      'edit real 10.0.0.22:80 in TCP 10.0.0.100:80: {"weight":3}',
      'add real 10.0.0.23:80 to TCP 10.0.0.100:80 (weight 1)',
    ]);
    const v3 = v2.replace(/virtual=10\.0\.0\.100:443[\s\S]*$/, 'virtual=10.0.0.100:53\n\treal=10.0.0.21:53 gate\n\tprotocol=udp\n\tscheduler=sh\n').replace('\treal=10.0.0.21:80 gate 1\n', '');
    expect(diffServices(cfg(v2), cfg(v3)).map(describeOp)).toEqual([
      'delete service TCP 10.0.0.100:443',
      'delete real 10.0.0.21:80 from TCP 10.0.0.100:80',
      'add service UDP 10.0.0.100:53 (sh)',
      'add real 10.0.0.21:53 to UDP 10.0.0.100:53 (weight 1)',
    ]);
  });
});

describe('reload difference for IPv6 services', () => {
  const cfg6 = (text: string) => services6FromConfig(parseLdirectordConfig(text, 'x6.cf'));
  const V6 = `
virtual6=[2001:db8::10]:80
	real6=[2001:db8::21]:80 gate 1
	real6=[2001:db8::22]:80 gate 1
	scheduler=rr
`;

  it('nothing changed: nothing to do; IPv4 changes do not touch the IPv6 services', () => {
    expect(diffServices6(cfg6(V6), cfg6(V6))).toEqual([]);
    expect(diffServices6(cfg6(V6), cfg6(V6 + BASE))).toEqual([]);
  });

  it('weights, reals, scheduler and whole services, keyed by the full addresses', () => {
    const v2 = V6.replace('real6=[2001:db8::22]:80 gate 1', 'real6=[2001:db8::22]:80 gate 3\n\treal6=[2001:db8:0:0:1::22]:80 gate 1').replace('scheduler=rr', 'scheduler=wlc');
    const ops = diffServices6(cfg6(V6), cfg6(v2));
    expect(ops.map(describeOp)).toEqual([
      'edit service TCP [2001:db8::10]:80: {"scheduler":"wlc"}',
      'edit real [2001:db8::22]:80 in TCP [2001:db8::10]:80: {"weight":3}',
      'add real [2001:db8::1:0:0:22]:80 to TCP [2001:db8::10]:80 (weight 1)',
    ]);
    // The ops name the service and the real by their addresses; the u32 fields hold the folds.
    expect(ops[1]).toMatchObject({ op: 'editReal', svc: { vip6: '2001:db8::10', vip: foldIPv6(parseIPv6('2001:db8::10')!) }, addr6: '2001:db8::22' });
    const v3 = 'virtual6=[2001:db8::11]:443\n\treal6=[2001:db8::21]:443 gate\n';
    expect(diffServices6(cfg6(v2), cfg6(v3)).map(describeOp)).toEqual([
      'delete service TCP [2001:db8::10]:80',
      'add service TCP [2001:db8::11]:443 (wrr)',
      'add real [2001:db8::21]:443 to TCP [2001:db8::11]:443 (weight 1)',
    ]);
  });
});
