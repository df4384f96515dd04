/**
 * More kernel vectors, recorded for dsrlb with tools/ipvs-oracle (Linux 6.1.0-56-amd64, 6.1.192-2)
 * for behaviour the shared reference runs do not cover: sed, nq, wrr with a gcd step and with a
 * weight-0 real, rr/lc with weight 0, sh with weights, sh with a weight-0 real with and without
 * sh-fallback, mh with weights large enough to need the shift, mh with a weight-0 real, and
 * u_threshold overload with mh-fallback, sh-fallback+sh-port and wlc.
 *
 * Inputs: test/fixtures/ipvs-oracle/extra-specs/NAME.json (SPEC for oracle.sh and mkpcap.py).
 * Results: test/fixtures/ipvs-oracle/extra.json, NAME -> the kernel's connections in scheduling order.
 * Re-record one with:
 *   python3 tools/mkpcap.py /tmp/NAME.pcap extra-specs/NAME.json
 *   tools/ipvs-oracle/oracle.sh /tmp/NAME.pcap extra-specs/NAME.json /tmp/NAME.out.json
 * A SYN the kernel could not schedule (sh without fallback on a weight-0 bucket) creates no
 * connection and so has no entry; the replay skips a null pick the same way.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointToString } from '../../src/model/index.ts';
import { parseSchedFlags } from '../../src/sched/index.ts';
import { Service, fixturePath, ip, mkpcapFlows } from './harness.ts';
import type { OracleSpec } from './harness.ts';

interface Extra { kernel: string; spec: OracleSpec; choices: string[] }

const extra = JSON.parse(readFileSync(fixturePath('extra.json'), 'utf8')) as Record<string, Extra>;

describe('extra kernel vectors (test/fixtures/ipvs-oracle/extra.json)', () => {
  it('holds the recorded runs', () => {
    expect(Object.keys(extra).length).toBeGreaterThanOrEqual(14);
  });

  for (const [name, run] of Object.entries(extra)) {
    it(`${name}: every connection goes where the kernel sent it`, () => {
      const spec = run.spec;
      const svc = new Service(spec.scheduler, parseSchedFlags(spec.sched_flags ?? []), {}, ip(spec.vip), spec.port);
      for (const r of spec.reals) svc.add(r.ip, r.weight, r.port ?? spec.port, r.u_threshold ?? 0);
      const got: string[] = [];
      for (const { client, sport } of mkpcapFlows(spec)) {
        const d = svc.connect(ip(client), sport);
        if (d) got.push(`${client}:${sport}>${endpointToString(d.addr, d.port)}`);
      }
      expect(got).toEqual(run.choices);
    });
  }
});
