/**
 * The JavaScript ring walker and TX writer on a SYNTHETIC mapping (a plain ArrayBuffer laid out as
 * the kernel lays out its ring; no root, no addon): frames come out in ring order as zero-copy views
 * with their timestamps, slots go back to the kernel, bad headers are dropped and counted, and a
 * fuzz run of garbage headers never throws out of the walker nor reads outside the mapping.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRxWalker, TP_STATUS_COPY, TP_STATUS_KERNEL, TP_STATUS_SEND_REQUEST, TP_STATUS_USER, TX_DATA_OFFSET, TX_FULL, TX_OK, TX_TOO_BIG,
  TxWriter, type RxGeometry,
} from '../../src/io/ring-walker.ts';

const V2: RxGeometry = { version: 2, blockSize: 4096, blockNr: 4, frameSize: 1024 }; // 16 slots
const MAC_OFF = 66; // what the kernel uses for Ethernet with TPACKET_V2 (see native-notes/ring.md)

/** Puts a frame in V2 slot i the way the kernel does: data at tp_mac, then the status last. */
function putV2(buf: ArrayBuffer, g: RxGeometry, i: number, data: Buffer, o: { sec?: number; nsec?: number; len?: number; mac?: number; status?: number } = {}): void {
  const per = g.blockSize / g.frameSize;
  const off = Math.floor(i / per) * g.blockSize + (i % per) * g.frameSize;
  const dv = new DataView(buf);
  const mac = o.mac ?? MAC_OFF;
  new Uint8Array(buf).set(data, off + mac);
  dv.setUint32(off + 4, o.len ?? data.length, true);
  dv.setUint32(off + 8, data.length, true);
  dv.setUint16(off + 12, mac, true);
  dv.setUint16(off + 14, mac + 14, true);
  dv.setUint32(off + 16, o.sec ?? 1000 + i, true);
  dv.setUint32(off + 20, o.nsec ?? i * 10, true);
  dv.setUint32(off, o.status ?? TP_STATUS_USER, true);
}
const statusV2 = (buf: ArrayBuffer, g: RxGeometry, i: number) => {
  const per = g.blockSize / g.frameSize;
  return new DataView(buf).getUint32(Math.floor(i / per) * g.blockSize + (i % per) * g.frameSize, true);
};
const frame = (tag: number, n = 60) => {
  const b = Buffer.alloc(n, 0xab);
  b.writeUInt32BE(tag, n - 4);
  return b;
};

describe('V2 ring walker (synthetic mapping)', () => {
  it('hands ready frames in ring order as views of the mapping (no copy), with their timestamps, and releases the slots', () => {
    const buf = new ArrayBuffer(V2.blockSize * V2.blockNr);
    const w = createRxWalker(buf, V2);
    for (let i = 0; i < 5; i++) putV2(buf, V2, i, frame(i));
    const got: Array<[number, number, number, number]> = [];
    let sameMemory = true;
    const n = w.walk(100, (f, len, sec, nsec) => {
      got.push([f.readUInt32BE(len - 4), len, sec, nsec]);
      sameMemory &&= f.buffer === buf; // a view of the ring itself
    });
    expect(n).toBe(5);
    expect(sameMemory).toBe(true);
    expect(got).toEqual([0, 1, 2, 3, 4].map((i) => [i, 60, 1000 + i, i * 10]));
    for (let i = 0; i < 5; i++) expect(statusV2(buf, V2, i)).toBe(TP_STATUS_KERNEL);
    expect(w.ready()).toBe(false);
    expect(w.counters).toMatchObject({ frames: 5, bad: 0, truncated: 0 });
  });

  it('stops at the first slot the kernel still owns, honours max, and wraps around the ring', () => {
    const buf = new ArrayBuffer(V2.blockSize * V2.blockNr);
    const w = createRxWalker(buf, V2);
    const tags: number[] = [];
    const fn = (f: Buffer, len: number) => void tags.push(f.readUInt32BE(len - 4));
    for (let i = 0; i < 12; i++) putV2(buf, V2, i, frame(i));
    expect(w.walk(10, fn)).toBe(10);
    expect(w.walk(10, fn)).toBe(2);
    for (let k = 12; k < 20; k++) putV2(buf, V2, k % 16, frame(k)); // slots 12..15, then 0..3 again
    expect(w.walk(100, fn)).toBe(8);
    expect(tags).toEqual([...Array(20).keys()]);
  });

  it('drops and counts truncated frames (tp_snaplen < tp_len, or TP_STATUS_COPY) and bad headers, and goes on', () => {
    const buf = new ArrayBuffer(V2.blockSize * V2.blockNr);
    const w = createRxWalker(buf, V2);
    putV2(buf, V2, 0, frame(0), { len: 9000 });
    putV2(buf, V2, 1, frame(1), { status: TP_STATUS_USER | TP_STATUS_COPY });
    putV2(buf, V2, 2, frame(2), { mac: 1000 }); // 1000 + 60 > the 1024-byte slot
    putV2(buf, V2, 3, frame(3), { mac: 4 }); // inside the header
    putV2(buf, V2, 4, frame(4));
    const tags: number[] = [];
    expect(w.walk(100, (f, len) => void tags.push(f.readUInt32BE(len - 4)))).toBe(5);
    expect(tags).toEqual([4]);
    expect(w.counters).toMatchObject({ frames: 1, truncated: 2, bad: 2 });
    for (let i = 0; i < 5; i++) expect(statusV2(buf, V2, i)).toBe(TP_STATUS_KERNEL);
  });

  it('a callback that throws is counted and the walk goes on', () => {
    const buf = new ArrayBuffer(V2.blockSize * V2.blockNr);
    const w = createRxWalker(buf, V2);
    putV2(buf, V2, 0, frame(0));
    putV2(buf, V2, 1, frame(1));
    let n = 0;
    expect(() => w.walk(10, () => {
      n++;
      throw new Error('handler bug');
    })).not.toThrow();
    expect(n).toBe(2);
    expect(w.counters.callbackErrors).toBe(2);
  });

  it('refuses a geometry that does not fit the mapping', () => {
    expect(() => createRxWalker(new ArrayBuffer(4096), V2)).toThrow(RangeError);
    expect(() => createRxWalker(new ArrayBuffer(1 << 16), { ...V2, frameSize: 1000 })).toThrow(RangeError);
  });
});

/** Lays out V3 blocks as the kernel does: block descriptor, then packed tpacket3_hdr frames. */
function putV3Block(buf: ArrayBuffer, bs: number, b: number, frames: Buffer[], o: { first?: number; nexts?: number[]; num?: number } = {}): void {
  const dv = new DataView(buf);
  const base = b * bs;
  const first = o.first ?? 48;
  let rel = first;
  frames.forEach((f, k) => {
    const off = base + rel;
    const mac = 48 + 34; // hdr + sockaddr_ll-ish gap; any value the data fits after
    const next = o.nexts?.[k] ?? (k + 1 < frames.length ? ((mac + f.length + 15) & ~15) : 0);
    dv.setUint32(off, next, true);
    dv.setUint32(off + 4, 2000 + k, true);
    dv.setUint32(off + 8, k, true);
    dv.setUint32(off + 12, f.length, true);
    dv.setUint32(off + 16, f.length, true);
    dv.setUint32(off + 20, TP_STATUS_USER, true);
    dv.setUint16(off + 24, mac, true);
    new Uint8Array(buf).set(f, off + mac);
    rel += next;
  });
  dv.setUint32(base + 12, o.num ?? frames.length, true);
  dv.setUint32(base + 16, first, true);
  dv.setUint32(base + 8, TP_STATUS_USER, true);
}

describe('V3 ring walker (synthetic mapping)', () => {
  const V3: RxGeometry = { version: 3, blockSize: 4096, blockNr: 4, frameSize: 2048 };

  it('walks every frame of every ready block in order, then gives the block back', () => {
    const buf = new ArrayBuffer(V3.blockSize * V3.blockNr);
    const w = createRxWalker(buf, V3);
    putV3Block(buf, V3.blockSize, 0, [frame(0), frame(1), frame(2)]);
    putV3Block(buf, V3.blockSize, 1, [frame(3)]);
    const got: Array<[number, number]> = [];
    expect(w.walk(100, (f, len, sec) => void got.push([f.readUInt32BE(len - 4), sec]))).toBe(4);
    expect(got).toEqual([[0, 2000], [1, 2001], [2, 2002], [3, 2000]]);
    expect(new DataView(buf).getUint32(8, true)).toBe(TP_STATUS_KERNEL);
    expect(new DataView(buf).getUint32(V3.blockSize + 8, true)).toBe(TP_STATUS_KERNEL);
    expect(w.ready()).toBe(false);
  });

  it('drops the rest of a block whose offsets leave it, and counts them', () => {
    const buf = new ArrayBuffer(V3.blockSize * V3.blockNr);
    const w = createRxWalker(buf, V3);
    putV3Block(buf, V3.blockSize, 0, [frame(0)], { nexts: [1 << 20], num: 5 }); // claims 5 frames, the 2nd one 1 MiB away
    const tags: number[] = [];
    w.walk(100, (f, len) => void tags.push(f.readUInt32BE(len - 4)));
    expect(tags).toEqual([0]);
    expect(w.counters.bad).toBe(4);
    expect(new DataView(buf).getUint32(8, true)).toBe(TP_STATUS_KERNEL);
  });
});

describe('fuzz: garbage slot headers', () => {
  /**
   * Random bytes everywhere, statuses random: the walker must return normally, hand only views
   * that lie inside the mapping, and leave every slot it passed to the kernel.
   */
  for (const version of [2, 3] as const) {
    it(`V${version}: never throws and never hands a view outside the mapping`, () => {
      const g: RxGeometry = version === 2 ? V2 : { version: 3, blockSize: 4096, blockNr: 4, frameSize: 2048 };
      const size = g.blockSize * g.blockNr;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: size, maxLength: size }), fc.array(fc.nat(size - 64), { maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, userAt, max) => {
          const buf = new ArrayBuffer(size);
          new Uint8Array(buf).set(bytes);
          const dv = new DataView(buf);
          // Make many headers claim to be ready, whatever else they say.
          for (const a of userAt) dv.setUint32(a & ~3, (dv.getUint32(a & ~3, true) | TP_STATUS_USER) >>> 0, true);
          if (version === 2) for (let i = 0; i < 16; i++) if (i % 3 === 0) dv.setUint32(Math.floor(i / 4) * 4096 + (i % 4) * 1024, TP_STATUS_USER, true);
          else for (let b = 0; b < 4; b++) dv.setUint32(b * 4096 + 8, TP_STATUS_USER, true);
          const w = createRxWalker(buf, g);
          let handed = 0;
          for (let round = 0; round < 3; round++) {
            w.walk(max, (f, len) => {
              handed++;
              expect(f.buffer).toBe(buf);
              expect(f.byteOffset).toBeGreaterThanOrEqual(0);
              expect(f.byteOffset + len).toBeLessThanOrEqual(size);
              expect(len).toBeLessThanOrEqual(f.length);
              f.readUInt8(len - 1); // reading the last byte is in bounds
            });
          }
          const c = w.counters;
          expect(c.frames).toBe(handed);
          expect(c.callbackErrors).toBe(0); // the expects above held
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('TX writer (synthetic mapping)', () => {
  const G = { blockSize: 4096, blockNr: 1, frameSize: 1024 }; // 4 slots

  it('writes frames into consecutive slots after the V2 header, marks them SEND_REQUEST, and refuses when every slot is in flight', () => {
    const buf = new ArrayBuffer(4096);
    const t = new TxWriter(buf, G);
    const dv = new DataView(buf);
    for (let i = 0; i < 4; i++) expect(t.write(frame(i), 60)).toBe(TX_OK);
    expect(t.pending).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(dv.getUint32(i * 1024, true)).toBe(TP_STATUS_SEND_REQUEST);
      expect(dv.getUint32(i * 1024 + 4, true)).toBe(60);
      expect(dv.getUint32(i * 1024 + TX_DATA_OFFSET + 56, false)).toBe(i);
    }
    expect(t.write(frame(9), 60)).toBe(TX_FULL);
    expect(t.unsent()).toBe(true); // the last slot written still waits for send()
    for (let i = 0; i < 4; i++) dv.setUint32(i * 1024, 0, true); // the kernel sent them: AVAILABLE again
    expect(t.unsent()).toBe(false);
    expect(t.write(frame(4), 60)).toBe(TX_OK);
  });

  it('checks the length before every write: too short, larger than a slot, larger than the buffer', () => {
    const buf = new ArrayBuffer(4096);
    const t = new TxWriter(buf, G);
    expect(t.write(Buffer.alloc(10), 10)).toBe(TX_TOO_BIG);
    expect(t.write(Buffer.alloc(2000), 2000)).toBe(TX_TOO_BIG);
    expect(t.write(Buffer.alloc(1024 - TX_DATA_OFFSET), 1024 - TX_DATA_OFFSET)).toBe(TX_OK);
    expect(t.write(Buffer.alloc(60), 61)).toBe(TX_TOO_BIG);
    expect(t.pending).toBe(1);
  });

  it('fuzz: any length and any slot status never writes outside the mapping', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -10, max: 5000 }), fc.nat(8)), { maxLength: 40 }), (ops) => {
        const buf = new ArrayBuffer(4096 + 64);
        const guard = new Uint8Array(buf, 4096);
        const t = new TxWriter(buf, G);
        const dv = new DataView(buf);
        for (const [len, st] of ops) {
          dv.setUint32((st % 4) * 1024, st > 3 ? 0 : st, true);
          t.write(Buffer.alloc(Math.max(0, Math.min(len, 4200)), 1), len);
        }
        expect(guard.every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
