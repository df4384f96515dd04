/**
 * The VRRP codec against real keepalived 2.2.7 adverts, captured on a namespace pair with
 * `tcpdump -w` (test/fixtures/keepalived/captures/: keepalived MASTER, VRID 51 v2 PASS "s3cret",
 * 52 v2 AH "s3cret", 53 v3 at 100 ms, 54 v2 without authentication; priority 150, VIPs
 * 10.77.0.100 and .101, source 10.77.0.1; each capture ends with the priority 0 advert of SIGTERM).
 * Decoding them, re-encoding them byte for byte, and the receive checks with counted rejections.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePcap } from '../../src/io/index.ts';
import {
  AdvertChecker, authKey, decodeVrrpIp, encodeVrrpIp, VRRP_GROUP, type CheckConfig, type VrrpPacket,
} from '../../src/vrrp/index.ts';

const ip = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
const SRC = ip('10.77.0.1');
const VIPS = [ip('10.77.0.100'), ip('10.77.0.101')];

/** The IP packets (Ethernet header stripped) of a capture. */
function capture(name: string): Buffer[] {
  const f = parsePcap(readFileSync(new URL(`../fixtures/keepalived/captures/${name}.pcap`, import.meta.url)), name);
  expect(f.linkType).toBe(1);
  return f.records.map((r) => Buffer.from(r.data.subarray(14)));
}

function decode(b: Uint8Array): VrrpPacket {
  const r = decodeVrrpIp(b);
  if (!r.ok) throw new Error(r.error);
  return r.packet;
}

function cfg(over: Partial<CheckConfig>): CheckConfig {
  return {
    version: 2, vrid: 51, advertIntCs: 100, auth: null, self: ip('10.77.0.2'), subnet: { address: ip('10.77.0.0'), prefix: 24 },
    unicastPeers: [], vipCount: 2, ...over,
  };
}

describe('keepalived 2.2.7 adverts, decoded', () => {
  it('VRRPv2 PASS: fields, password, checksum; re-encoded byte for byte', () => {
    const pkts = capture('v2pass');
    expect(pkts.length).toBeGreaterThanOrEqual(3);
    const p = decode(pkts[0]!);
    expect(p).toMatchObject({ src: SRC, dst: VRRP_GROUP, ttl: 255, checksumOk: true, ah: null });
    expect(p.advert).toMatchObject({ version: 2, vrid: 51, priority: 150, advertIntCs: 100, addresses: VIPS, authType: 'pass' });
    expect(p.advert.authData).toEqual(authKey('s3cret'));
    expect(encodeVrrpIp(p.advert, { src: SRC, dst: VRRP_GROUP, id: 1 })).toEqual(pkts[0]);
    expect(decode(pkts.at(-1)!).advert.priority).toBe(0);
  });

  it('VRRPv2 AH: keepalived\'s HMAC-MD5-96 ICV, SPI = source, sequence from 1; re-encoded byte for byte', () => {
    const pkts = capture('v2ah');
    const p = decode(pkts[0]!);
    expect(p.advert).toMatchObject({ version: 2, vrid: 52, priority: 150, authType: 'ah', addresses: VIPS });
    expect(p.ah).toMatchObject({ spi: SRC, seq: 1 });
    expect(p.ah!.icvOk(authKey('s3cret'))).toBe(true);
    expect(p.ah!.icvOk(authKey('wrong'))).toBe(false);
    expect(p.checksumOk).toBe(true);
    expect(encodeVrrpIp(p.advert, { src: SRC, dst: VRRP_GROUP, id: 1, ah: { key: authKey('s3cret'), seq: 1 } })).toEqual(pkts[0]);
    const last = decode(pkts.at(-1)!);
    expect(last.advert.priority).toBe(0);
    expect(last.ah!.seq).toBe(pkts.length);
  });

  it('VRRPv3: centiseconds, checksum with the pseudo-header; re-encoded byte for byte', () => {
    const pkts = capture('v3');
    const p = decode(pkts[0]!);
    expect(p).toMatchObject({ checksumOk: true, ttl: 255 });
    expect(p.advert).toMatchObject({ version: 3, vrid: 53, priority: 150, advertIntCs: 10, addresses: VIPS });
    expect(encodeVrrpIp(p.advert, { src: SRC, dst: VRRP_GROUP, id: 1 })).toEqual(pkts[0]);
    // A one-bit change of the source breaks the v3 checksum (the pseudo-header covers it).
    const forged = Buffer.from(pkts[0]!);
    forged[15] ^= 1;
    forged.writeUInt16BE(0, 10);
    expect(decode(forged).checksumOk).toBe(false);
  });

  it('VRRPv2 without authentication', () => {
    const p = decode(capture('v2none')[0]!);
    expect(p.advert).toMatchObject({ version: 2, vrid: 54, authType: 'none' });
    expect(p.checksumOk).toBe(true);
  });

  it('refuses what is not VRRP or is cut short', () => {
    expect(decodeVrrpIp(Buffer.alloc(10))).toEqual({ ok: false, error: 'short' });
    const udp = Buffer.from(capture('v3')[0]!);
    udp[9] = 17;
    expect(decodeVrrpIp(udp)).toEqual({ ok: false, error: 'not-vrrp' });
    expect(decodeVrrpIp(capture('v2pass')[0]!.subarray(0, 36))).toEqual({ ok: false, error: 'bad-length' });
  });
});

describe('receive checks, counted', () => {
  it('accept the real adverts with the right settings', () => {
    const c2 = new AdvertChecker(cfg({ auth: { type: 'PASS', pass: 's3cret' } }));
    for (const b of capture('v2pass')) expect(c2.check(decode(b))).toBeNull();
    const ah = new AdvertChecker(cfg({ vrid: 52, auth: { type: 'AH', pass: 's3cret' } }));
    for (const b of capture('v2ah')) expect(ah.check(decode(b))).toBeNull();
    const v3 = new AdvertChecker(cfg({ version: 3, vrid: 53, advertIntCs: 10 }));
    for (const b of capture('v3')) expect(v3.check(decode(b))).toBeNull();
    expect(v3.accepted).toBe(capture('v3').length);
  });

  it('reject a wrong VRID, password, AH key, replayed AH, TTL < 255, a source outside the subnet, an interval mismatch', () => {
    const pass = capture('v2pass')[0]!;
    const cases: [Partial<CheckConfig>, Buffer, string][] = [
      [{ vrid: 99, auth: { type: 'PASS', pass: 's3cret' } }, pass, 'vrid'],
      [{ auth: { type: 'PASS', pass: 'other' } }, pass, 'auth'],
      [{ auth: null }, pass, 'auth-type'],
      [{ auth: { type: 'AH', pass: 's3cret' } }, pass, 'auth-type'],
      [{ vrid: 52, auth: { type: 'AH', pass: 'other' } }, capture('v2ah')[0]!, 'auth'],
      [{ auth: { type: 'PASS', pass: 's3cret' }, subnet: { address: ip('10.99.0.0'), prefix: 24 } }, pass, 'source-subnet'],
      [{ auth: { type: 'PASS', pass: 's3cret' }, advertIntCs: 200 }, pass, 'interval'],
      [{ auth: { type: 'PASS', pass: 's3cret' }, self: SRC }, pass, 'own-address'],
      [{ auth: { type: 'PASS', pass: 's3cret' }, vipCount: 1 }, pass, 'address-count'],
      [{ version: 3, vrid: 53, advertIntCs: 10, unicastPeers: [ip('10.77.0.9')] }, capture('v3')[0]!, 'unicast-peer'],
      [{ vrid: 51 }, capture('v3')[0]!, 'vrid'],
      [{ vrid: 53, version: 2 }, capture('v3')[0]!, 'version'],
    ];
    for (const [over, b, want] of cases) {
      const c = new AdvertChecker(cfg(over));
      expect(c.check(decode(b)), want).toBe(want);
      expect(c.counters()[want]).toBe(1);
      expect(c.accepted).toBe(0);
    }
    const ttl = Buffer.from(pass);
    ttl[8] = 254;
    const c = new AdvertChecker(cfg({ auth: { type: 'PASS', pass: 's3cret' } }));
    expect(c.check(decode(ttl))).toBe('ttl');
    const ah = new AdvertChecker(cfg({ vrid: 52, auth: { type: 'AH', pass: 's3cret' } }));
    const first = decode(capture('v2ah')[1]!);
    expect(ah.check(first)).toBeNull();
    expect(ah.check(first)).toBe('ah-seq'); // a replay
    expect(ah.check(decode(capture('v2ah')[0]!))).toBe('ah-seq');
    const bad = Buffer.from(capture('v3')[0]!);
    bad[bad.length - 1] ^= 1;
    const v3 = new AdvertChecker(cfg({ version: 3, vrid: 53, advertIntCs: 10 }));
    expect(v3.check(decode(bad))).toBe('checksum');
  });
});
