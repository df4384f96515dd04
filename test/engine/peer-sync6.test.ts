/**
 * Connection sync of IPv6 flows, at table level (engine/conn-sync.ts, conn-sync6.ts, peer-sync.ts,
 * ha/sync.ts): an IPv6 flow established on director A is exported, carried as the UDP transport
 * (datagrams) or the heartbeat (batches) carries it, imported on B, and its next segment on B goes
 * to the same real; clients whose addresses fold alike stay two flows; the ECMP case of
 * test/engine/peer-sync.test.ts (a weight applied on B first) with IPv6 flows.
 */
import { describe, expect, it } from 'vitest';
import { Dataplane } from '../../src/dataplane/index.ts';
import { combineSync, exportSyncBatch, importSyncedConns, startPeerSync } from '../../src/engine/index.ts';
import { decodeSyncBatch, decodeSyncDatagram, encodeSyncBatch, encodeSyncDatagrams, syncDelta, type SyncConn } from '../../src/ha/index.ts';
import { foldIPv6, parseIPv4, parseIPv6 } from '../../src/model/index.ts';
import { TCP_ACK, TCP_SYN, tcpFrame } from '../../src/packet/index.ts';
import { silentLogger, type Clock, type SyncTransport } from '../../src/ports/index.ts';
import { client, director, directorOf, dns, frame, moved, open, REALS, seg, SELF, send, setWeight, syncOver, VIP6, web } from './sync6-lab.ts';

/** Export on a, the heartbeat's batches (syncDelta, base64), import on b. */
function syncHeartbeat(a: Dataplane, b: Dataplane, now: number) {
  const conns = decodeSyncBatch(exportSyncBatch(a, now), Infinity)!;
  const wire = syncDelta(conns, new Map()).map((batch) => encodeSyncBatch(batch));
  return importSyncedConns(b, wire.flatMap((s) => decodeSyncBatch(s)!), now);
}

describe('IPv6 connection sync: a flow moved from A to B', () => {
  it('an IPv6 flow established on A, exported, imported on B: its mid-flow ACK on B goes to the same real; without sync B has none', () => {
    // As a heartbeat standby: no sloppy_tcp, so a mid-flow ACK of a flow it does not know is dropped.
    const a = director('rr', false);
    const b = director('rr', false);
    const plain = director('rr', false);
    const reals = open(a, 6, 1000);
    expect(new Set(reals).size).toBe(3);
    const exported = decodeSyncBatch(exportSyncBatch(a, 1100), Infinity)!;
    expect(exported).toHaveLength(6);
    expect(exported[0]!.v6).toMatchObject({ vaddr: VIP6 });
    expect(exported.map((c) => c.v6!.caddr).sort()).toEqual(Array.from({ length: 6 }, (_, i) => client(i)).sort());
    expect(syncOver(a, b, 1100)).toEqual({ imported: 6, refreshed: 0, present: 0, unknown: 0, full: 0 });
    expect(b.conns6.size).toBe(6);
    expect(b.conns.size).toBe(0);
    expect(moved(b, reals, 2000)).toEqual({ broken: 0, dropped: 0 });
    expect(moved(plain, reals, 2000)).toEqual({ broken: 0, dropped: 6 });
    // The real's counters are the table's own: two active connections each.
    expect(web(b).dests.map((d) => d.activeConns)).toEqual([2, 2, 2]);
  });

  it('the heartbeat path (batches) carries them too, UDP flows included, and IPv4 flows beside them', () => {
    const a = director('rr');
    const b = director('rr');
    const reals = open(a, 4, 1000);
    const dnsReal = send(a, dns('2001:db8:2::53', 5353), 1000);
    const v4 = send(a, tcpFrame({ srcMac: '02:00:00:00:00:64', dstMac: '02:00:00:00:00:01', src: '10.0.0.1', dst: '192.168.0.10', sport: 999, dport: 80, flags: 'SYN' }), 1000);
    expect(syncHeartbeat(a, b, 1100)).toMatchObject({ imported: 6, unknown: 0 });
    expect([b.conns.size, b.conns6.size]).toEqual([1, 5]);
    expect(moved(b, reals, 2000)).toEqual({ broken: 0, dropped: 0 });
    expect(send(b, dns('2001:db8:2::53', 5353), 2000)).toBe(dnsReal);
    expect(send(b, tcpFrame({ srcMac: '02:00:00:00:00:64', dstMac: '02:00:00:00:00:01', src: '10.0.0.1', dst: '192.168.0.10', sport: 999, dport: 80, flags: 'ACK' }), 2000)).toBe(v4);
  });

  it('two clients whose addresses fold alike, same ports, stay two flows after sync, each on its own real', () => {
    const a = director('rr');
    const b = director('rr');
    const x = '2001:db8::2001:db8';
    const y = '2001:db8:1::2000:db8';
    expect(foldIPv6(parseIPv6(x)!)).toBe(foldIPv6(parseIPv6(y)!));
    const rx = send(a, seg(x, 40000, TCP_SYN), 1000);
    const ry = send(a, seg(y, 40000, TCP_SYN), 1000);
    expect(rx).not.toBe(ry);
    send(a, seg(x, 40000, TCP_ACK), 1000);
    send(a, seg(y, 40000, TCP_ACK), 1000);
    expect(syncOver(a, b, 1100)).toMatchObject({ imported: 2, present: 0 });
    expect(b.conns6.size).toBe(2);
    expect(send(b, seg(y, 40000, TCP_ACK), 2000)).toBe(ry);
    expect(send(b, seg(x, 40000, TCP_ACK), 2000)).toBe(rx);
  });

  it(`a reload giving ${REALS[1]!.ip} weight 2 applied on B first (mh): moved IPv6 flows break without sync, none with it`, () => {
    const N = 3000;
    const a = director();
    const b = director();
    const bSynced = director();
    setWeight(b, REALS[1]!.ip, 2);
    setWeight(bSynced, REALS[1]!.ip, 2);
    const reals = open(a, N, 1000);
    expect(new Set(reals).size).toBe(3);
    expect(syncOver(a, bSynced, 1100)).toMatchObject({ imported: N, unknown: 0, full: 0 });
    const without = moved(b, reals, 2000);
    const withSync = moved(bSynced, reals, 2000);
    console.log(`IPv6, weight 2 on B: ${without.broken} / ${N} moved flows broken without sync, ${withSync.broken} with it`);
    expect(without.broken / N).toBeGreaterThan(0.1);
    expect(withSync).toEqual({ broken: 0, dropped: 0 });
  });
});

describe('IPv6 connection sync: what is entered and sent', () => {
  it('a record whose service or real is unknown here is refused and counted; the IPv6 table is not built for it', () => {
    const b = director();
    const four = new Dataplane({ selfMac: SELF });
    const c: SyncConn = {
      proto: 'tcp', state: 'ESTABLISHED', caddr: 0, cport: 1, vaddr: 0, vport: 80, daddr: 0, dport: 80,
      v6: { caddr: '2001:db8:1::1', vaddr: VIP6, daddr: '2001:db8::99' },
    };
    const wrongVip = { ...c, v6: { ...c.v6!, vaddr: '2001:db8::11', daddr: REALS[0]!.ip } };
    const wrongPort = { ...c, vport: 81, v6: { ...c.v6!, daddr: REALS[0]!.ip } };
    // The real's fold is right but its address is not: found by the full address only.
    const sameFold = { ...c, daddr: foldIPv6(parseIPv6(REALS[0]!.ip)!), v6: { ...c.v6!, daddr: '2001:db8:1::1:7' } };
    expect(foldIPv6(parseIPv6(sameFold.v6.daddr)!)).toBe(foldIPv6(parseIPv6(REALS[0]!.ip)!));
    expect(importSyncedConns(b, [c, wrongVip, wrongPort, sameFold], 0)).toEqual({ imported: 0, refreshed: 0, present: 0, unknown: 4, full: 0 });
    expect(b.conns6.size).toBe(0);
    expect(importSyncedConns(four, [{ ...c, v6: { ...c.v6!, daddr: REALS[0]!.ip } }], 0)).toMatchObject({ unknown: 1 });
    expect(importSyncedConns(b, [{ ...c, v6: { ...c.v6!, daddr: REALS[0]!.ip } }], 0)).toMatchObject({ imported: 1 });
  });

  it('synced IPv6 flows are marked: not sent on, re-armed by later records, and a packet through B makes one its own', () => {
    const a = director();
    const b = director();
    open(a, 3, 0);
    expect(syncOver(a, b, 0).imported).toBe(3);
    expect(decodeSyncBatch(exportSyncBatch(b, 100), Infinity)).toEqual([]);
    const expiry = () => {
      const out: number[] = [];
      b.conns6.forEach((e) => out.push(e.expiresAt));
      return out.sort((p, q) => p - q);
    };
    const first = expiry();
    for (let i = 0; i < 3; i++) send(a, frame(i, TCP_ACK), 60_000);
    expect(syncOver(a, b, 60_000)).toMatchObject({ imported: 0, refreshed: 3, present: 0 });
    expect(expiry().map((t, i) => t - first[i]!)).toEqual([60_000, 60_000, 60_000]);
    send(b, frame(1, TCP_ACK), 61_000);
    expect(decodeSyncBatch(exportSyncBatch(b, 61_000), Infinity)!.map((c) => c.v6!.caddr)).toEqual([client(1)]);
    expect(syncOver(a, b, 62_000)).toMatchObject({ refreshed: 2, present: 1 });
  });

  it('the worker fan-out merges the workers\' exports, IPv6 records included (engine/combine.ts)', () => {
    const w0 = director('rr');
    const w1 = director('rr');
    open(w0, 2, 0);
    send(w1, tcpFrame({ srcMac: '02:00:00:00:00:64', dstMac: '02:00:00:00:00:01', src: '10.0.0.1', dst: '192.168.0.10', sport: 999, dport: 80, flags: 'SYN' }), 0);
    send(w1, frame(7, TCP_SYN), 0);
    const all = decodeSyncBatch(combineSync([exportSyncBatch(w0, 1), exportSyncBatch(w1, 1)]), Infinity)!;
    // Worker by worker, IPv4 before IPv6 in each (a table's own order is its slots').
    const names = all.map((c) => c.v6?.caddr ?? c.caddr);
    expect(new Set(names.slice(0, 2))).toEqual(new Set([client(0), client(1)]));
    expect(names.slice(2)).toEqual([parseIPv4('10.0.0.1'), client(7)]);
  });

  it('closing IPv6 connections are not exported; a director without IPv6 services exports its IPv4 flows only', () => {
    const a = director('rr');
    open(a, 2, 0);
    send(a, frame(1, 0x11), 1);
    expect(decodeSyncBatch(exportSyncBatch(a, 2), Infinity)!.map((c) => c.v6!.caddr)).toEqual([client(0)]);
    const four = new Dataplane({ selfMac: SELF });
    expect(exportSyncBatch(four, 0)).toBe('');
  });
});

/** Two in-memory transports wired to each other. */
function pair(): [SyncTransport, SyncTransport] {
  const cbs: Array<((d: Uint8Array, from: { addr: string; port: number }) => void) | null> = [null, null];
  const mk = (me: number): SyncTransport => ({
    send: (d: Uint8Array) => cbs[1 - me]?.(d, { addr: `192.168.0.${me + 2}`, port: 8848 }),
    onDatagram: (f) => {
      cbs[me] = f;
    },
    close: async () => undefined,
  });
  return [mk(0), mk(1)];
}
describe('the sync loop with IPv6 flows', () => {
  it('sends them in version-2 datagrams, counts them as records like the IPv4 ones, and B enters them', async () => {
    const t = { t: 0 };
    const clock: Clock = { now: () => t.t, every: () => () => undefined };
    const a = director();
    const b = director();
    const [ta, tb] = pair();
    const sa = startPeerSync({ director: directorOf(a, t), transport: ta, clock, log: silentLogger, intervalMs: 200 });
    const sb = startPeerSync({ director: directorOf(b, t), transport: tb, clock, log: silentLogger, intervalMs: 200 });
    const reals = open(a, 50, 0);
    await sa.round();
    await new Promise((r) => setImmediate(r));
    expect(sa.status()).toMatchObject({ recordsSent: 50, datagramsSent: 3 });
    expect(sb.status()).toMatchObject({ recordsReceived: 50, datagramsReceived: 3, datagramsBad: 0, importErrors: 0 });
    expect(Object.keys(sb.status()).sort()).toEqual(['datagramsBad', 'datagramsReceived', 'datagramsSent', 'importErrors', 'recordsReceived', 'recordsSent', 'rounds']);
    expect(moved(b, reals, 100)).toEqual({ broken: 0, dropped: 0 });
    // A datagram of a version B does not know is counted, not thrown.
    const d = encodeSyncDatagrams(decodeSyncBatch(exportSyncBatch(a, 100), Infinity)!)[0]!;
    d.write('DSY9', 0);
    ta.send(d);
    expect(sb.status().datagramsBad).toBe(1);
    sa.stop();
    sb.stop();
  });
});
