import { describe, expect, it } from 'vitest';
import {
  ConnState as S, DEFAULT_TIMEOUTS, INPUT_ONLY, TCP_ACTIVE, stateName, tcpCanCreate, tcpFlagRow,
  tcpNextState, timeoutTableMs,
} from '../../src/conn/index.ts';
import { ACK, CLIENT, EXPECTED, FIN, PSH, RST, SYN, TCP, TIMEOUT_S, counts, openTcp, setup } from './helpers.ts';

const FLAGS: [string, number][] = [['SYN', SYN], ['FIN', FIN], ['ACK', ACK], ['RST', RST]];

describe('INPUT_ONLY state table', () => {
  const cells: [string, string, number, S][] = [];
  for (const [from, row] of Object.entries(EXPECTED)) {
    FLAGS.forEach(([fname, f], i) => cells.push([stateName(Number(from)), fname, Number(from), row[i]!]));
  }

  it.each(cells)('%s + %s', (_n, _f, from, to) => {
    const flag = FLAGS.find(([n]) => n === _f)![1];
    expect(stateName(tcpNextState(from, flag))).toBe(stateName(to));
    expect(timeoutTableMs()[to]).toBe(TIMEOUT_S[to]! * 1000);
  });

  it('has 44 cells, all covered', () => {
    expect(cells).toHaveLength(44);
    expect(INPUT_ONLY).toHaveLength(44);
  });

  it('picks the row by RST > SYN > FIN > ACK, and CLOSE for none of them', () => {
    expect(tcpFlagRow(SYN | ACK | FIN | RST)).toBe(3);
    expect(tcpFlagRow(SYN | ACK | FIN)).toBe(0);
    expect(tcpFlagRow(FIN | ACK)).toBe(1);
    expect(tcpFlagRow(ACK | PSH)).toBe(2);
    expect(tcpFlagRow(PSH)).toBe(-1);
    expect(tcpNextState(S.Established, PSH)).toBe(S.Close);
    expect(tcpNextState(S.Established, 0)).toBe(S.Close);
    expect(tcpNextState(S.Established, RST | ACK)).toBe(S.Close);
    expect(tcpNextState(S.None, SYN | ACK)).toBe(S.SynRecv);
  });

  it('counts SYN_RECV, ESTABLISHED, SYN_SENT, SYNACK as active (since 4.8), nothing else', () => {
    const active = [S.Established, S.SynSent, S.SynRecv, S.Synack];
    for (let s = 0; s < 11; s++) expect(TCP_ACTIVE[s] === 1).toBe(active.includes(s));
  });

  it('has the IPVS default timeouts', () => {
    expect(DEFAULT_TIMEOUTS).toMatchObject({ synRecv: 60, established: 900, finWait: 120, close: 10, udp: 300 });
    const t = timeoutTableMs({ established: 7200, finWait: 30, udp: 60 });
    expect([t[S.Established], t[S.FinWait], t[S.Udp], t[S.SynRecv]]).toEqual([7_200_000, 30_000, 60_000, 60_000]);
  });

  it('names states as ipvsadm -Lnc prints them', () => {
    expect([S.None, S.Established, S.SynSent, S.SynRecv, S.FinWait, S.TimeWait, S.Close, S.CloseWait,
      S.LastAck, S.Listen, S.Synack, S.Udp, S.Template, S.TemplateAssured].map(stateName)).toEqual([
      'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
      'LAST_ACK', 'LISTEN', 'SYNACK', 'UDP', 'NONE', 'ASSURED']);
    expect(stateName(99)).toBe('ERR!');
  });

  it('lets only a SYN (no RST) create a connection, anything but RST with sloppy_tcp', () => {
    expect(tcpCanCreate(SYN, false)).toBe(true);
    expect(tcpCanCreate(SYN | ACK, false)).toBe(true);
    expect(tcpCanCreate(ACK, false)).toBe(false);
    expect(tcpCanCreate(SYN | RST, false)).toBe(false);
    expect(tcpCanCreate(ACK, true)).toBe(true);
    expect(tcpCanCreate(FIN, true)).toBe(true);
    expect(tcpCanCreate(RST | ACK, true)).toBe(false);
    expect(setup({ sloppyTcp: true }).t.tcpCanCreate(ACK | PSH)).toBe(true);
    expect(setup().t.tcpCanCreate(ACK | PSH)).toBe(false);
  });
});

/** Through the table: the states a DR director reaches, with timer and counters. */
describe('transitions on a live connection', () => {
  const paths: [string, number[], S, number, [number, number]][] = [
    ['SYN', [SYN], S.SynRecv, 60, [1, 0]],
    ['SYN ACK', [SYN, ACK], S.Established, 900, [1, 0]],
    ['SYN ACK PSH|ACK', [SYN, ACK, PSH | ACK], S.Established, 900, [1, 0]],
    ['SYN ACK FIN', [SYN, ACK, FIN | ACK], S.FinWait, 120, [0, 1]],
    ['SYN ACK FIN ACK', [SYN, ACK, FIN | ACK, ACK], S.FinWait, 120, [0, 1]],
    ['SYN ACK RST', [SYN, ACK, RST], S.Close, 10, [0, 1]],
    ['SYN RST (stays SYN_RECV)', [SYN, RST], S.SynRecv, 60, [1, 0]],
    ['SYN FIN', [SYN, FIN], S.TimeWait, 120, [0, 1]],
    ['SYN ACK FIN SYN (reuse)', [SYN, ACK, FIN, SYN], S.SynRecv, 60, [1, 0]],
    ['SYN ACK RST ACK', [SYN, ACK, RST, ACK], S.Close, 10, [0, 1]],
    ['SYN ACK PSH (no SYN/FIN/ACK/RST)', [SYN, ACK, PSH], S.Close, 10, [0, 1]],
  ];
  it.each(paths)('%s', (_name, seq, state, timeoutS, [act, inact]) => {
    const { t, d } = setup();
    let now = 1000;
    const h = t.create(TCP, CLIENT, 40000, 0x0a7b0064, 80, 1, now);
    expect(t.state(h)).toBe(S.None);
    expect(counts(d[1]!)).toEqual([0, 1, 0]); // bound inactive, as ip_vs_bind_dest does
    expect(t.expiresAt(h)).toBe(now + 3000);
    for (const f of seq) t.tcpInput(h, f, (now += 250));
    expect(t.state(h)).toBe(state);
    expect(t.expiresAt(h)).toBe(now + timeoutS * 1000);
    expect(counts(d[1]!)).toEqual([act, inact, 0]);
  });

  it('a sloppy ACK creates an ESTABLISHED connection (NONE + ACK)', () => {
    const { t, d } = setup({ sloppyTcp: true });
    const h = openTcp(t, CLIENT, 41000, 0, 0, ACK);
    expect(t.state(h)).toBe(S.Established);
    expect(t.expiresAt(h)).toBe(900_000);
    expect(counts(d[0]!)).toEqual([1, 0, 0]);
  });

  it('a sloppy FIN creates a CLOSE connection', () => {
    const { t, d } = setup({ sloppyTcp: true });
    const h = openTcp(t, CLIENT, 41000, 0, 0, FIN | ACK);
    expect(t.state(h)).toBe(S.Close);
    expect(counts(d[0]!)).toEqual([0, 1, 0]);
  });

  it('UDP: state UDP, inactive, 300 s re-armed by every packet', () => {
    const { t, d } = setup();
    const h = t.create(17, CLIENT, 5353, 0x0a7b0064, 53, 2, 0);
    t.udpInput(h, 0);
    expect(stateName(t.state(h))).toBe('UDP');
    expect(t.expiresAt(h)).toBe(300_000);
    t.udpInput(h, 299_999);
    expect(t.expiresAt(h)).toBe(599_999);
    expect(counts(d[2]!)).toEqual([0, 1, 0]);
  });

  it('configurable timeouts apply to later transitions', () => {
    const { t } = setup({ timeouts: { synRecv: 5, established: 30, finWait: 2, close: 1, udp: 7 } });
    const h = openTcp(t, CLIENT, 1, 0, 0);
    expect(t.expiresAt(h)).toBe(5000);
    t.tcpInput(h, ACK, 10);
    expect(t.expiresAt(h)).toBe(30_010);
    t.tcpInput(h, FIN, 20);
    expect(t.expiresAt(h)).toBe(2020);
    t.setTimeouts({ finWait: 100 });
    t.tcpInput(h, ACK, 30);
    expect(t.expiresAt(h)).toBe(100_030);
    t.tcpInput(h, RST, 40);
    expect(t.expiresAt(h)).toBe(10_040); // setTimeouts restarts from the defaults
  });
});
