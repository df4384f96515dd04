/**
 * Replays the traffic of tools/ipvs-oracle's reference runs (Linux 6.1 IPVS under qemu) through our
 * schedulers and requires every one of the 101 choices to be the kernel's.
 */
import { describe, expect, it } from 'vitest';
import { parseSchedFlags } from '../../src/sched/index.ts';
import { Service, loadReference, loadSpec, mkpcapFlows, ip } from './harness.ts';
import { endpointToString } from '../../src/model/index.ts';

const TESTS = ['rr3', 'rr3-order', 'wrr123', 'wlc111', 'wlc123', 'lc3', 'sh3', 'sh3-port', 'mh3', 'mh3-port', 'mh123', 'dh3'];

describe('kernel reference choices (tools/ipvs-oracle/reference.json)', () => {
  const reference = loadReference();

  for (const name of TESTS) {
    it(`${name}: all choices equal the kernel's`, () => {
      const spec = loadSpec(name);
      const ref = reference[name];
      expect(ref, `reference.json has ${name}`).toBeDefined();
      // The spec the kernel ran must be the spec we replay.
      expect(ref!.spec.reals.map((r) => `${r.ip}/${r.weight}`)).toEqual(spec.reals.map((r) => `${r.ip}/${r.weight}`));

      const svc = new Service(spec.scheduler, parseSchedFlags(spec.sched_flags ?? []), {}, ip(spec.vip), spec.port);
      for (const r of spec.reals) svc.add(r.ip, r.weight, r.port ?? spec.port);

      const flows = mkpcapFlows(spec);
      expect(flows.length).toBe(ref!.choices.length);
      const got = flows.map(({ client, sport }) => {
        const d = svc.connect(ip(client), sport);
        return `${client}:${sport}>${d ? endpointToString(d.addr, d.port) : 'none'}`;
      });
      expect(got).toEqual(ref!.choices);
    });
  }
});
