import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { describeOp, diffServices, servicesFromConfig } from '../../src/engine/index.ts';

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
