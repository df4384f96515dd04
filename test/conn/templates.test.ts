import { describe, expect, it } from 'vitest';
import { ConnState as S, ConnTable } from '../../src/conn/index.ts';
import { ACK, CLIENT, FIN, SYN, TCP, VIP, counts, setup } from './helpers.ts';

const P = 300_000; // ipvsadm -p 300
const NET24 = 0xffffff00;

/** What the data path does for a persistent service (ip_vs_sched_persist). */
function persistentOpen(t: ConnTable, caddr: number, cport: number, now: number, pick: () => number, mask = 0xffffffff): number {
  const snet = (caddr & mask) >>> 0;
  let tp = t.lookupTemplate(TCP, snet, VIP, 80, now);
  if (tp < 0) tp = t.createTemplate(TCP, snet, VIP, 80, pick(), P, now);
  const h = t.create(TCP, caddr, cport, VIP, 80, t.destId(tp), now, tp);
  t.tcpInput(h, SYN, now);
  return h;
}

describe('persistence templates', () => {
  it('every new connection of a client follows its template; n_control counts them', () => {
    const { t, d } = setup();
    let picks = 0;
    const pick = () => [2, 1, 0][picks++ % 3]!;
    const a = persistentOpen(t, CLIENT, 1000, 0, pick);
    const b = persistentOpen(t, CLIENT, 1002, 10, pick);
    const c = persistentOpen(t, CLIENT + 1, 1000, 20, pick);
    expect([t.destId(a), t.destId(b), t.destId(c)]).toEqual([2, 2, 1]);
    expect(picks).toBe(2);
    const tp = t.templateOf(a);
    expect(t.templateOf(b)).toBe(tp);
    expect(t.nControl(tp)).toBe(2);
    expect(t.isTemplate(tp)).toBe(true);
    expect(counts(d[2]!)).toEqual([2, 0, 1]);
    expect(counts(d[1]!)).toEqual([1, 0, 1]);
  });

  it('netmask groups clients: /24 maps 10.123.1.1 and 10.123.1.77 to one template', () => {
    const { t } = setup();
    let n = 0;
    const a = persistentOpen(t, CLIENT, 1000, 0, () => n++, NET24);
    const b = persistentOpen(t, CLIENT + 76, 1000, 0, () => n++, NET24);
    expect(t.templateOf(a)).toBe(t.templateOf(b));
    expect(n).toBe(1);
  });

  it('is re-armed to the persistence timeout by each new connection (ip_vs_conn_put)', () => {
    const { t } = setup();
    const a = persistentOpen(t, CLIENT, 1000, 0, () => 0);
    const tp = t.templateOf(a);
    expect(t.expiresAt(tp)).toBe(P);
    persistentOpen(t, CLIENT, 1002, 250_000, () => 9);
    expect(t.expiresAt(tp)).toBe(250_000 + P);
  });

  it('expires at its time when it controls nothing; the client is then scheduled anew', () => {
    const { t, d } = setup();
    const a = persistentOpen(t, CLIENT, 1000, 0, () => 0);
    const tp = t.templateOf(a);
    t.tcpInput(a, ACK, 1);
    t.tcpInput(a, FIN, 2); // FIN_WAIT, gone at 120 002
    expect(t.lookup(TCP, CLIENT, 1000, VIP, 80, 200_000)).toBe(-1);
    expect(t.nControl(tp)).toBe(0);
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, P - 1)).toBe(tp);
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, P)).toBe(-1);
    expect(counts(d[0]!)).toEqual([0, 0, 0]);
  });

  it('does not expire while it controls connections: re-armed by 60 s, then 60 s is its timeout', () => {
    const { t } = setup();
    const a = persistentOpen(t, CLIENT, 1000, 0, () => 0);
    const tp = t.templateOf(a);
    t.tcpInput(a, ACK, 1); // ESTABLISHED until 900 001
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, P)).toBe(tp);
    expect(t.expiresAt(tp)).toBe(P + 60_000);
    // The sweep re-arms on the same 60 s grid, even late.
    expect(t.expire(P + 60_000 + 130_000, t.slotCount)).toBe(0);
    expect(t.expiresAt(tp)).toBe(P + 4 * 60_000);
    // A new connection now re-arms it by 60 s only (kernel: expire_later set cp->timeout = 60 s).
    persistentOpen(t, CLIENT, 1002, 500_000, () => 9);
    expect(t.expiresAt(tp)).toBe(560_000);
    // Once its connections are gone it goes at its next deadline.
    t.tcpInput(a, ACK, 500_000);
    t.remove(a);
    t.remove(t.lookup(TCP, CLIENT, 1002, VIP, 80, 500_001));
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 559_999)).toBe(tp);
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 560_000)).toBe(-1);
  });

  it('shows NONE until a connection reaches ESTABLISHED, then ASSURED', () => {
    const { t } = setup();
    const a = persistentOpen(t, CLIENT, 1000, 0, () => 0);
    const tp = t.templateOf(a);
    expect(ConnTable.stateName(t.state(tp))).toBe('NONE');
    t.tcpInput(a, ACK, 1);
    expect(t.state(tp)).toBe(S.TemplateAssured);
    expect(ConnTable.stateName(t.state(tp))).toBe('ASSURED');
  });

  describe('expire_quiescent_template', () => {
    it('0 (default): the template keeps pointing at its weight-0 real', () => {
      const { t, d } = setup();
      const a = persistentOpen(t, CLIENT, 1000, 0, () => 1);
      const tp = t.templateOf(a);
      d[1]!.weight = 0;
      expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 10)).toBe(tp);
      const b = persistentOpen(t, CLIENT, 1002, 10, () => 2);
      expect(t.destId(b)).toBe(1);
    });

    it('1: a template whose real has weight 0 is expired when looked up; the client is rescheduled', () => {
      const { t, d } = setup({ expireQuiescentTemplate: true });
      const a = persistentOpen(t, CLIENT, 1000, 0, () => 1);
      const old = t.templateOf(a);
      d[1]!.weight = 0;
      expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 10)).toBe(-1);
      // It still controls `a`: hidden from lookups but kept until a is gone.
      expect(t.nControl(old)).toBe(1);
      const b = persistentOpen(t, CLIENT, 1002, 10, () => 2);
      expect(t.destId(b)).toBe(2);
      expect(t.templateOf(b)).not.toBe(old);
      expect(t.destId(a)).toBe(1); // the existing connection goes on
      expect(counts(d[1]!)).toEqual([1, 0, 1]);
      expect(counts(d[2]!)).toEqual([1, 0, 1]);
    });

    it('1: a template controlling nothing is removed at once', () => {
      const { t, d } = setup({ expireQuiescentTemplate: true });
      t.createTemplate(TCP, CLIENT, VIP, 80, 1, P, 0);
      d[1]!.weight = 0;
      expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 10)).toBe(-1);
      expect(t.size).toBe(0);
      expect(counts(d[1]!)).toEqual([0, 0, 0]);
    });
  });

  it('a template whose real was removed is always invalidated', () => {
    for (const how of ['unavailable', 'unknown'] as const) {
      const { t, d, dests } = setup();
      t.createTemplate(TCP, CLIENT, VIP, 80, 1, P, 0);
      if (how === 'unavailable') d[1]!.available = false;
      else dests[1] = undefined;
      expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 10)).toBe(-1);
      expect(t.size).toBe(0);
    }
  });

  it('removeDest drops the real\'s connections and templates, fixing counters', () => {
    const { t, d } = setup();
    let n = 0;
    for (let c = 0; c < 6; c++) for (let p = 0; p < 3; p++) persistentOpen(t, CLIENT + c, 1000 + p, 0, () => n++ % 3);
    const plain = t.create(TCP, CLIENT + 50, 1, VIP, 80, 1, 0);
    t.tcpInput(plain, SYN, 0);
    expect(counts(d[1]!)).toEqual([7, 0, 2]);
    expect(t.removeDest(1)).toBe(9);
    expect(counts(d[1]!)).toEqual([0, 0, 0]);
    expect(counts(d[0]!)).toEqual([6, 0, 2]);
    expect(t.size).toBe(16);
    let listed = 0;
    t.forEach((e) => { listed++; expect(e.destId).not.toBe(1); });
    expect(listed).toBe(16);
  });

  it('a connection expiring by its timer leaves its (unassured) template in place', () => {
    const { t } = setup();
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, P, 0);
    const h = t.create(TCP, CLIENT, 1, VIP, 80, 0, 0, tp);
    t.tcpInput(h, SYN, 0);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 60_000)).toBe(-1);
    expect(t.nControl(tp)).toBe(0);
    expect(t.lookupTemplate(TCP, CLIENT, VIP, 80, 60_000)).toBe(tp);
  });
});
