/** Shared test helpers for the ARP tests: hex fixtures and the addresses of the test segment. */
import { parseIPv4, parseMac } from '../../src/model/index.ts';

/** Bytes from a hex string; spaces, newlines and `|` separators are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex fixture: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The same hex, normalised (for expected values written with separators). */
export function norm(s: string): string {
  return toHex(hex(s));
}

/** `n` zero bytes of padding, as hex. */
export const pad = (n: number): string => '00'.repeat(n);

export function ip(s: string): number {
  const v = parseIPv4(s);
  if (v === null) throw new Error(`bad IP ${s}`);
  return v;
}

export function mac(s: string): Uint8Array {
  const v = parseMac(s);
  if (v === null) throw new Error(`bad MAC ${s}`);
  return v;
}

// The test segment: a director, a client, two real servers, one VIP.
export const DIR_MAC = mac('02:00:00:00:00:01');
export const CLIENT_MAC = mac('02:00:00:00:00:0a');
export const R1_MAC = mac('02:00:00:00:00:21');
export const R1_NEW_MAC = mac('02:00:00:00:00:31');
export const R2_MAC = mac('02:00:00:00:00:22');
export const OTHER_MAC = mac('02:00:00:00:00:99');
export const DIR_IP = ip('10.0.0.1');
export const CLIENT_IP = ip('10.0.0.10');
export const R1_IP = ip('10.0.0.21');
export const R2_IP = ip('10.0.0.22');
export const VIP = ip('10.0.0.100');
export const VIP2 = ip('10.0.0.101');
