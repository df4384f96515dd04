import { describe, expect, it } from 'vitest';
import { ConnState as S, ConnTable, ConnVerdict, type ConnEntry } from '../../src/conn/index.ts';
import { DEST_F_OVERLOAD } from '../../src/model/index.ts';
import { DsrlbError } from '../../src/errors/index.ts';
import { ACK, CLIENT, FIN, RST, SYN, TCP, UDP, VIP, counts, openTcp, setup } from './helpers.ts';

describe('expiry', () => {
  it('a SYN_RECV connection is there at +59 999 ms and gone at exactly +60 000 ms', () => {
    const { t, d } = setup();
    const now = 123.5;
    openTcp(t, CLIENT, 40000, 0, now);
    expect(t.lookup(TCP, CLIENT, 40000, VIP, 80, now + 59_999)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(TCP, CLIENT, 40000, VIP, 80, now + 60_000)).toBe(-1);
    expect(t.size).toBe(0);
    expect(counts(d[0]!)).toEqual([0, 0, 0]);
    expect(t.expirations).toBe(1);
  });

  it('each packet re-arms: ESTABLISHED lives 900 s after its last packet', () => {
    const { t } = setup();
    const h = openTcp(t, CLIENT, 40000, 0, 0);
    t.tcpInput(h, ACK, 1000);
    t.tcpInput(h, ACK, 500_000);
    expect(t.lookup(TCP, CLIENT, 40000, VIP, 80, 1_399_999)).toBe(h);
    expect(t.lookup(TCP, CLIENT, 40000, VIP, 80, 1_400_000)).toBe(-1);
  });

  it('FIN_WAIT 120 s, CLOSE 10 s after RST', () => {
    const { t } = setup();
    const a = openTcp(t, CLIENT, 1, 0, 0);
    t.tcpInput(a, ACK, 0);
    t.tcpInput(a, FIN | ACK, 10);
    const b = openTcp(t, CLIENT, 2, 0, 0);
    t.tcpInput(b, ACK, 0);
    t.tcpInput(b, RST, 20);
    expect(t.lookup(TCP, CLIENT, 2, VIP, 80, 10_019)).toBe(b);
    expect(t.lookup(TCP, CLIENT, 2, VIP, 80, 10_020)).toBe(-1);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 120_009)).toBe(a);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 120_010)).toBe(-1);
  });

  it('a created connection never given a packet goes after 3 s', () => {
    const { t, d } = setup();
    t.create(TCP, CLIENT, 9, VIP, 80, 1, 0);
    expect(t.lookup(TCP, CLIENT, 9, VIP, 80, 2999)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(TCP, CLIENT, 9, VIP, 80, 3000)).toBe(-1);
    expect(counts(d[1]!)).toEqual([0, 0, 0]);
  });

  it('the sweep examines `budget` slots a call, resumes where it stopped, does one pass at most', () => {
    const { t, d } = setup({ capacity: 100 });
    for (let i = 0; i < 100; i++) openTcp(t, CLIENT, 1000 + i, i % 3, 0); // due at 60 000
    expect(t.slotCount).toBe(200);
    expect(t.expire(59_999, 200)).toBe(0);
    let removed = 0;
    let calls = 0;
    for (let left = 200; left > 0; left -= 30) {
      const r = t.expire(60_000, 30);
      expect(r).toBeLessThanOrEqual(30);
      removed += r;
      calls++;
      expect(t.size).toBe(100 - removed);
    }
    expect(calls).toBe(7);
    expect(removed).toBe(100); // 7 × 30 slots ≥ one full pass of 200
    expect(t.size).toBe(0);
    expect(d.map((x) => x.activeConns + x.inactConns)).toEqual([0, 0, 0]);
    expect(t.expirations).toBe(100);
    for (let i = 0; i < 10; i++) openTcp(t, CLIENT, 1000 + i, 0, 0);
    expect(t.expire(60_000, 1e9)).toBe(10); // a huge budget is one pass
  });

  it('lookups do not find another flow, protocol or a template', () => {
    const { t } = setup();
    openTcp(t, CLIENT, 40000, 0, 0);
    t.createTemplate(TCP, CLIENT, VIP, 80, 0, 300_000, 0);
    expect(t.lookup(UDP, CLIENT, 40000, VIP, 80, 1)).toBe(-1);
    expect(t.lookup(TCP, CLIENT, 40001, VIP, 80, 1)).toBe(-1);
    expect(t.lookup(TCP, CLIENT, 40000, VIP, 81, 1)).toBe(-1);
    expect(t.lookup(TCP, CLIENT + 1, 40000, VIP, 80, 1)).toBe(-1);
    expect(t.lookup(TCP, CLIENT, 0, VIP, 80, 1)).toBe(-1);
  });

  it('handles addresses with the top bit set', () => {
    const { t } = setup();
    const h = openTcp(t, 0xc0a80001, 65535, 0, 0);
    expect(t.lookup(TCP, 0xc0a80001, 65535, VIP, 80, 1)).toBe(h);
    const rows: ConnEntry[] = [];
    t.forEach((e) => rows.push({ ...e }));
    expect(rows[0]).toMatchObject({ caddr: 0xc0a80001, cport: 65535, vaddr: VIP, vport: 80, proto: TCP });
  });
});

describe('counters and thresholds', () => {
  it('counts ActiveConn/InActConn as ipvsadm: SYN_RECV active, FIN_WAIT inactive', () => {
    const { t, d } = setup();
    const a = openTcp(t, CLIENT, 1, 2, 0);
    const b = openTcp(t, CLIENT, 2, 2, 0);
    t.tcpInput(b, ACK, 1);
    const c = openTcp(t, CLIENT, 3, 2, 0);
    t.tcpInput(c, ACK, 1);
    t.tcpInput(c, FIN | ACK, 2);
    expect(counts(d[2]!)).toEqual([2, 1, 0]);
    void a;
  });

  it('sets OVERLOAD at uThreshold, clears it below 3/4 of it (no lThreshold)', () => {
    const { t, d } = setup();
    d[0]!.uThreshold = 4;
    const hs = [1, 2, 3].map((p) => openTcp(t, CLIENT, p, 0, 0));
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(0);
    hs.push(openTcp(t, CLIENT, 4, 0, 0));
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(DEST_F_OVERLOAD);
    t.remove(hs[0]!); // 3 left: 3*4 < 4*3 is false
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(DEST_F_OVERLOAD);
    t.remove(hs[1]!); // 2 left: 8 < 12
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(0);
  });

  it('with lThreshold clears below it', () => {
    const { t, d } = setup();
    d[0]!.uThreshold = 3;
    d[0]!.lThreshold = 2;
    const hs = [1, 2, 3].map((p) => openTcp(t, CLIENT, p, 0, 0));
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(DEST_F_OVERLOAD);
    t.remove(hs[0]!);
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(DEST_F_OVERLOAD); // 2, not < 2
    t.remove(hs[1]!);
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(0);
  });

  it('templates count in persistConns, not in the threshold total', () => {
    const { t, d } = setup();
    d[1]!.uThreshold = 1;
    t.createTemplate(TCP, CLIENT, VIP, 80, 1, 300_000, 0);
    expect(counts(d[1]!)).toEqual([0, 0, 1]);
    expect(d[1]!.flags & DEST_F_OVERLOAD).toBe(0);
  });

  it('with no thresholds an unbind clears a stale OVERLOAD flag', () => {
    const { t, d } = setup();
    const h = openTcp(t, CLIENT, 1, 0, 0);
    d[0]!.flags |= DEST_F_OVERLOAD;
    t.remove(h);
    expect(d[0]!.flags & DEST_F_OVERLOAD).toBe(0);
  });

  it('flush fixes every counter', () => {
    const { t, d } = setup();
    for (let i = 0; i < 30; i++) {
      const h = openTcp(t, CLIENT + i, 1000, i % 3, 0);
      if (i % 2) t.tcpInput(h, ACK, 0);
      if (i % 5 === 0) t.tcpInput(h, FIN, 0);
    }
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, 300_000, 0);
    t.create(TCP, CLIENT, 7, VIP, 80, 0, 0, tp);
    expect(t.flush()).toBe(32);
    expect(t.size).toBe(0);
    for (const x of d) expect(counts(x)).toEqual([0, 0, 0]);
    expect(t.lookup(TCP, CLIENT, 1000, VIP, 80, 0)).toBe(-1);
    openTcp(t, CLIENT, 1000, 0, 0);
    expect(t.size).toBe(1);
  });

  it('leaves counters alone when the resolver no longer knows the real', () => {
    const { t, d, dests } = setup();
    const h = openTcp(t, CLIENT, 1, 0, 0);
    dests[0] = undefined;
    t.tcpInput(h, FIN, 1);
    t.remove(h);
    expect(counts(d[0]!)).toEqual([1, 0, 0]);
  });
});

describe('inputCheck (ip_vs_in, Linux 6.1)', () => {
  it('Forward while the real is available', () => {
    const { t } = setup();
    const h = openTcp(t, CLIENT, 1, 0, 0);
    expect(t.inputCheck(h, ACK)).toBe(ConnVerdict.Forward);
  });

  it('expire_nodest_conn=0: real removed → Drop, connection and its timer untouched', () => {
    const { t, d, dests } = setup();
    const h = openTcp(t, CLIENT, 1, 0, 0);
    t.tcpInput(h, ACK, 0);
    d[0]!.available = false;
    expect(t.inputCheck(h, ACK)).toBe(ConnVerdict.Drop);
    dests[0] = undefined;
    expect(t.inputCheck(h, ACK)).toBe(ConnVerdict.Drop);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 899_999)).toBe(h);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 900_000)).toBe(-1);
  });

  it('expire_nodest_conn=1: real removed → connection expired now, NoConn', () => {
    const { t, d } = setup({ expireNodestConn: true });
    const h = openTcp(t, CLIENT, 1, 0, 0);
    d[0]!.available = false;
    expect(t.inputCheck(h, ACK)).toBe(ConnVerdict.NoConn);
    expect(t.lookup(TCP, CLIENT, 1, VIP, 80, 1)).toBe(-1);
    expect(counts(d[0]!)).toEqual([0, 0, 0]);
  });

  it('expire_nodest_conn=1: a SYN on a connection to a weight-0 real is rescheduled', () => {
    const { t, d } = setup({ expireNodestConn: true });
    const h = openTcp(t, CLIENT, 1, 0, 0);
    t.tcpInput(h, ACK, 0);
    d[0]!.weight = 0;
    expect(t.inputCheck(h, ACK)).toBe(ConnVerdict.Forward); // not a SYN: goes on to the quiescent real
    expect(t.inputCheck(h, SYN)).toBe(ConnVerdict.NoConn);
    expect(t.size).toBe(0);
  });

  it('expire_nodest_conn=0: a SYN to a weight-0 real in ESTABLISHED stays', () => {
    const { t, d } = setup();
    const h = openTcp(t, CLIENT, 1, 0, 0);
    t.tcpInput(h, ACK, 0);
    d[0]!.weight = 0;
    expect(t.inputCheck(h, SYN)).toBe(ConnVerdict.Forward);
  });

  it('conn_reuse_mode=1: a SYN on CLOSE or TIME_WAIT is a new connection; FIN_WAIT is not', () => {
    const { t } = setup();
    const a = openTcp(t, CLIENT, 1, 0, 0);
    t.tcpInput(a, RST, 0); // SYN_RECV + RST stays SYN_RECV
    expect(t.inputCheck(a, SYN)).toBe(ConnVerdict.Forward);
    t.tcpInput(a, ACK, 0);
    t.tcpInput(a, RST, 0); // CLOSE
    expect(t.newConnExpected(a)).toBe(true);
    expect(t.inputCheck(a, SYN)).toBe(ConnVerdict.NoConn);
    const b = openTcp(t, CLIENT, 2, 0, 0);
    t.tcpInput(b, FIN, 0); // SYN_RECV + FIN → TIME_WAIT
    expect(t.inputCheck(b, ACK)).toBe(ConnVerdict.Forward);
    expect(t.inputCheck(b, SYN | ACK)).toBe(ConnVerdict.NoConn);
    const c = openTcp(t, CLIENT, 3, 0, 0);
    t.tcpInput(c, ACK, 0);
    t.tcpInput(c, FIN, 0); // FIN_WAIT
    expect(t.newConnExpected(c)).toBe(false);
    expect(t.newConnExpected(c, 3)).toBe(true);
    expect(t.inputCheck(c, SYN)).toBe(ConnVerdict.Forward);
  });

  it('conn_reuse_mode=2 also reuses FIN_WAIT (DR has no output side); 0 never', () => {
    const two = setup({ connReuseMode: 2 }).t;
    const c = openTcp(two, CLIENT, 3, 0, 0);
    two.tcpInput(c, ACK, 0);
    two.tcpInput(c, FIN, 0);
    expect(two.inputCheck(c, SYN)).toBe(ConnVerdict.NoConn);
    const zero = setup({ connReuseMode: 0 }).t;
    const z = openTcp(zero, CLIENT, 3, 0, 0);
    zero.tcpInput(z, RST, 0);
    zero.tcpInput(z, ACK, 0);
    zero.tcpInput(z, RST, 0);
    expect(zero.inputCheck(z, SYN)).toBe(ConnVerdict.Forward);
  });

  it('never reschedules a connection controlled by a template', () => {
    const { t, d } = setup({ expireNodestConn: true });
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, 300_000, 0);
    const h = t.create(TCP, CLIENT, 1, VIP, 80, 0, 0, tp);
    t.tcpInput(h, SYN, 0);
    t.tcpInput(h, ACK, 0);
    t.tcpInput(h, RST, 0);
    d[0]!.weight = 0;
    expect(t.newConnExpected(h)).toBe(false);
    expect(t.inputCheck(h, SYN)).toBe(ConnVerdict.Forward);
  });

  it('UDP is never a new connection by flags', () => {
    const { t, d } = setup({ expireNodestConn: true });
    const h = t.create(UDP, CLIENT, 1, VIP, 53, 0, 0);
    d[0]!.weight = 0;
    expect(t.inputCheck(h, SYN)).toBe(ConnVerdict.Forward);
  });
});

describe('listing and sizing', () => {
  it('forEach lists connections and templates as ipvsadm -Lnc would, skipping due ones with now', () => {
    const { t } = setup();
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 1, 360_000, 0);
    const h = t.create(TCP, CLIENT, 40000, VIP, 80, 1, 0, tp);
    t.tcpInput(h, SYN, 0);
    openTcp(t, CLIENT + 1, 40002, 2, 0);
    const rows: ConnEntry[] = [];
    t.forEach((e) => rows.push({ ...e }));
    expect(rows.map((r) => [ConnTable.stateName(r.state), r.cport, r.isTemplate, r.nControl, r.template])
      .sort((a, b) => (a[1] as number) - (b[1] as number))).toEqual([
      ['NONE', 0, true, 1, -1], ['SYN_RECV', 40000, false, 0, tp], ['SYN_RECV', 40002, false, 0, -1],
    ]);
    expect(rows.find((r) => r.isTemplate)!.handle).toBe(tp);
    t.tcpInput(h, ACK, 1);
    const after: string[] = [];
    t.forEach((e) => after.push(ConnTable.stateName(e.state)), 61_000);
    expect(after.sort()).toEqual(['ASSURED', 'ESTABLISHED']);
  });

  it('reports typed-array bytes per entry well under 160', () => {
    const { t } = setup({ capacity: 1 << 20 });
    expect(t.bytesPerEntry()).toBe(100);
    expect(t.capacity).toBe(1 << 20);
  });

  it('rejects a bad capacity with a typed error', () => {
    expect(() => setup({ capacity: 0 })).toThrow(DsrlbError);
    expect(() => setup({ capacity: 1.5 })).toThrow(/capacity/);
  });

  it('remove(h) leaves a template that controls connections alone', () => {
    const { t } = setup();
    const tp = t.createTemplate(TCP, CLIENT, VIP, 80, 0, 300_000, 0);
    t.create(TCP, CLIENT, 1, VIP, 80, 0, 0, tp);
    t.remove(tp);
    expect(t.size).toBe(2);
    expect(t.state(tp)).toBe(S.Template);
  });
});
