import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dataplane, VerdictKind } from '../../src/dataplane/index.ts';
import { exportSyncBatch, importSyncedConns } from '../../src/engine/index.ts';
import { decodeSyncBatch, encodeSyncBatch, syncDelta, SYNC_MAX_RECORDS, type SyncConn } from '../../src/ha/index.ts';
import { ConnTable } from '../../src/conn/index.ts';
import { macToString, parseIPv4, parseMac } from '../../src/model/index.ts';
import { tcpFrame, udpFrame } from '../../src/packet/index.ts';

const ip = (s: string) => parseIPv4(s)!;
const SELF = '02:00:00:00:00:01';
const CLIENT = '02:00:00:00:00:64';
const REALS = [{ ip: '192.168.0.7', mac: '02:d5:00:00:00:07' }, { ip: '192.168.0.8', mac: '02:d5:00:00:00:08' }, { ip: '192.168.0.9', mac: '02:d5:00:00:00:09' }];

function plane(): Dataplane {
  const dp = new Dataplane({ selfMac: parseMac(SELF)!, connCapacity: 4096 });
  const web = dp.services.addService({ proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'rr' });
  const dns = dp.services.addService({ proto: 'udp', vip: ip('192.168.0.10'), port: 53, scheduler: 'rr' });
  for (const r of REALS) {
    dp.services.setNeighbour(ip(r.ip), parseMac(r.mac)!);
    dp.services.addDest(web, { addr: ip(r.ip), port: 80, weight: 1 });
    dp.services.addDest(dns, { addr: ip(r.ip), port: 53, weight: 1 });
  }
  dp.refreshVips();
  return dp;
}

const frame = (sport: number, flags: string) => tcpFrame({ srcMac: CLIENT, dstMac: SELF, src: '192.168.0.100', dst: '192.168.0.10', sport, dport: 80, flags });
function send(dp: Dataplane, f: Uint8Array, now: number): string | null {
  const v = dp.process(f, f.length, now);
  return v.kind === VerdictKind.Forward ? macToString(v.frame!, 0) : null;
}

/** What dsrlb ha exports: the table's connections in a syncable state (as the snapshot lists them). */
function exportConns(dp: Dataplane, now: number): SyncConn[] {
  const out: SyncConn[] = [];
  dp.conns.forEach((e) => {
    if (e.isTemplate) return;
    const state = ConnTable.stateName(e.state);
    if (!['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'UDP'].includes(state)) return;
    const d = dp.services.destsById[e.destId]!;
    out.push({ proto: e.proto === 6 ? 'tcp' : 'udp', caddr: e.caddr, cport: e.cport, vaddr: e.vaddr, vport: e.vport, daddr: d.addr >>> 0, dport: d.port, state: state as SyncConn['state'] });
  }, now);
  return out;
}

describe('connection sync', () => {
  it('rr flows established on the active continue on the standby after import; without it they are dropped', () => {
    const active = plane();
    const standby = plane();
    const plain = plane();
    const where = new Map<number, string>();
    for (let p = 40000; p < 40030; p++) {
      where.set(p, send(active, frame(p, 'SYN'), 1000)!);
      send(active, frame(p, 'ACK'), 1001);
    }
    send(active, udpFrame({ srcMac: CLIENT, dstMac: SELF, src: '192.168.0.100', dst: '192.168.0.10', sport: 5353, dport: 53, payload: 'q' }), 1002);
    expect(new Set(where.values()).size).toBe(3);
    const conns = exportConns(active, 1100);
    expect(conns).toHaveLength(31);
    // The packet process's export: the same connections, already encoded.
    expect(decodeSyncBatch(exportSyncBatch(active, 1100), Infinity)).toEqual(conns);
    // Closing connections are not exported.
    send(active, frame(40029, 'FIN'), 1101);
    expect(decodeSyncBatch(exportSyncBatch(active, 1102), Infinity)).toHaveLength(30);
    const wire = decodeSyncBatch(encodeSyncBatch(conns))!;
    expect(wire).toEqual(conns);
    expect(importSyncedConns(standby, wire, 1200)).toEqual({ imported: 31, refreshed: 0, present: 0, unknown: 0, full: 0 });
    expect(importSyncedConns(standby, wire, 1201)).toMatchObject({ imported: 0, refreshed: 31, present: 0 });
    for (let p = 40000; p < 40030; p++) {
      expect(send(standby, frame(p, 'ACK'), 2000)).toBe(where.get(p));
      expect(send(plain, frame(p, 'ACK'), 2000)).toBeNull();
    }
    // The real's counters are the table's own: 10 active connections each.
    const web = standby.services.find(6, ip('192.168.0.10'), 80)!;
    expect(web.dests.map((d) => d.activeConns)).toEqual([10, 10, 10]);
  });

  it('a connection to an unknown real or service is left alone', () => {
    const standby = plane();
    const c: SyncConn = { proto: 'tcp', caddr: ip('192.168.0.100'), cport: 1, vaddr: ip('192.168.0.10'), vport: 80, daddr: ip('192.168.0.99'), dport: 80, state: 'ESTABLISHED' };
    expect(importSyncedConns(standby, [c, { ...c, vport: 81 }], 0)).toMatchObject({ imported: 0, unknown: 2 });
  });

  it('the delta sends new and changed connections only, forgets gone ones, and batches', () => {
    const c = (cport: number, state: SyncConn['state'] = 'ESTABLISHED'): SyncConn => ({ proto: 'tcp', caddr: 1, cport, vaddr: 2, vport: 80, daddr: 3, dport: 80, state });
    const sent = new Map();
    expect(syncDelta([c(1), c(2)], sent).flat()).toHaveLength(2);
    expect(syncDelta([c(1), c(2)], sent)).toEqual([]);
    expect(syncDelta([c(1, 'FIN_WAIT'), c(3)], sent).flat().map((x) => x.cport)).toEqual([1, 3]);
    expect(sent.size).toBe(2);
    const many = Array.from({ length: SYNC_MAX_RECORDS + 5 }, (_, i) => c(i + 10));
    expect(syncDelta(many, new Map()).map((b) => b.length)).toEqual([SYNC_MAX_RECORDS, 5]);
  });

  it('decoding never throws and refuses malformed batches', () => {
    expect(decodeSyncBatch('!!')).toBeNull();
    expect(decodeSyncBatch(Buffer.alloc(19).toString('base64'))).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const r = decodeSyncBatch(Buffer.from(b).toString('base64'));
      if (r !== null) expect(r.length * 20).toBe(b.length);
    }), { numRuns: 300 });
  });
});
