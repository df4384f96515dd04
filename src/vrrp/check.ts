/**
 * The receive checks of one VRRP router (RFC 3768 7.1 / RFC 5798 7.1, and what keepalived 2.2.7 adds:
 * AH ICV, SPI and sequence numbers, VRRPv2 interval match, unicast peers), each rejection counted by
 * its reason. A packet that passes is handed to the state machine; a rejected one never is, so a
 * forged or flooded advert cannot cause a takeover. Pure.
 */
import { authKey, VRRP_TTL, type VrrpPacket } from './codec.ts';

export type RejectReason =
  | 'ttl' | 'version' | 'vrid' | 'checksum' | 'auth-type' | 'auth' | 'ah-spi' | 'ah-seq' | 'interval'
  | 'source-subnet' | 'unicast-peer' | 'own-address' | 'address-count' | 'decode';

export const REJECT_REASONS: readonly RejectReason[] = [
  'ttl', 'version', 'vrid', 'checksum', 'auth-type', 'auth', 'ah-spi', 'ah-seq', 'interval', 'source-subnet',
  'unicast-peer', 'own-address', 'address-count', 'decode',
];

export interface CheckConfig {
  version: 2 | 3;
  vrid: number;
  /** VRRPv2: the configured interval must match (keepalived drops otherwise). */
  advertIntCs: number;
  auth: { type: 'PASS' | 'AH'; pass: string } | null;
  /** This router's address on the interface and the interface's subnet (address, prefix length). */
  self: number;
  subnet: { address: number; prefix: number };
  /** When not empty: adverts are accepted from these addresses only (unicast_peer). */
  unicastPeers: readonly number[];
  /** The VIP count the instance has; a mismatch is counted and, as in keepalived, rejected. */
  vipCount: number;
}

export class AdvertChecker {
  readonly rejected = new Map<RejectReason, number>();
  accepted = 0;
  /** The highest AH sequence number seen (keepalived's replay protection). */
  private ahSeq = 0;
  private readonly key: Buffer | null;

  constructor(private readonly cfg: CheckConfig) {
    this.key = cfg.auth ? authKey(cfg.auth.pass) : null;
  }

  private reject(r: RejectReason): RejectReason {
    this.rejected.set(r, (this.rejected.get(r) ?? 0) + 1);
    return r;
  }

  /** Counts a packet that did not even decode. */
  decodeFailed(): void {
    this.reject('decode');
  }

  /** null: accepted; else the reason it was rejected (already counted). */
  check(p: VrrpPacket): RejectReason | null {
    const c = this.cfg;
    const a = p.advert;
    if (a.vrid !== c.vrid) return this.reject('vrid');
    if (p.src === c.self) return this.reject('own-address');
    if (c.unicastPeers.length > 0) {
      if (!c.unicastPeers.includes(p.src)) return this.reject('unicast-peer');
    } else if (p.ttl !== VRRP_TTL) return this.reject('ttl');
    const mask = c.subnet.prefix === 0 ? 0 : (0xffffffff << (32 - c.subnet.prefix)) >>> 0;
    if (c.unicastPeers.length === 0 && ((p.src & mask) >>> 0) !== ((c.subnet.address & mask) >>> 0)) return this.reject('source-subnet');
    if (a.version !== c.version) return this.reject('version');
    if (!p.checksumOk) return this.reject('checksum');
    if (c.version === 2) {
      const want = c.auth?.type === 'AH' ? 'ah' : c.auth?.type === 'PASS' ? 'pass' : 'none';
      if (a.authType !== want || (want === 'ah') !== (p.ah !== null)) return this.reject('auth-type');
      if (want === 'pass' && !a.authData.equals(this.key!)) return this.reject('auth');
      if (want === 'ah') {
        if (!p.ah!.icvOk(this.key!)) return this.reject('auth');
        if (p.ah!.spi !== p.src) return this.reject('ah-spi');
        if (p.ah!.seq <= this.ahSeq) return this.reject('ah-seq');
        this.ahSeq = p.ah!.seq;
      }
      if (a.advertIntCs !== Math.max(100, Math.round(c.advertIntCs / 100) * 100)) return this.reject('interval');
    } else if (p.ah !== null) return this.reject('auth-type');
    if (a.addresses.length !== c.vipCount) return this.reject('address-count');
    this.accepted++;
    return null;
  }

  /** A new master may restart its AH sequence: keepalived resets the counter when it becomes master. */
  resetAhSequence(): void {
    this.ahSeq = 0;
  }

  counters(): Record<string, number> {
    return Object.fromEntries(REJECT_REASONS.map((r) => [r, this.rejected.get(r) ?? 0]));
  }
}
