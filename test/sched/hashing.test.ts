/** sh, dh and mh tables: filling, flags, fallback, quiescing; and the factory. */
import { describe, expect, it } from 'vitest';
import { DEST_F_OVERLOAD } from '../../src/model/index.ts';
import type { Dest } from '../../src/model/index.ts';
import {
  DestHashScheduler, MaglevScheduler, MH_TABLE_SIZES, SCHEDULERS, SH_TAB_SIZE, SourceHashScheduler, createScheduler,
  parseSchedFlags, shBucket,
} from '../../src/sched/index.ts';
import type { SchedName } from '../../src/sched/index.ts';
import { Service, ip } from './harness.ts';

function count(table: readonly (Dest | null)[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of table) if (d) m.set(d.addr & 255, (m.get(d.addr & 255) ?? 0) + 1);
  return m;
}

describe('sh', () => {
  it('fills 256 buckets in list order, `weight` consecutive buckets per dest', () => {
    const svc = new Service('sh');
    svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 2); svc.add('10.0.0.23', 3);
    const t = (svc.sched as SourceHashScheduler).table;
    expect(t.slice(0, 7).map((d) => d!.addr & 255)).toEqual([23, 23, 23, 22, 22, 21, 23]);
    // 256 = 42 cycles of 6 + 4 buckets (.23 .23 .23 .22)
    expect(Object.fromEntries(count(t))).toEqual({ 23: 129, 22: 85, 21: 42 });
  });

  it('a weight-0 dest keeps one bucket per cycle and refuses its flows; sh-fallback walks on', () => {
    const plain = new Service('sh');
    const fb = new Service('sh', { shFallback: true });
    for (const svc of [plain, fb]) { svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 0); svc.add('10.0.0.23', 1); }
    expect(count((plain.sched as SourceHashScheduler).table).get(22)).toBe(85);
    let refused = 0;
    for (let i = 1; i <= 2000; i++) {
      const saddr = ip('10.50.0.0') + i;
      const d = plain.pick(saddr, 0);
      const e = fb.pick(saddr, 0);
      expect(e).not.toBeNull();
      expect(e!.weight).toBeGreaterThan(0);
      if (d === null) {
        refused++;
        expect((plain.sched as SourceHashScheduler).table[shBucket(saddr, 0)]!.weight).toBe(0);
      } else {
        expect(e!.addr).toBe(d.addr); // the fallback only acts when the first choice is unavailable
      }
    }
    expect(refused).toBeGreaterThan(500);
  });

  it('sh-port adds the source port to the hashed value (and mh-port is the same kernel bit)', () => {
    const a = new Service('sh', { shPort: true });
    const b = new Service('sh', { mhPort: true });
    const c = new Service('sh');
    for (const svc of [a, b, c]) { svc.add('10.0.0.21'); svc.add('10.0.0.22'); svc.add('10.0.0.23'); }
    const s = ip('10.1.2.3');
    const byPort = new Set<number>();
    for (let p = 20000; p < 20020; p++) {
      expect(a.pick(s, p)!.addr).toBe(b.pick(s, p)!.addr);
      expect(c.pick(s, p)).toBe(c.pick(s, 1));
      byPort.add(a.pick(s, p)!.addr);
      expect(a.pick(s, p)).toBe(a.dests[(shBucket(s, p)) % 3]);
    }
    expect(byPort.size).toBe(3);
  });

  it('an empty table gives null, with or without fallback', () => {
    expect(new Service('sh').pick(1, 1)).toBeNull();
    expect(new Service('sh', { shFallback: true }).pick(1, 1)).toBeNull();
    expect(SH_TAB_SIZE).toBe(256);
  });
});

describe('dh', () => {
  it('hashes the destination address: one VIP, one real; weights only gate the lookup', () => {
    const svc = new Service('dh');
    svc.add('10.0.0.21', 1); const b = svc.add('10.0.0.22', 5); svc.add('10.0.0.23', 1);
    const t = (svc.sched as DestHashScheduler).table;
    expect(Object.fromEntries(count(t))).toEqual({ 23: 86, 22: 85, 21: 85 });
    const first = svc.pick(ip('10.1.0.1'), 1);
    for (let i = 0; i < 50; i++) expect(svc.pick(ip('10.1.0.1') + i, 2000 + i)).toBe(first);
    expect(first).toBe(b);
    svc.edit(b, 0);
    expect(svc.pick(1, 1)).toBeNull(); // no fallback in dh
  });
});

describe('mh', () => {
  it('builds a full table with slots shared by weight', () => {
    const svc = new Service('mh');
    svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 2); svc.add('10.0.0.23', 3);
    const m = count((svc.sched as MaglevScheduler).table);
    expect(m.get(21)! + m.get(22)! + m.get(23)!).toBe(4093);
    expect(m.get(22)! / m.get(21)!).toBeCloseTo(2, 1);
    expect(m.get(23)! / m.get(21)!).toBeCloseTo(3, 1);
  });

  it('quiescing (weight 0 by edit) keeps the slots; restoring the weight restores the table', () => {
    const svc = new Service('mh');
    svc.add('10.0.0.21'); const b = svc.add('10.0.0.22'); svc.add('10.0.0.23');
    const sched = svc.sched as MaglevScheduler;
    const before = sched.table.slice();
    svc.edit(b, 0);
    expect(sched.table).toEqual(before);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const d = svc.pick(ip('10.60.0.0') + i, 0);
      if (d === null) refused++;
      else expect(d).not.toBe(b);
    }
    expect(refused).toBeGreaterThan(700); // about a third
    svc.edit(b, 1);
    expect(sched.table).toEqual(before);
  });

  it('mh-fallback re-hashes to an available dest when the first one is unavailable', () => {
    const plain = new Service('mh');
    const fb = new Service('mh', { mhFallback: true });
    const bs: Dest[] = [];
    for (const svc of [plain, fb]) { svc.add('10.0.0.21'); bs.push(svc.add('10.0.0.22')); svc.add('10.0.0.23'); }
    plain.edit(bs[0]!, 1, DEST_F_OVERLOAD);
    fb.edit(bs[1]!, 1, DEST_F_OVERLOAD);
    for (let i = 0; i < 3000; i++) {
      const s = ip('10.70.0.0') + i;
      const d = plain.pick(s, 0);
      const e = fb.pick(s, 0);
      expect(e).not.toBeNull();
      expect(e).not.toBe(bs[1]);
      if (d) expect(e!.addr).toBe(d.addr);
    }
  });

  it('a dest added with weight 0 gets no slot', () => {
    const svc = new Service('mh');
    svc.add('10.0.0.21'); svc.add('10.0.0.22', 0); svc.add('10.0.0.23');
    const m = count((svc.sched as MaglevScheduler).table);
    expect(m.has(22)).toBe(false);
    expect(m.get(21)! + m.get(23)!).toBe(4093);
  });

  it('large weights are scaled by the gcd and the shift (turns = (w / g) >> shift, at least 1)', () => {
    const svc = new Service('mh');
    svc.add('10.0.0.21', 1); svc.add('10.0.0.22', 64); svc.add('10.0.0.23', 200);
    // g = 1, fls(200) = 8 -> shift 2: turns 1 (0 rounded up), 16, 50
    const m = count((svc.sched as MaglevScheduler).table);
    expect(m.get(21)! + m.get(22)! + m.get(23)!).toBe(4093);
    expect(m.get(23)! / m.get(22)!).toBeCloseTo(50 / 16, 1);
    expect(m.get(21)!).toBeGreaterThan(4093 / 67 - 10);
  });

  it('every kernel table size works; anything else is refused', () => {
    for (const size of MH_TABLE_SIZES) {
      const svc = new Service('mh', {}, { mhTableSize: size });
      svc.add('10.0.0.21'); svc.add('10.0.0.22');
      expect((svc.sched as MaglevScheduler).table.length).toBe(size);
      expect((svc.sched as MaglevScheduler).table.every((d) => d !== null)).toBe(true);
    }
    expect(() => createScheduler('mh', {}, { mhTableSize: 4096 })).toThrow(/not one of the kernel's primes/);
    expect(() => createScheduler('mh', {}, { mhTableSize: 1000 })).toThrow(expect.objectContaining({ code: 'E_SCHED_MH_TABLE_SIZE' }));
  });

  it('empty service, and all dests deleted, give null', () => {
    const svc = new Service('mh', { mhFallback: true });
    expect(svc.pick(1, 1)).toBeNull();
    const a = svc.add('10.0.0.21');
    expect(svc.pick(1, 1)).toBe(a);
    svc.del(a);
    expect(svc.pick(1, 1)).toBeNull();
  });
});

describe('factory', () => {
  it('creates every scheduler by name', () => {
    for (const name of SCHEDULERS) expect(createScheduler(name).name).toBe(name);
  });

  it('throws E_SCHED_UNKNOWN for an unknown name', () => {
    expect(() => createScheduler('lblc' as SchedName)).toThrow(expect.objectContaining({ code: 'E_SCHED_UNKNOWN' }));
  });

  it('parses ipvsadm -b flags', () => {
    expect(parseSchedFlags(['sh-port', 'sh-fallback'])).toEqual({ shPort: true, shFallback: true });
    expect(parseSchedFlags('mh-port,mh-fallback')).toEqual({ mhPort: true, mhFallback: true });
    expect(parseSchedFlags(['flag-2'])).toEqual({ shPort: true, mhPort: true });
    expect(parseSchedFlags([])).toEqual({});
    expect(() => parseSchedFlags(['sh-bogus'])).toThrow(/unknown scheduler flag/);
  });

  it('a scheduler never told about its dests initialises itself on the first pick', () => {
    for (const name of SCHEDULERS) {
      const donor = new Service('rr');
      donor.add('10.0.0.21'); donor.add('10.0.0.22');
      const s = createScheduler(name);
      const d = s.schedule(donor.dests, ip('10.1.0.1'), 1234, ip('10.123.0.100'), 80);
      expect(d, name).not.toBeNull();
    }
  });
});

describe('address forms', () => {
  it('uint32 and int32 (same bits) addresses give the same picks for every scheduler', () => {
    const variants: [SchedName, object][] = [
      ['rr', {}], ['wrr', {}], ['lc', {}], ['wlc', {}], ['sed', {}], ['nq', {}], ['dh', {}],
      ['sh', {}], ['sh', { shPort: true, shFallback: true }], ['mh', {}], ['mh', { mhPort: true, mhFallback: true }],
    ];
    for (const [name, flags] of variants) {
      const u = new Service(name, flags);
      const s = new Service(name, flags);
      for (const svc of [u, s]) {
        svc.add('10.0.0.21', 1); svc.add('200.0.0.22', 2); const c = svc.add('250.0.0.23', 3);
        svc.edit(c, 0);
      }
      for (let i = 0; i < 2000; i++) {
        const saddr = (0x80000000 + i * 2654435761) >>> 0;
        const daddr = (0xc0000000 + i * 40503) >>> 0;
        const a = u.sched.schedule(u.dests, saddr, 1024 + i, daddr, 80);
        const b = s.sched.schedule(s.dests, saddr | 0, 1024 + i, daddr | 0, 80);
        expect(b?.id, `${name} ${JSON.stringify(flags)} flow ${i}`).toBe(a?.id);
      }
    }
  });
});
