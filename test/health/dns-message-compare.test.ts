/**
 * The dns-packet mapping (src/health/dns-message.ts) against the hand-written codec it replaced
 * (dns-codec-legacy.ts): for well-formed messages, the same bytes out and the same message read
 * back, so the same check verdicts. (On damaged messages they differ in places; see
 * docs/design/dependencies.md.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, judgeDnsAnswer, type DnsMessage } from '../../src/health/index.ts';
import * as legacy from './dns-codec-legacy.ts';

const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const name = fc.array(label, { maxLength: 4 }).map((l) => l.join('.'));
const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
const record = fc.oneof(
  fc.record({ name, type: fc.constant(1), class: fc.constant(1), ttl: fc.nat(0xffffffff), data: quad }),
  fc.record({ name, type: fc.constantFrom(2, 5, 12), class: fc.constant(1), ttl: fc.nat(), data: name }),
  // Types neither side interprets: raw rdata.
  fc.record({ name, type: fc.constantFrom(4660, 65000), class: fc.constant(1), ttl: fc.nat(), data: fc.uint8Array({ maxLength: 30 }) }),
  // TXT (character-strings) and AAAA (16 bytes), well formed: dns-packet reads them, the old codec kept bytes.
  fc.record({ name, type: fc.constant(16), class: fc.constant(1), ttl: fc.nat(), data: fc.array(fc.uint8Array({ maxLength: 10 }), { minLength: 1, maxLength: 3 }).map((ps) => Uint8Array.from(ps.flatMap((p) => [p.length, ...p]))) }),
  fc.record({ name, type: fc.constant(28), class: fc.constant(1), ttl: fc.nat(), data: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
);
const message: fc.Arbitrary<DnsMessage> = fc.record({
  id: fc.nat(0xffff), qr: fc.boolean(), opcode: fc.nat(15), aa: fc.boolean(), tc: fc.boolean(), rd: fc.boolean(), ra: fc.boolean(), rcode: fc.nat(15),
  questions: fc.array(fc.record({ name, type: fc.nat(0xffff), class: fc.constant(1) }), { maxLength: 2 }),
  answers: fc.array(record, { maxLength: 3 }), authority: fc.array(record, { maxLength: 2 }), additional: fc.array(record, { maxLength: 2 }),
});

/** Uint8Array and Buffer alike (a Buffer reaches the replacer already as its toJSON() form), for toEqual. */
const plain = (m: DnsMessage): unknown => JSON.parse(JSON.stringify(m, (_k, v: unknown) => {
  if (v instanceof Uint8Array) return [...v];
  const o = v as { type?: unknown; data?: unknown } | null;
  return o && typeof o === 'object' && o.type === 'Buffer' && Array.isArray(o.data) ? o.data : v;
}));

describe('dns-packet mapping = the hand-written codec, for well-formed messages', () => {
  it('writes the same bytes and reads the same message back; the check judges them alike', () => {
    fc.assert(fc.property(message, fc.constantFrom('', '10.0.0.7', 'www.example.org'), (m, receive) => {
      const bytes = encodeMessage(m);
      expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(legacy.encodeMessage(m)).toString('hex'));
      const now = decodeMessage(bytes);
      const before = legacy.decodeMessage(bytes);
      expect(plain(now)).toEqual(plain(before));
      expect(judgeDnsAnswer(now, receive)).toEqual(legacy.judgeDnsAnswer(before, receive));
    }), { numRuns: 300 });
  });

  // On damaged messages the two read the header and the questions alike; the records may differ where
  // a damaged rdata length is ignored by dns-packet for some types (docs/design/dependencies.md).
  it('damaged messages: when both read one, they read its header and questions alike (either may refuse what the other reads)', () => {
    let both = 0;
    fc.assert(fc.property(message, fc.array(fc.tuple(fc.nat(300), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(300), (m, changes, cut) => {
      const b = Buffer.from(legacy.encodeMessage(m));
      for (const [i, v] of changes) if (i < b.length) b[i] = v;
      const input = b.subarray(0, Math.max(cut, 12));
      let now: DnsMessage | null = null;
      let before: DnsMessage | null = null;
      let refusedCode: string | undefined;
      try { now = decodeMessage(input); } catch (e) { refusedCode = (e as { code?: string }).code ?? 'no code'; }
      // A refusal is always the typed one.
      if (now === null) expect(refusedCode).toBe('E_DNS_MALFORMED');
      try { before = legacy.decodeMessage(input); } catch { /* refused */ }
      if (now && before) {
        both++;
        const head = (x: DnsMessage) => {
          const { answers: _a, authority: _b, additional: _c, ...rest } = plain(x) as Record<string, unknown>;
          return rest;
        };
        expect(head(now)).toEqual(head(before));
      }
    }), { numRuns: 400 });
    expect(both).toBeGreaterThan(0);
  });

  it('reads compressed names as the old codec did (a message dns-packet did not write)', () => {
    const bytes = Buffer.from(
      '00018180000100020000000003777777076578616d706c65036f7267000001000' +
      '1c00c000100010000003c00040a000007c00c000c00010000003c0006036e7331c010', 'hex');
    expect(plain(decodeMessage(bytes))).toEqual(plain(legacy.decodeMessage(bytes)));
  });
});
