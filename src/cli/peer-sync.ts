/**
 * `dsrlb run --sync-peer …`: connection sync among active directors (engine/peer-sync.ts over
 * io/sync-udp.ts), its options and its start.
 */
import { networkInterfaces } from 'node:os';
import { startPeerSync, type Director, type PeerSyncHandle, type PeerSyncStatus } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { openSyncUdp, parseSyncEndpoint, SYNC_DEFAULT_PORT, systemClock, type SyncEndpoint, type SyncUdp, type SyncUdpOptions } from '../io/index.ts';
import type { Logger } from '../ports/index.ts';

export interface SyncHandle {
  peer: PeerSyncHandle;
  udp: SyncUdp;
  options: SyncOptions;
  iface: string;
}

export type SyncOptions = SyncUdpOptions & { intervalMs: number };

/** --sync-peer/--sync-listen/--sync-interval; null without peers. */
export function parseSyncOptions(
  v: { 'sync-peer'?: string[]; 'sync-listen'?: string; 'sync-interval'?: string },
  iface: string,
  ifaceAddr: (iface: string) => string | undefined = (i) => networkInterfaces()[i]?.find((a) => a.family === 'IPv4')?.address,
): SyncOptions | null {
  const peers = (v['sync-peer'] ?? []).map((p) => parseSyncEndpoint(p, '--sync-peer'));
  if (peers.length === 0) {
    if (v['sync-listen'] !== undefined || v['sync-interval'] !== undefined) throw new DsrlbError('E_USAGE', '--sync-listen and --sync-interval need --sync-peer');
    return null;
  }
  let listen: SyncEndpoint;
  if (v['sync-listen'] !== undefined) listen = parseSyncEndpoint(v['sync-listen'], '--sync-listen');
  else {
    const a = ifaceAddr(iface);
    if (a === undefined) throw new DsrlbError('E_USAGE', `--sync-peer: ${iface} has no IPv4 address to listen on; give --sync-listen ADDR[:PORT]`);
    listen = { addr: a, port: SYNC_DEFAULT_PORT };
  }
  if (peers.some((p) => p.addr === listen.addr)) throw new DsrlbError('E_USAGE', `--sync-peer: ${listen.addr} is this director's own sync address`);
  const s = v['sync-interval'] ?? '200';
  if (!/^\d+$/.test(s) || Number(s) < 10 || Number(s) > 60_000) throw new DsrlbError('E_USAGE', `--sync-interval: ${s} is not a number of ms from 10 to 60000`);
  return { listen, peers, intervalMs: Number(s) };
}


export async function startSync(o: SyncOptions, director: Director, log: Logger, iface: string): Promise<SyncHandle> {
  const udp = await openSyncUdp(o);
  const peer = startPeerSync({ director, transport: udp, clock: systemClock, log, intervalMs: o.intervalMs });
  log.info({ listen: `${o.listen.addr}:${o.listen.port}`, peers: o.peers.map((p) => `${p.addr}:${p.port}`), intervalMs: o.intervalMs }, 'connection sync with the other directors');
  return { peer, udp, options: o, iface };
}

export type SyncStatus = PeerSyncStatus & ReturnType<SyncUdp['stats']> & { iface: string; listen: string; peers: string[]; intervalMs: number };

/** What `syncStatus` on the control socket answers: where it runs, the loop's counters and the socket's. */
export function syncStatusOf(s: SyncHandle | null): SyncStatus | null {
  if (!s) return null;
  const ep = (e: SyncEndpoint) => `${e.addr}:${e.port}`;
  return {
    iface: s.iface, listen: ep(s.options.listen), peers: s.options.peers.map(ep), intervalMs: s.options.intervalMs,
    ...s.peer.status(), ...s.udp.stats(),
  };
}

/**
 * `ipvsadm -L --daemon` for dsrlb's sync: ipvsadm's two lines (the sending side is IPVS's "master",
 * the receiving side its "backup"; both run on every director), saying unicast peers where IPVS
 * would say its multicast group. Empty without sync, as ipvsadm prints nothing without a daemon.
 */
export function formatSyncDaemons(s: Pick<SyncStatus, 'iface' | 'listen' | 'peers' | 'intervalMs'> | null): string {
  if (!s) return '';
  return `master sync daemon (mcast=${s.iface}, syncid=0, unicast to ${s.peers.join(' ')}, every ${s.intervalMs} ms)\n` +
    `backup sync daemon (mcast=${s.iface}, syncid=0, listening on ${s.listen})\n`;
}
