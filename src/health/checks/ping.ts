/**
 * checktype=ping (and connect checks of UDP services), as ldirectord's check_ping() with Net::Ping
 * "icmp": up to `checkcount` ICMP echo requests, each given checktimeout for its reply. Node has no
 * ICMP socket, so this uses the `raw-socket` binding (needs CAP_NET_RAW), loaded on first use only.
 * One raw socket per check; replies are told apart by identifier, sequence and source address.
 */
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { internetChecksum } from '../../packet/index.ts';
import type { Checker, CheckResult, PingSpec } from '../types.ts';
import { bounded } from './bounded.ts';

/** What the checker needs of a raw ICMP socket (the `raw-socket` binding's Socket). */
export interface RawSocket {
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  send(buf: Buffer, off: number, len: number, addr: string, before: (() => void) | null, after: (e: Error | null, bytes: number) => void): void;
  close(): void;
}

interface RawModule {
  createSocket(o: { protocol: number; addressFamily?: number }): RawSocket;
  Protocol: { ICMP: number; ICMPv6: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

let rawModule: RawModule | null = null;

function loadRaw(): RawModule {
  if (!rawModule) {
    const require = createRequire(import.meta.url);
    rawModule = require('raw-socket') as RawModule;
  }
  return rawModule;
}

/** Payload bytes after the 8-byte ICMP header (56, as ping(8)). */
const PAYLOAD = 56;

/**
 * An ICMP echo request (type 8) with its checksum; for IPv6 an ICMPv6 one (type 128) whose checksum
 * the kernel fills in (a raw ICMPv6 socket always computes it: RFC 3542 3.1, it needs the pseudo-header).
 */
export function buildEchoRequest(id: number, seq: number, ipv6 = false): Buffer {
  const b = Buffer.alloc(8 + PAYLOAD);
  b[0] = ipv6 ? 128 : 8;
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  for (let i = 0; i < PAYLOAD; i++) b[8 + i] = 0x20 + (i % 64);
  if (!ipv6) b.writeUInt16BE(internetChecksum(b, 0, b.length), 2);
  return b;
}

/** Identifier and sequence of an ICMPv6 echo reply (type 129): a raw ICMPv6 socket delivers no IPv6 header. */
export function parseEchoReply6(buf: Uint8Array): { id: number; seq: number } | null {
  if (buf.length < 8 || buf[0] !== 129 || buf[1] !== 0) return null;
  return { id: (buf[4]! << 8) | buf[5]!, seq: (buf[6]! << 8) | buf[7]! };
}

const isIPv6 = (address: string) => address.includes(':');

/**
 * Identifier and sequence of an echo reply (type 0) in what an IPv4 raw socket delivers (the IP
 * header first); null for anything else.
 */
export function parseEchoReply(buf: Uint8Array): { id: number; seq: number } | null {
  if (buf.length < 20 || buf[0]! >> 4 !== 4) return null;
  const ihl = (buf[0]! & 0x0f) * 4;
  if (ihl < 20 || buf.length < ihl + 8) return null;
  if (buf[ihl] !== 0 || buf[ihl + 1] !== 0) return null;
  return { id: (buf[ihl + 4]! << 8) | buf[ihl + 5]!, seq: (buf[ihl + 6]! << 8) | buf[ihl + 7]! };
}

function attempt(sock: RawSocket, listeners: Set<(b: Buffer, s: string) => void>, spec: PingSpec, id: number, seq: number, signal: AbortSignal): Promise<CheckResult> {
  return bounded(spec.timeoutMs, signal, `ping ${spec.address}`, (done, onCleanup) => {
    const sent = performance.now();
    const v6 = isIPv6(spec.address);
    const onMessage = (buf: Buffer, source: string): void => {
      if (source !== spec.address) return;
      const r = v6 ? parseEchoReply6(buf) : parseEchoReply(buf);
      if (r && r.id === id && r.seq === seq) done({ ok: true, detail: `echo reply from ${source} in ${(performance.now() - sent).toFixed(1)} ms` });
    };
    listeners.add(onMessage);
    onCleanup(() => listeners.delete(onMessage));
    const req = buildEchoRequest(id, seq, v6);
    sock.send(req, 0, req.length, spec.address, null, (e) => {
      if (e) done({ ok: false, detail: `ping ${spec.address}: ${e.message}` });
    });
  });
}

/** The raw ICMP (or ICMPv6) socket of the `raw-socket` binding (throws without CAP_NET_RAW). */
export function openRawIcmpSocket(ipv6 = false): RawSocket {
  const raw = loadRaw();
  return ipv6
    ? raw.createSocket({ protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 })
    : raw.createSocket({ protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 });
}

/** A ping checker over sockets from `open` (tests pass a fake socket); `open(true)` for an IPv6 real. */
export function pingChecker(open: (ipv6: boolean) => RawSocket): Checker<PingSpec> {
  return async (spec, signal) => {
    let sock: RawSocket;
    try {
      sock = open(isIPv6(spec.address));
    } catch (e) {
      return { ok: false, detail: `ping needs a raw ICMP socket (root or CAP_NET_RAW): ${(e as Error).message}` };
    }
    const listeners = new Set<(b: Buffer, s: string) => void>();
    let sockError: Error | null = null;
    sock.on('message', (buf, source) => { for (const l of listeners) l(buf, source); });
    sock.on('error', (e) => { sockError = e; });
    try {
      const id = randomInt(0x10000);
      const count = Math.max(1, spec.count);
      let last: CheckResult = { ok: false, detail: 'no attempt' };
      for (let i = 0; i < count; i++) {
        last = await attempt(sock, listeners, spec, id, i + 1, signal);
        if (last.ok || signal.aborted) break;
        if (sockError) return { ok: false, detail: `ping ${spec.address}: ${(sockError as Error).message}` };
      }
      if (last.ok || count === 1) return last;
      return { ok: false, detail: `${last.detail} (${count} attempts)` };
    } finally {
      try { sock.close(); } catch { /* closed */ }
    }
  };
}

export const pingCheck: Checker<PingSpec> = pingChecker(openRawIcmpSocket);
