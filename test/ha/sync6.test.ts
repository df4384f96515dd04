/**
 * IPv6 connection-sync records (ha/sync-records.ts, ha/sync.ts): round trips of batches and
 * datagrams, mixed IPv4/IPv6 frames, every refusal by its reason, the MTU budget, and what a
 * director of the older version (test/ha/fixtures/sync-v1.ts) makes of what this one sends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSyncBatch, decodeSyncDatagram, encodeSyncBatch, encodeSyncDatagrams, syncDelta, syncKey,
  SYNC_DATAGRAM_MAX_BYTES, SYNC_DATAGRAM_RECORDS6, SYNC_MAX_RECORDS, SYNC_MAX_RECORDS6, MAX_MESSAGE_BYTES, type SyncConn,
} from '../../src/ha/index.ts';
import { foldIPv6, ipv6ToString, parseIPv4, parseIPv6 } from '../../src/model/index.ts';
import { decodeSyncBatchV1, decodeSyncDatagramV1 } from './fixtures/sync-v1.ts';

const ip = (s: string) => parseIPv4(s)!;
const fold = (s: string) => foldIPv6(parseIPv6(s)!);

function c6(i: number, o: Partial<SyncConn> = {}): SyncConn {
  const caddr = ipv6ToString(parseIPv6(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`)!);
  const vaddr = '2001:db8::10';
  const daddr = i % 2 ? '2001:db8::21' : 'fe80::ffff:1:2:3';
  return {
    proto: i % 3 === 0 ? 'udp' : 'tcp', state: i % 3 === 0 ? 'UDP' : i % 3 === 1 ? 'ESTABLISHED' : 'SYN_RECV',
    caddr: fold(caddr), cport: 1024 + i, vaddr: fold(vaddr), vport: 443, daddr: fold(daddr), dport: 65535 - i,
    v6: { caddr, vaddr, daddr }, ...o,
  };
}
const c4 = (i: number): SyncConn => ({ proto: 'tcp', state: 'ESTABLISHED', caddr: 0xfffffff0 + (i % 16), cport: i, vaddr: ip('192.168.0.10'), vport: 80, daddr: ip('192.168.0.9'), dport: 80 });

const decodeAll = (ds: Buffer[]) => ds.flatMap((d) => {
  const r = decodeSyncDatagram(d);
  if (!r.ok) throw new Error(r.why);
  return r.conns;
});

describe('IPv6 sync records: batches', () => {
  it('an IPv6 batch round-trips every field, full addresses and folds; an IPv4-only batch is the version-1 bytes', () => {
    const conns = Array.from({ length: 40 }, (_, i) => c6(i));
    const s = encodeSyncBatch(conns);
    expect(Buffer.from(s, 'base64').subarray(0, 4).toString()).toBe('DSY2');
    expect(Buffer.from(s, 'base64').length).toBe(4 + 40 * 57);
    expect(decodeSyncBatch(s)).toEqual(conns);
    // IPv4 only: 20-byte records, no header, as before.
    const four = Array.from({ length: 5 }, (_, i) => c4(i));
    expect(Buffer.from(encodeSyncBatch(four), 'base64').length).toBe(100);
    expect(decodeSyncBatchV1(encodeSyncBatch(four))).toEqual(four);
  });

  it('a mixed batch (the packet process\'s export) keeps both families in order', () => {
    const mixed = [c4(1), c6(1), c4(2), c6(2), c6(3)];
    expect(decodeSyncBatch(encodeSyncBatch(mixed), Infinity)).toEqual(mixed);
  });

  it('refuses a truncated record, an unknown type, a bad state and too many records; never throws', () => {
    const b = Buffer.from(encodeSyncBatch([c6(1), c6(2)]), 'base64');
    expect(decodeSyncBatch(b.subarray(0, b.length - 1).toString('base64'))).toBeNull();
    const unknown = Buffer.from(b);
    unknown[4 + 57] = 5;
    expect(decodeSyncBatch(unknown.toString('base64'))).toBeNull();
    const badState = Buffer.from(b);
    badState[4 + 2] = 7;
    expect(decodeSyncBatch(badState.toString('base64'))).toBeNull();
    expect(decodeSyncBatch(b.toString('base64'), 1)).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const x = Buffer.concat([Buffer.from('DSY2'), Buffer.from(bytes)]);
      const r = decodeSyncBatch(x.toString('base64'), Infinity);
      // Whatever decodes is a list of valid connections: it encodes and decodes to itself.
      if (r !== null) expect(decodeSyncBatch(encodeSyncBatch(r), Infinity)).toEqual(r);
    }), { numRuns: 300 });
  });

  it('the delta keys IPv6 flows by their full addresses and sends each family in batches of its own, within a message', () => {
    // Two clients whose addresses fold alike, same ports: two flows.
    const a = c6(2, { v6: { caddr: '2001:db8::2001:db8', vaddr: '2001:db8::10', daddr: '2001:db8::21' } });
    const b = c6(2, { v6: { caddr: '2001:db8:1::2000:db8', vaddr: '2001:db8::10', daddr: '2001:db8::21' } });
    expect(fold(a.v6!.caddr)).toBe(fold(b.v6!.caddr));
    expect(syncKey(a)).not.toBe(syncKey(b));
    const sent = new Map();
    expect(syncDelta([a, b], sent).flat()).toHaveLength(2);
    expect(syncDelta([a, b], sent)).toEqual([]);
    const many = [...Array.from({ length: SYNC_MAX_RECORDS6 + 3 }, (_, i) => c6(i + 10)), c4(1), c4(2)];
    const batches = syncDelta(many, new Map());
    expect(batches.map((x) => x.length)).toEqual([2, SYNC_MAX_RECORDS6, 3]);
    expect(batches[0]!.every((x) => x.v6 === undefined)).toBe(true);
    // The largest IPv6 batch still fits a heartbeat message as the IPv4 one does.
    expect(SYNC_MAX_RECORDS6).toBe(526);
    expect(encodeSyncBatch(batches[1]!).length).toBeLessThanOrEqual(encodeSyncBatch(Array.from({ length: SYNC_MAX_RECORDS }, (_, i) => c4(i))).length);
    expect(encodeSyncBatch(batches[1]!).length).toBeLessThan(MAX_MESSAGE_BYTES - 1000);
  });

  it('an older standby reads the IPv4 batches of a mixed delta and refuses the IPv6 ones (malformed, counted), never misreads them', () => {
    const batches = syncDelta([c4(1), c6(1), c6(2), c4(2)], new Map()).map((x) => encodeSyncBatch(x));
    expect(batches).toHaveLength(2);
    expect(decodeSyncBatchV1(batches[0]!)).toEqual([c4(1), c4(2)]);
    expect(decodeSyncBatchV1(batches[1]!)).toBeNull();
    // Whatever the count, a version-2 batch never reads as version 1.
    for (let n = 1; n <= 60; n++) expect(decodeSyncBatchV1(encodeSyncBatch(Array.from({ length: n }, (_, i) => c6(i))))).toBeNull();
  });
});

describe('IPv6 sync records: datagrams', () => {
  it('IPv4 records go in DSY1 datagrams, IPv6 ones in DSY2 datagrams of 24, all within the IPv4 records\' 1406 bytes', () => {
    const six = Array.from({ length: 50 }, (_, i) => c6(i));
    const four = Array.from({ length: 75 }, (_, i) => c4(i));
    const ds = encodeSyncDatagrams([...six.slice(0, 25), ...four, ...six.slice(25)]);
    expect(ds.map((d) => d.subarray(0, 4).toString())).toEqual(['DSY1', 'DSY1', 'DSY2', 'DSY2', 'DSY2']);
    expect(ds.map((d) => d.length)).toEqual([1406, 6 + 5 * 20, 6 + 24 * 57, 6 + 24 * 57, 6 + 2 * 57]);
    expect(SYNC_DATAGRAM_RECORDS6).toBe(24);
    expect(Math.max(...ds.map((d) => d.length))).toBeLessThanOrEqual(SYNC_DATAGRAM_MAX_BYTES);
    expect(decodeAll(ds)).toEqual([...four, ...six]);
  });

  it('a DSY2 datagram may carry both families (typed records)', () => {
    const mixed = [c4(3), c6(4), c4(5)];
    const b = Buffer.alloc(6 + 21 + 57 + 21);
    b.write('DSY2', 0);
    b.writeUInt16BE(3, 4);
    // Its bytes: the typed records of the version-2 batch of the same connections.
    Buffer.from(encodeSyncBatch(mixed), 'base64').copy(b, 6, 4);
    expect(decodeSyncDatagram(b)).toEqual({ ok: true, conns: mixed });
  });

  it('refusals by reason: truncated, trailing bytes, unknown type, bad record, unknown version, too long; never thrown', () => {
    const good = encodeSyncDatagrams([c6(1), c6(2)])[0]!;
    expect(decodeSyncDatagram(good).ok).toBe(true);
    expect(decodeSyncDatagram(good.subarray(0, good.length - 1))).toEqual({ ok: false, why: 'bad-length' });
    expect(decodeSyncDatagram(Buffer.concat([good, Buffer.alloc(1)]))).toEqual({ ok: false, why: 'bad-length' });
    const unknown = Buffer.from(good);
    unknown[6 + 57] = 9;
    expect(decodeSyncDatagram(unknown)).toEqual({ ok: false, why: 'unknown-type' });
    const badProto = Buffer.from(good);
    badProto[6 + 1] = 1;
    expect(decodeSyncDatagram(badProto)).toEqual({ ok: false, why: 'bad-record' });
    const dsy3 = Buffer.from(good);
    dsy3.write('DSY3', 0);
    expect(decodeSyncDatagram(dsy3)).toEqual({ ok: false, why: 'bad-version' });
    const tooLong = Buffer.alloc(SYNC_DATAGRAM_MAX_BYTES + 1);
    tooLong.write('DSY2', 0);
    expect(decodeSyncDatagram(tooLong)).toEqual({ ok: false, why: 'bad-length' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      const b = Buffer.from(bytes);
      if (b.length >= 4) b.write('DSY2', 0);
      const r = decodeSyncDatagram(b);
      return r.ok ? r.conns.length === (b.length >= 6 ? b.readUInt16BE(4) : -1) : typeof r.why === 'string';
    }), { numRuns: 500 });
  });

  it('an older director takes the DSY1 datagrams of a mixed round and refuses every DSY2 one as bad magic', () => {
    const ds = encodeSyncDatagrams([c6(1), c4(1), c6(2)]);
    expect(ds.map((d) => decodeSyncDatagramV1(d))).toEqual([{ ok: true, conns: [c4(1)] }, { ok: false, why: 'bad-magic' }]);
  });

  it('addresses come back in canonical text, whatever text went in', () => {
    const long = c6(1, { v6: { caddr: '2001:0db8:0000:0000:0000:0000:0000:0001', vaddr: '2001:DB8::10', daddr: '::ffff:192.0.2.1' } });
    const [back] = decodeAll(encodeSyncDatagrams([long]));
    expect(back!.v6).toEqual({ caddr: '2001:db8::1', vaddr: '2001:db8::10', daddr: ipv6ToString(parseIPv6('::ffff:192.0.2.1')!) });
    expect(() => encodeSyncDatagrams([c6(1, { v6: { caddr: 'nope', vaddr: '::1', daddr: '::1' } })])).toThrow(RangeError);
  });
});
