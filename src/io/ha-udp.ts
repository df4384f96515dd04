/**
 * HaTransport over UDP, as heartbeat's media: `ucast IF ADDR` sends to ADDR:udpport (a destination
 * that is one of this host's own addresses is skipped, so one ha.cf can list both nodes), `bcast IF`
 * to IF's broadcast address, `mcast IF GROUP PORT TTL LOOP` to the group. Datagrams whose source is
 * one of this host's addresses (our own broadcasts coming back) are not delivered.
 *
 * Each ucast peer is sent to from its own CONNECTED socket (ephemeral source port; it receives
 * nothing): Linux reports an ICMP port unreachable for a connected socket as ECONNREFUSED (on the
 * next send or receive), which is surfaced as onRefused(peer) — the peer's host is up but nothing
 * listens on the heartbeat port. Broadcast and multicast cannot tell, and never report it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { DsrlbError } from '../errors/index.ts';
import type { HaMedium } from '../config/index.ts';
import { ipToString, parseIPv4, prefixMask } from '../model/index.ts';
import type { HaDatagramSource, HaTransport } from '../ports/index.ts';

export interface HaUdpOptions {
  udpport: number;
  media: readonly HaMedium[];
  /** This host's IPv4 addresses (u32). */
  localAddrs: readonly number[];
}

function ifaceAddr(iface: string): { addr: string; bcast: string } {
  const a = networkInterfaces()[iface]?.find((x) => x.family === 'IPv4');
  if (!a) throw new DsrlbError('E_HA_IFACE', `interface ${iface} has no IPv4 address (heartbeat medium)`);
  const ip = parseIPv4(a.address)!;
  const len = Number(a.cidr?.split('/')[1] ?? 32);
  return { addr: a.address, bcast: ipToString((ip | ~prefixMask(len)) >>> 0) };
}

function bind(sock: Socket, port: number, addr?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', (e) => reject(new DsrlbError('E_HA_BIND', `cannot bind UDP ${addr ?? '0.0.0.0'}:${port}: ${(e as Error).message}`)));
    sock.bind({ port, address: addr, exclusive: true }, () => resolve());
  });
}

export async function openHaUdp(o: HaUdpOptions): Promise<HaTransport> {
  const local = new Set(o.localAddrs);
  const dests: Array<{ sock: 'main' | number; addr: string; port: number } | { sock: 'ucast'; s: Socket; addr: string }> = [];
  const main = createSocket({ type: 'udp4', reuseAddr: false });
  const socks: Socket[] = [main];
  const mcast: Socket[] = [];
  let cb: ((m: Uint8Array, from: HaDatagramSource) => void) | null = null;
  let refusedCb: ((peerAddr: string) => void) | null = null;
  const onSockErr = (addr: string) => (e: unknown) => {
    if ((e as NodeJS.ErrnoException | null)?.code === 'ECONNREFUSED') refusedCb?.(addr);
  };
  const deliver = (m: Buffer, r: { address: string; port: number }) => {
    const src = parseIPv4(r.address);
    if (src !== null && local.has(src)) return;
    cb?.(m, { addr: r.address, port: r.port });
  };
  main.on('message', deliver);
  await bind(main, o.udpport);
  main.on('error', () => {});
  for (const m of o.media) {
    if (m.kind === 'ucast') {
      if (!local.has(m.addr)) {
        const addr = ipToString(m.addr);
        const s = createSocket({ type: 'udp4' });
        socks.push(s);
        s.on('error', onSockErr(addr));
        await new Promise<void>((resolve, reject) => {
          s.once('error', (e) => reject(new DsrlbError('E_HA_BIND', `cannot connect UDP to ${addr}:${o.udpport}: ${(e as Error).message}`)));
          s.connect(o.udpport, addr, () => resolve());
        });
        dests.push({ sock: 'ucast', s, addr });
      }
    } else if (m.kind === 'bcast') {
      main.setBroadcast(true);
      dests.push({ sock: 'main', addr: ifaceAddr(m.iface).bcast, port: o.udpport });
    } else {
      const s = createSocket({ type: 'udp4', reuseAddr: true });
      s.on('message', deliver);
      await bind(s, m.port);
      s.on('error', () => {});
      const { addr } = ifaceAddr(m.iface);
      s.addMembership(ipToString(m.group), addr);
      s.setMulticastInterface(addr);
      s.setMulticastTTL(m.ttl);
      s.setMulticastLoopback(m.loop);
      dests.push({ sock: mcast.length, addr: ipToString(m.group), port: m.port });
      mcast.push(s);
      socks.push(s);
    }
  }
  if (dests.length === 0) {
    for (const s of socks) s.close();
    throw new DsrlbError('E_HA_NO_MEDIA', 'no heartbeat destination: every ucast address is this host\'s own');
  }
  return {
    send(msg) {
      for (const d of dests) {
        if (d.sock === 'ucast') {
          try {
            d.s.send(msg, onSockErr(d.addr));
          } catch {
            // closed meanwhile
          }
          continue;
        }
        const s = d.sock === 'main' ? main : mcast[d.sock]!;
        s.send(msg, d.port, d.addr, () => {});
      }
    },
    onMessage(f) {
      cb = f;
    },
    onRefused(f) {
      refusedCb = f;
    },
    async close() {
      await Promise.all(socks.map((s) => new Promise<void>((r) => {
        try {
          s.close(() => r());
        } catch {
          r();
        }
      })));
    },
  };
}
