import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DsrlbError } from '../../src/errors/index.ts';
import {
  decodeMessage, DNS_CLASS_IN, DNS_TYPE, encodeMessage, encodeQuery, judgeDnsAnswer, reverseName, type DnsMessage,
} from '../../src/health/index.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function answer(id: number, records: DnsMessage['answers'], rcode = 0): DnsMessage {
  return {
    id, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, rcode,
    questions: [{ name: 'www.example.org', type: DNS_TYPE.A, class: DNS_CLASS_IN }], answers: records, authority: [], additional: [],
  };
}

describe('DNS codec', () => {
  it('encodes a query byte for byte (RFC 1035 layout)', () => {
    const q = encodeQuery(0x1234, 'example.com', DNS_TYPE.A);
    expect(hex(q)).toBe('123401000001000000000000' + '076578616d706c6503636f6d00' + '00010001');
    expect(hex(encodeQuery(1, 'example.com.', DNS_TYPE.A)).slice(4)).toBe(hex(q).slice(4));
  });

  it('reads a query back', () => {
    const m = decodeMessage(encodeQuery(7, 'a.b.c', DNS_TYPE.PTR));
    expect(m).toMatchObject({ id: 7, qr: false, rd: true, questions: [{ name: 'a.b.c', type: 12, class: 1 }], answers: [] });
  });

  it('reads compressed names in answers', () => {
    // Header, question www.example.org A IN, answer: name = pointer to 12, A 10.0.0.7; answer 2: PTR with a
    // name that ends in a pointer to "example.org" (offset 16).
    const bytes = Buffer.from(
      '00018180000100020000000003777777076578616d706c65036f7267000001000' +
      '1c00c000100010000003c00040a000007c00c000c00010000003c0006036e7331c010', 'hex');
    const m = decodeMessage(bytes);
    expect(m.answers).toEqual([
      { name: 'www.example.org', type: 1, class: 1, ttl: 60, data: '10.0.0.7' },
      { name: 'www.example.org', type: 12, class: 1, ttl: 60, data: 'ns1.example.org' },
    ]);
  });

  it('round-trips answers', () => {
    const m = answer(0xbeef, [
      { name: 'www.example.org', type: DNS_TYPE.A, class: 1, ttl: 300, data: '192.0.2.1' },
      { name: 'www.example.org', type: DNS_TYPE.CNAME, class: 1, ttl: 5, data: 'web.example.org' },
      { name: 'x', type: 16, class: 1, ttl: 0, data: new Uint8Array([3, 0x61, 0x62, 0x63]) },
    ]);
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('round-trips random names and A records', () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
    const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
    fc.assert(fc.property(fc.nat(0xffff), name, fc.array(ip, { maxLength: 4 }), (id, n, ips) => {
      const m = answer(id, ips.map((a) => ({ name: n, type: DNS_TYPE.A, class: 1, ttl: 1, data: a })));
      m.questions[0]!.name = n;
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }), { numRuns: 200 });
  });

  it('refuses every truncation of a message with E_DNS_MALFORMED, never another error', () => {
    const full = encodeMessage(answer(1, [{ name: 'www.example.org', type: DNS_TYPE.A, class: 1, ttl: 1, data: '10.0.0.1' }]));
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try { decodeMessage(full.subarray(0, n)); } catch (e) { err = e; }
      expect(err, `prefix of ${n} bytes`).toBeInstanceOf(DsrlbError);
      expect((err as DsrlbError).code).toBe('E_DNS_MALFORMED');
    }
  });

  it('refuses a compression loop and random garbage without hanging', () => {
    const loop = Buffer.from('000181800001000000000000c00c00010001', 'hex');
    expect(() => decodeMessage(loop)).toThrow(/pointer/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      // Decodes, or throws E_DNS_MALFORMED: nothing else.
      const outcome = (() => {
        try {
          decodeMessage(b);
          return 'decoded';
        } catch (e) {
          return (e as DsrlbError).code ?? String(e);
        }
      })();
      expect(['decoded', 'E_DNS_MALFORMED']).toContain(outcome);
    }), { numRuns: 500 });
  });

  it('refuses names DNS cannot carry', () => {
    expect(() => encodeQuery(1, 'a..b', 1)).toThrow(/empty label/);
    expect(() => encodeQuery(1, `${'x'.repeat(64)}.org`, 1)).toThrow(/63/);
  });

  it('reverseName gives the in-addr.arpa name of an IPv4 address only', () => {
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa');
    expect(reverseName('www.example.org')).toBeNull();
    expect(reverseName('1.2.3.256')).toBeNull();
  });
});

describe('judgeDnsAnswer (ldirectord check_dns)', () => {
  const a = (data: string) => ({ name: 'www.example.org', type: DNS_TYPE.A, class: 1, ttl: 1, data });
  const ptr = (data: string) => ({ name: '7.0.0.10.in-addr.arpa', type: DNS_TYPE.PTR, class: 1, ttl: 1, data });
  it.each([
    ['no answer records', answer(1, [], 3), '', false],
    ['any answer, no receive', answer(1, [a('10.0.0.7')]), '', true],
    ['A matches receive', answer(1, [a('10.0.0.6'), a('10.0.0.7')]), '10.0.0.7', true],
    ['A does not match', answer(1, [a('10.0.0.6')]), '10.0.0.7', false],
    ['PTR matches (trailing dot ignored)', answer(1, [ptr('www.example.org')]), 'www.example.org.', true],
    ['receive is not a regexp: 10.0.0.7 does not match 10x0x0x7', answer(1, [a('10.0.0.7')]), '10.0.0.*', false],
  ])('%s', (_name, msg, receive, ok) => {
    expect(judgeDnsAnswer(msg, receive).ok).toBe(ok);
  });
});
