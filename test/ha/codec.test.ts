import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuthKey } from '../../src/config/index.ts';
import { crc32, decodeMessage, encodeMessage, ReplayGuard, type HaMessage } from '../../src/ha/index.ts';

const sha1: AuthKey = { line: 2, index: 2, method: 'sha1', key: 'xxxxxxxx' };
const keys = new Map([[2, sha1]]);
const msg: HaMessage = { t: 'status', src: 'www1.example.com', dest: 'www2.example.com', gen: 1764165540123, seq: 42, st: 'active' };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('heartbeat wire format', () => {
  it('is heartbeat-style text, signed with HMAC-SHA1 over everything before auth=', () => {
    const b = encodeMessage(msg, sha1);
    const s = text(b);
    expect(s).toBe(
      '>>>\nt=status\nsrc=www1.example.com\ndest=www2.example.com\ngen=1764165540123\nseq=2a\nst=active\n' +
        `auth=2 ${createHmac('sha1', 'xxxxxxxx').update(s.slice(0, s.indexOf('auth='))).digest('hex')}\n<<<\n`,
    );
    const d = decodeMessage(b, keys);
    expect(d).toEqual({ ok: true, keyIndex: 2, msg: { ...msg, extra: {} } });
  });

  it('crc32 is the IEEE one; md5, sha1, sha256 and crc all round-trip', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (const method of ['crc', 'md5', 'sha1', 'sha256'] as const) {
      const k: AuthKey = { line: 1, index: 1, method, key: method === 'crc' ? '' : 's3cret' };
      const m = { ...msg, extra: { conns: 'abc' } };
      expect(decodeMessage(encodeMessage(m, k), new Map([[1, k]]))).toMatchObject({ ok: true, msg: m });
    }
  });

  it('crc digests are those of the table-driven CRC-32 dsrlb had before zlib.crc32 (bit by bit here)', () => {
    const reference = (b: Uint8Array): number => {
      let c = 0xffffffff;
      for (const byte of b) {
        c ^= byte;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => { expect(crc32(b)).toBe(reference(b)); }), { numRuns: 300 });
    // The digest of one heartbeat, as the previous implementation computed it.
    const crc: AuthKey = { line: 1, index: 1, method: 'crc', key: '' };
    expect(text(encodeMessage(msg, crc))).toMatch(/\nauth=1 9315ecb0\n<<<\n$/);
  });

  it('a forged message (wrong key), a tampered one and an unknown key index are refused', () => {
    const forged = encodeMessage(msg, { ...sha1, key: 'guess' });
    expect(decodeMessage(forged, keys)).toMatchObject({ ok: false, reason: 'bad-auth' });
    const tampered = text(encodeMessage(msg, sha1)).replace('st=active', 'st=stopping');
    expect(decodeMessage(new TextEncoder().encode(tampered), keys)).toMatchObject({ ok: false, reason: 'bad-auth' });
    const other = encodeMessage(msg, { ...sha1, index: 3 });
    expect(decodeMessage(other, keys)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(decodeMessage(new Uint8Array(70_000), keys)).toMatchObject({ ok: false, reason: 'too-big' });
  });

  it('never throws and never accepts an unsigned change, whatever the bytes (fuzz)', () => {
    const good = encodeMessage(msg, sha1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        expect(decodeMessage(junk, keys).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = Uint8Array.from(good);
        b[i] ^= x;
        const d = decodeMessage(b, keys);
        // Only a flip that leaves the signed text and digest intact could pass: none can.
        expect(d.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('replay guard', () => {
  it('accepts increasing sequences, refuses repeats (duplicates) and older ones, accepts a new generation, refuses an older one', () => {
    const g = new ReplayGuard();
    expect(g.check('a', 10, 1)).toBe('fresh');
    expect(g.check('a', 10, 2)).toBe('fresh');
    expect(g.check('a', 10, 2)).toBe('duplicate');
    // An older copy (the other medium's, after a newer message) is a duplicate, not a replay.
    expect(g.check('a', 10, 1)).toBe('duplicate');
    expect(g.check('a', 10, 5)).toBe('fresh');
    expect(g.check('a', 10, 4)).toBe('late'); // never seen: lost on one medium, late on the other
    expect(g.check('a', 10, 2)).toBe('duplicate');
    expect(g.check('a', 10, 40)).toBe('fresh');
    expect(g.check('a', 10, 8)).toBe('late'); // 32 back: still in the window
    expect(g.check('a', 10, 5)).toBe('replay'); // 35 back: past the window
    expect(g.check('a', 10, 39)).toBe('late');
    expect(g.check('a', 10, 100)).toBe('fresh');
    expect(g.check('a', 10, 40)).toBe('replay');
    expect(g.check('a', 11, 0)).toBe('fresh');
    expect(g.check('a', 10, 99)).toBe('old-generation');
    expect(g.check('b', 1, 1)).toBe('fresh');
    expect(g.lastOf('a')).toEqual({ gen: 11, seq: 0 });
  });
});
