import { describe, expect, it } from 'vitest';
import { parsePcap, PcapWriter } from '../../src/io/index.ts';

describe('pcap files', () => {
  it('round-trips frames and microsecond timestamps', () => {
    const w = new PcapWriter();
    w.add(1764000000001.25, Uint8Array.from([1, 2, 3]));
    w.add(1764000000002.5, Uint8Array.from([4, 5, 6, 7, 8]), 4);
    const p = parsePcap(w.toBuffer());
    expect(p.linkType).toBe(1);
    expect(p.records.map((r) => [r.timeMs, [...r.data]])).toEqual([
      [1764000000001.25, [1, 2, 3]],
      [1764000000002.5, [4, 5, 6, 7]],
    ]);
  });

  it('reads big-endian and nanosecond files', () => {
    const b = Buffer.alloc(24 + 16 + 2);
    b.writeUInt32BE(0xa1b23c4d, 0); // nanosecond magic, big-endian
    b.writeUInt32BE(65535, 16);
    b.writeUInt32BE(1, 20);
    b.writeUInt32BE(10, 24);
    b.writeUInt32BE(500_000_000, 28);
    b.writeUInt32BE(2, 32);
    b.writeUInt32BE(2, 36);
    const p = parsePcap(b);
    expect(p.nanosecond).toBe(true);
    expect(p.records[0]!.timeMs).toBe(10_500);
  });

  it('names a damaged pcapng header, garbage and truncation precisely', () => {
    const ng = Buffer.alloc(28);
    ng.writeUInt32LE(0x0a0d0d0a, 0);
    expect(() => parsePcap(ng, 'x')).toThrow(/x: section header at byte 0: bad byte-order magic 0x0/);
    expect(() => parsePcap(Buffer.alloc(30, 7), 'x')).toThrow(/not a pcap or pcapng file \(magic 0x7070707\)/);
    expect(() => parsePcap(new PcapWriter().toBuffer().subarray(0, 10), 'x')).toThrow(/x: too short for a pcap header \(10 bytes\)/);
    const w = new PcapWriter();
    w.add(0, new Uint8Array(20));
    const full = w.toBuffer();
    expect(() => parsePcap(full.subarray(0, full.length - 1), 'x')).toThrow(/record 1 at byte 24: 20 bytes announced, 19 present/);
    expect(() => parsePcap(full.subarray(0, 30), 'x')).toThrow(/truncated record header/);
  });
});
