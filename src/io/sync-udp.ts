/**
 * SyncTransport over UDP for connection sync among active directors (`dsrlb run --sync-peer`): one
 * socket bound to the listen address and port (IPVS's sync daemon uses port 8848; so does this by
 * default), sending every datagram to each peer. Like IPVS's sync there is no authentication: a
 * datagram is taken only when its source address is one of the peers (anything else is refused and
 * counted), so keep the sync on the directors' own segment, where the peers' addresses cannot be
 * forged from outside the router.
 */
import { createSocket } from 'node:dgram';
import { DsrlbError } from '../errors/index.ts';
import type { HaDatagramSource, SyncTransport } from '../ports/index.ts';

export const SYNC_DEFAULT_PORT = 8848;

export interface SyncEndpoint {
  addr: string;
  port: number;
}

export interface SyncUdpOptions {
  listen: SyncEndpoint;
  peers: readonly SyncEndpoint[];
}

export interface SyncUdp extends SyncTransport {
  /** Datagrams refused because their source is not a peer, and sends that failed. */
  stats(): { notFromPeer: number; sendErrors: number };
}

/** Parses ADDR or ADDR:PORT (IPv4 dotted quad); the port defaults to `defaultPort`. */
export function parseSyncEndpoint(s: string, what: string, defaultPort = SYNC_DEFAULT_PORT): SyncEndpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s);
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || port < 1 || port > 65535) {
    throw new DsrlbError('E_USAGE', `${what}: expected an IPv4 address, optionally :PORT (1-65535), not "${s}"`);
  }
  return { addr: m[1]!, port };
}

export async function openSyncUdp(o: SyncUdpOptions): Promise<SyncUdp> {
  const sock = createSocket({ type: 'udp4', reuseAddr: false });
  const peers = new Set(o.peers.map((p) => p.addr));
  let cb: ((d: Uint8Array, from: HaDatagramSource) => void) | null = null;
  let notFromPeer = 0;
  let sendErrors = 0;
  sock.on('message', (m, r) => {
    if (!peers.has(r.address)) {
      notFromPeer++;
      return;
    }
    cb?.(m, { addr: r.address, port: r.port });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(new DsrlbError('E_SYNC_BIND', `cannot bind the connection-sync socket to UDP ${o.listen.addr}:${o.listen.port}: ${e.message}`)));
    sock.bind({ port: o.listen.port, address: o.listen.addr, exclusive: true }, () => resolve());
  });
  // A peer that is down answers with ICMP port unreachable: a send error at worst, never a crash.
  sock.on('error', () => {
    sendErrors++;
  });
  return {
    send(d) {
      for (const p of o.peers) {
        sock.send(d, p.port, p.addr, (e) => {
          if (e) sendErrors++;
        });
      }
    },
    onDatagram(f) {
      cb = f;
    },
    stats: () => ({ notFromPeer, sendErrors }),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
