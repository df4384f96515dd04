import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DsrlbError } from '../../src/errors/index.ts';
import { FrameInfo, PacketError, decodeFrame, describeDecodeError, parseFrame, parseTcpOptions, tcpFlagBits, tcpFlagNames } from '../../src/packet/index.ts';
import { BAD, GOOD } from './fixtures.ts';
import { hex, normalize } from './helpers.ts';

describe('parseFrame on fixtures', () => {
  it.each(GOOD.map((f) => [f.description, f] as const))('%s', (_d, f) => {
    const r = parseFrame(f.bytes);
    if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
    expect(normalize(r.frame)).toMatchObject(f.expected);
  });

  it.each(BAD.map((f) => [f.description, f] as const))('rejects: %s', (_d, f) => {
    const r = parseFrame(f.bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(PacketError);
    expect(r.error).toBeInstanceOf(DsrlbError);
    expect(r.error.code).toBe('E_PACKET');
    expect({ layer: r.error.layer, offset: r.error.offset }).toEqual({ layer: f.error.layer, offset: f.error.offset });
    expect(r.error.reason).toMatch(f.error.reason);
    expect(r.error.message).toBe(`${f.error.layer} at byte ${f.error.offset}: ${r.error.reason}`);
  });

  it('gives zero-copy views of the input', () => {
    const bytes = GOOD[2]!.bytes.slice();
    const r = parseFrame(bytes);
    if (!r.ok) throw r.error;
    expect(r.frame.tcp!.payload.buffer).toBe(bytes.buffer);
    bytes[54] = 0x50; // 'G' -> 'P'
    expect(r.frame.tcp!.payload[0]).toBe(0x50);
  });

  it('reports a bad IPv4 header checksum and a bad TCP checksum without rejecting the frame', () => {
    const bytes = GOOD[0]!.bytes.slice();
    bytes[24] ^= 0xff; // IPv4 checksum high byte
    bytes[73] ^= 0x01; // last option byte (wscale)
    const r = parseFrame(bytes);
    if (!r.ok) throw r.error;
    expect(r.frame.ipv4!.checksumOk).toBe(false);
    expect(r.frame.tcp!.checksumOk).toBe(false);
  });

  it('never throws on input that is not a Uint8Array', () => {
    const r = parseFrame(null as unknown as Uint8Array);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.layer).toBe('ethernet');
  });

  it('accepts a Node Buffer and a subarray at an offset', () => {
    const f = GOOD[4]!;
    const big = new Uint8Array(f.bytes.length + 7).fill(0xee);
    big.set(f.bytes, 7);
    for (const input of [Buffer.from(f.bytes), big.subarray(7)]) {
      const r = parseFrame(input);
      if (!r.ok) throw r.error;
      expect(normalize(r.frame)).toMatchObject(f.expected);
    }
  });
});

describe('decodeFrame state', () => {
  it('leaves nothing of an earlier frame in a reused FrameInfo', () => {
    const reused = new FrameInfo();
    for (const a of [...GOOD, ...BAD]) {
      for (const b of [...GOOD, ...BAD]) {
        decodeFrame(a.bytes, a.bytes.length, reused);
        const fresh = new FrameInfo();
        expect(decodeFrame(b.bytes, b.bytes.length, reused)).toBe(decodeFrame(b.bytes, b.bytes.length, fresh));
        expect({ ...reused }).toEqual({ ...fresh });
      }
    }
  });

  it('keeps errReason one of a few constant phrases (nothing formatted per packet), empty on success', () => {
    const info = new FrameInfo();
    const phrases = new Set<string>();
    const described = new Set<string>();
    for (const f of [...GOOD, ...BAD]) {
      for (let cut = 0; cut <= f.bytes.length; cut++) {
        if (decodeFrame(f.bytes, cut, info)) {
          expect(info.errReason).toBe('');
          continue;
        }
        phrases.add(info.errReason);
        described.add(describeDecodeError(info));
        expect(describeDecodeError(info).startsWith(info.errReason.split(' ')[0]!)).toBe(true);
      }
    }
    expect(phrases.size).toBeLessThanOrEqual(16);
    expect(described.size).toBeGreaterThan(50); // the numbers live in errHave / errWant
    for (const f of BAD) {
      decodeFrame(f.bytes, f.bytes.length, info);
      expect(describeDecodeError(info)).toMatch(f.error.reason);
    }
  });

  it('treats a NaN, negative or fractional length sanely', () => {
    const f = GOOD[0]!.bytes;
    const info = new FrameInfo();
    expect(decodeFrame(f, Number.NaN, info)).toBe(false);
    expect([info.errLayer, info.errOffset, info.len]).toEqual(['ethernet', 0, 0]);
    expect(decodeFrame(f, -5, info)).toBe(false);
    expect(info.errOffset).toBe(0);
    expect(decodeFrame(f, 74.9, info)).toBe(true);
    expect(info.len).toBe(74);
    expect(decodeFrame(f, 73.5, info)).toBe(false);
    expect(info.errOffset).toBe(73);
    expect(decodeFrame(f, Infinity, info)).toBe(true);
  });
});

describe('TCP flags and options', () => {
  it('names flags in bit order and back', () => {
    expect(tcpFlagNames(0x12)).toEqual(['SYN', 'ACK']);
    expect(tcpFlagNames(0xff)).toEqual(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);
    expect(tcpFlagBits(['ACK', 'FIN', 'ACK'])).toBe(0x11);
    for (let b = 0; b < 256; b++) expect(tcpFlagBits(tcpFlagNames(b))).toBe(b);
  });

  it('decodes the options of a Linux SYN', () => {
    const r = parseFrame(GOOD[0]!.bytes);
    if (!r.ok) throw r.error;
    const o = parseTcpOptions(r.frame.tcp!.options, r.frame.l4Offset + 20);
    if (!o.ok) throw o.error;
    expect(o.options.map((x) => x.kind)).toEqual([2, 4, 8, 1, 3]);
    expect(o.summary).toEqual({ mss: 1460, wscale: 7, sackPermitted: true, timestamp: { val: 123456, ecr: 0 }, sack: [] });
  });

  it('reads SACK blocks and stops at End of Option List', () => {
    const o = parseTcpOptions(hex('0101050a0000000100000005' + '00' + 'ffff'));
    if (!o.ok) throw o.error;
    expect(o.summary.sack).toEqual([[1, 5]]);
    expect(o.options.map((x) => x.kind)).toEqual([1, 1, 5, 0]);
  });

  it('never throws on random option bytes, and errors point inside them (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 44 }), fc.nat(100), (opts, base) => {
        const o = parseTcpOptions(opts, base);
        if (o.ok) {
          const used = o.options.reduce((n, x) => n + (x.kind <= 1 ? 1 : x.data.length + 2), 0);
          expect(used).toBeLessThanOrEqual(opts.length);
        } else {
          expect(o.error.offset).toBeGreaterThanOrEqual(base);
          expect(o.error.offset).toBeLessThan(base + opts.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['no length byte', '0101' + '02', 2, /no length/],
    ['length below 2', '0201', 1, /below 2/],
    ['overrun', '020405', 1, /overruns/],
    ['MSS of length 3', '020305', 1, /not 4/],
    ['SACK of length 6', '0506' + '00000000', 1, /2 \+ 8n/],
  ])('rejects options: %s', (_d, h, rel, reason) => {
    const o = parseTcpOptions(hex(h), 54);
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.error.layer).toBe('tcp');
    expect(o.error.offset).toBe(54 + rel);
    expect(o.error.reason).toMatch(reason);
  });
});
