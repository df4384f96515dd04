/**
 * Model-based tests: random packet sequences against a Map-based reference of the table's
 * documented behaviour (lazy expiry, INPUT_ONLY transitions, port reuse), then invariants of the
 * counters under templates, eviction and real changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnState as S, ConnVerdict, type ConnTable } from '../../src/conn/index.ts';
import {
  ACK, CLIENT, EXPECTED, FIN, PSH, RST, SYN, TCP, TIMEOUT_S, UDP, VIP, setup,
} from './helpers.ts';

// ---- the reference ------------------------------------------------------------------------------

interface RefConn { proto: number; state: S; exp: number; dest: number }

function refNext(state: S, flags: number): S {
  const row: number = flags & RST ? 3 : flags & SYN ? 0 : flags & FIN ? 1 : flags & ACK ? 2 : -1;
  return row < 0 ? S.Close : EXPECTED[state]![row]!;
}
const refTimeout = (proto: number, s: S): number => (proto === UDP ? 300_000 : TIMEOUT_S[s]! * 1000);
const refActive = (proto: number, s: S): boolean =>
  proto === TCP && (s === S.SynRecv || s === S.Established || s === S.SynSent || s === S.Synack);

// 8 TCP flows (4 clients × 2 even ports) and 4 UDP flows.
const FLOWS = Array.from({ length: 12 }, (_, i) => ({
  proto: i < 8 ? TCP : UDP, caddr: CLIENT + (i % 4), cport: 40000 + 2 * (i >> 2), vport: i < 8 ? 80 : 53,
}));
const key = (i: number) => `${i}`;

type Op =
  | { k: 'pkt'; flow: number; flags: number }
  | { k: 'tick'; dt: number }
  | { k: 'sweep'; budget: number }
  | { k: 'removeDest'; id: number }
  | { k: 'flush' };

const FLAG_SET = [SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, FIN, RST, RST | ACK, 0, SYN | FIN];
const DTS = [0, 1, 999, 2999, 3000, 10_000, 59_999, 60_000, 119_999, 120_000, 300_000, 900_000];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ k: fc.constant('pkt' as const), flow: fc.nat(11), flags: fc.constantFrom(...FLAG_SET) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.constantFrom(...DTS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sweep' as const), budget: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('removeDest' as const), id: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('flush' as const) }) },
);

/** The data path's per-packet use of the table (non-persistent service, every real available). */
function dataPath(t: ConnTable, i: number, flags: number, now: number, destFor: () => number): void {
  const f = FLOWS[i]!;
  let h = t.lookup(f.proto, f.caddr, f.cport, VIP, f.vport, now);
  if (h >= 0 && t.inputCheck(h, f.proto === TCP ? flags : 0) === ConnVerdict.NoConn) h = -1;
  if (h < 0) {
    if (f.proto === TCP && !t.tcpCanCreate(flags)) return;
    h = t.create(f.proto, f.caddr, f.cport, VIP, f.vport, destFor(), now);
  }
  if (f.proto === TCP) t.tcpInput(h, flags, now);
  else t.udpInput(h, now);
}

describe('ConnTable vs a Map reference', () => {
  it('agrees on presence, state, expiry, real, and the real counters', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(opArb, { minLength: 20, maxLength: 150, size: 'large' }), (sloppy, ops) => {
      const { t, d } = setup({ capacity: 64, sloppyTcp: sloppy });
      const ref = new Map<string, RefConn>();
      let now = 0;
      let created = 0;
      for (const op of ops) {
        switch (op.k) {
          case 'pkt': {
            const f = FLOWS[op.flow]!;
            let c = ref.get(key(op.flow));
            if (c && c.exp <= now) { ref.delete(key(op.flow)); c = undefined; }
            if (c && f.proto === TCP && (op.flags & SYN) && (c.state === S.TimeWait || c.state === S.Close)) {
              ref.delete(key(op.flow));
              c = undefined;
            }
            let made = false;
            if (!c) {
              const canCreate = f.proto === UDP || (!(op.flags & RST) && (sloppy || (op.flags & SYN) !== 0));
              if (!canCreate) { dataPath(t, op.flow, op.flags, now, () => -1); break; }
              c = { proto: f.proto, state: f.proto === TCP ? S.None : S.Udp, exp: 0, dest: (op.flow + created) % 3 };
              made = true;
            }
            if (f.proto === TCP) c.state = refNext(c.state, op.flags);
            c.exp = now + refTimeout(f.proto, c.state);
            ref.set(key(op.flow), c);
            const want = c.dest;
            dataPath(t, op.flow, op.flags, now, () => want);
            if (made) created++;
            break;
          }
          case 'tick': now += op.dt; break;
          case 'sweep': t.expire(now, op.budget); break;
          case 'removeDest':
            t.removeDest(op.id);
            for (const [k, c] of ref) if (c.dest === op.id) ref.delete(k);
            break;
          case 'flush': t.flush(); ref.clear(); break;
        }
        // Observe every flow (lookups reap what is due, as the reference forgets it).
        for (let i = 0; i < FLOWS.length; i++) {
          const f = FLOWS[i]!;
          let c = ref.get(key(i));
          if (c && c.exp <= now) { ref.delete(key(i)); c = undefined; }
          const h = t.lookup(f.proto, f.caddr, f.cport, VIP, f.vport, now);
          expect(h >= 0).toBe(c !== undefined);
          if (c && h >= 0) {
            expect(t.state(h)).toBe(c.state);
            expect(t.expiresAt(h)).toBe(c.exp);
            expect(t.destId(h)).toBe(c.dest);
          }
        }
        expect(t.size).toBe(ref.size);
        for (let id = 0; id < 3; id++) {
          let act = 0;
          let inact = 0;
          for (const c of ref.values()) if (c.dest === id) { if (refActive(c.proto, c.state)) act++; else inact++; }
          expect([d[id]!.activeConns, d[id]!.inactConns, d[id]!.persistConns]).toEqual([act, inact, 0]);
        }
      }
    }), { numRuns: 150 });
  });
});

// ---- invariants with templates, eviction and changing reals ---------------------------------------

type Op2 =
  | { k: 'open'; client: number; port: number; flags: number; persistent: boolean }
  | { k: 'pkt'; client: number; port: number; flags: number }
  | { k: 'tick'; dt: number }
  | { k: 'sweep'; budget: number }
  | { k: 'weight'; id: number; w: number }
  | { k: 'avail'; id: number; on: boolean }
  | { k: 'removeDest'; id: number };

const op2Arb: fc.Arbitrary<Op2> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('open' as const), client: fc.nat(5), port: fc.nat(5), flags: fc.constantFrom(SYN, ACK, SYN | ACK), persistent: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('pkt' as const), client: fc.nat(5), port: fc.nat(5), flags: fc.constantFrom(...FLAG_SET) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.constantFrom(...DTS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sweep' as const), budget: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('weight' as const), id: fc.nat(2), w: fc.constantFrom(0, 1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('avail' as const), id: fc.nat(2), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('removeDest' as const), id: fc.nat(2) }) },
);

describe('ConnTable invariants', () => {
  it('counters, n_control and template links stay consistent under eviction, expiry and real changes', () => {
    fc.assert(fc.property(
      fc.record({ cap: fc.integer({ min: 2, max: 12 }), nodest: fc.boolean(), quiescent: fc.boolean(), sloppy: fc.boolean() }),
      fc.array(op2Arb, { minLength: 30, maxLength: 200, size: 'large' }),
      (cfg, ops) => {
        const { t, d } = setup({ capacity: cfg.cap, expireNodestConn: cfg.nodest, expireQuiescentTemplate: cfg.quiescent, sloppyTcp: cfg.sloppy });
        let now = 0;
        let rr = 0;
        const pick = () => rr++ % 3;
        for (const op of ops) {
          if (op.k === 'open' || op.k === 'pkt') {
            const caddr = CLIENT + op.client;
            const cport = 40000 + 2 * op.port;
            let h = t.lookup(TCP, caddr, cport, VIP, 80, now);
            if (h >= 0) {
              const v = t.inputCheck(h, op.flags);
              if (v === ConnVerdict.Drop) continue;
              if (v === ConnVerdict.NoConn) h = -1;
            }
            if (h < 0) {
              if (op.k === 'pkt' || !t.tcpCanCreate(op.flags)) continue;
              if (op.persistent) {
                let tp = t.lookupTemplate(TCP, caddr, VIP, 80, now);
                if (tp < 0) tp = t.createTemplate(TCP, caddr, VIP, 80, pick(), 300_000, now);
                if (tp < 0) continue;
                h = t.create(TCP, caddr, cport, VIP, 80, t.destId(tp), now, tp);
              } else {
                h = t.create(TCP, caddr, cport, VIP, 80, pick(), now);
              }
              if (h < 0) continue;
            }
            t.tcpInput(h, op.flags, now);
          } else if (op.k === 'tick') now += op.dt;
          else if (op.k === 'sweep') t.expire(now, op.budget);
          else if (op.k === 'weight') d[op.id]!.weight = op.w;
          else if (op.k === 'avail') d[op.id]!.available = op.on;
          else t.removeDest(op.id);

          // Recount from the listing of what the table holds.
          const act = [0, 0, 0];
          const inact = [0, 0, 0];
          const pers = [0, 0, 0];
          const ctlBy = new Map<number, number>();
          const templates = new Map<number, number>();
          let listed = 0;
          t.forEach((e) => {
            listed++;
            if (e.isTemplate) { pers[e.destId]!++; templates.set(e.handle, e.nControl); return; }
            if (refActive(e.proto, e.state)) act[e.destId]!++;
            else inact[e.destId]!++;
            if (e.template >= 0) ctlBy.set(e.template, (ctlBy.get(e.template) ?? 0) + 1);
          });
          expect(listed).toBe(t.size);
          expect(t.size).toBeLessThanOrEqual(cfg.cap);
          for (let id = 0; id < 3; id++) {
            expect([d[id]!.activeConns, d[id]!.inactConns, d[id]!.persistConns]).toEqual([act[id], inact[id], pers[id]]);
          }
          for (const [tp, n] of ctlBy) expect(templates.get(tp)).toBe(n);
          for (const [tp, n] of templates) expect(ctlBy.get(tp) ?? 0).toBe(n);
        }
      },
    ), { numRuns: 200 });
  });
});

describe('ConnTable storage under churn', () => {
  it('finds exactly the live keys after random inserts and removals at full load (overflow chains)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.record({ key: fc.nat(199), del: fc.boolean() }), { minLength: 100, maxLength: 600, size: 'large' }),
      (cap, ops) => {
        const { t } = setup({ capacity: cap });
        const live = new Map<number, number>();
        for (const op of ops) {
          const caddr = CLIENT + (op.key >> 3);
          const cport = 40000 + 2 * (op.key & 7);
          const h = t.lookup(TCP, caddr, cport, VIP, 80, 0);
          expect(h >= 0).toBe(live.has(op.key));
          if (h >= 0) {
            expect(h).toBe(live.get(op.key));
            if (op.del) { t.remove(h); live.delete(op.key); }
          } else if (!op.del) {
            const n = t.create(TCP, caddr, cport, VIP, 80, 0, 0);
            expect(n).toBeGreaterThanOrEqual(0);
            t.tcpInput(n, SYN, 0);
            if (t.size !== live.size + 1) {
              // an eviction happened: forget the key that is gone
              for (const [k, hh] of live) {
                const c = CLIENT + (k >> 3);
                const p = 40000 + 2 * (k & 7);
                if (t.lookup(TCP, c, p, VIP, 80, 0) !== hh) live.delete(k);
              }
            }
            live.set(op.key, n);
          }
          expect(t.size).toBe(live.size);
          expect(t.size).toBeLessThanOrEqual(cap);
        }
        for (const [k, h] of live) expect(t.lookup(TCP, CLIENT + (k >> 3), 40000 + 2 * (k & 7), VIP, 80, 0)).toBe(h);
      },
    ), { numRuns: 100 });
  });
});

describe('ConnTable storage with every key in one line', () => {
  it('keeps long overflow chains right through removals from their middle and slot reuse', async () => {
    const { lineOfKey } = await import('../../src/conn/index.ts');
    const cap = 8;
    const seed = 0x2545f491; // ConnTable's default
    // 24 flows hashing to line 0 and 24 hashing elsewhere.
    const same: [number, number][] = [];
    const other: [number, number][] = [];
    for (let i = 0; same.length < 24 || other.length < 24; i++) {
      const k: [number, number] = [CLIENT + (i >> 6), 30000 + 2 * (i & 63)];
      const line = lineOfKey(seed, cap, TCP, k[0], k[1], VIP, 80);
      if (line === 0 && same.length < 24) same.push(k);
      else if (line !== 0 && other.length < 24) other.push(k);
    }
    const keys = [...same, ...same, ...same, ...other]; // mostly line 0
    fc.assert(fc.property(
      fc.array(fc.record({ key: fc.nat(keys.length - 1), del: fc.boolean() }), { minLength: 100, maxLength: 400, size: 'large' }),
      (ops) => {
        const { t } = setup({ capacity: cap });
        const live = new Map<string, number>();
        for (const op of ops) {
          const [caddr, cport] = keys[op.key]!;
          const id = `${caddr}:${cport}`;
          const h = t.lookup(TCP, caddr, cport, VIP, 80, 0);
          expect(h >= 0 ? h : undefined).toBe(live.get(id));
          if (h >= 0 && op.del) { t.remove(h); live.delete(id); }
          if (h < 0 && !op.del) {
            const n = t.create(TCP, caddr, cport, VIP, 80, 0, 0);
            t.tcpInput(n, SYN, 0);
            if (t.size !== live.size + 1) {
              for (const [k, hh] of live) {
                const [c, p] = k.split(':').map(Number) as [number, number];
                if (t.lookup(TCP, c, p, VIP, 80, 0) !== hh) live.delete(k);
              }
            }
            live.set(id, n);
          }
          for (const [k, hh] of live) {
            const [c, p] = k.split(':').map(Number) as [number, number];
            expect(t.lookup(TCP, c, p, VIP, 80, 0)).toBe(hh);
          }
        }
      },
    ), { numRuns: 100 });
  });
});
