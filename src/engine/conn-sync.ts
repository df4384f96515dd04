/**
 * Connection sync, table side: the connections a standby receives from the active director are
 * entered in its own table (packet process) as if their packets had been seen — a TCP connection
 * is created and fed an ACK (ESTABLISHED), a SYN (SYN_RECV) or ACK+FIN (FIN_WAIT); a UDP one
 * re-armed — so the real's counters and the timers are the table's own — and marked as known from
 * sync only (ConnTable.markSynced) until a packet of it passes here. A flow whose service or real is
 * unknown here is left alone, and so is a flow this director has forwarded itself; one that is only
 * known from sync is re-armed by each record that names the same real (the sender still forwards
 * it), as IPVS's backup refreshes its synced connections.
 *
 * Export sends the flows this director forwards, never the ones it only heard of: between N active
 * directors (docs/scale-out.md) each tells the others about its own flows, and a flow that ended
 * is not kept alive by the others echoing it back.
 *
 * IPv6 flows (records with `v6`) go the same way through the IPv6 table (Dataplane.conns6): the
 * service is found by its full VIP6, the real by its full address, and the flow by both full
 * addresses, so two clients whose addresses fold alike stay two flows.
 */
import type { ConnTable } from '../conn/index.ts';
import type { Dataplane } from '../dataplane/index.ts';
import { encodeSyncBatch, type SyncConn, type SyncState } from '../ha/index.ts';
import { EXPORTED, exportConns6, findDest6 } from './conn-sync6.ts';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

export interface ConnImportResult {
  imported: number;
  /** Already known from sync, same real: timer re-armed. */
  refreshed: number;
  present: number;
  unknown: number;
  full: number;
}

export function importSyncedConns(dp: Dataplane, conns: readonly SyncConn[], now: number): ConnImportResult {
  const r: ConnImportResult = { imported: 0, refreshed: 0, present: 0, unknown: 0, full: 0 };
  const t = dp.services;
  const key = new Int32Array(8);
  for (const c of conns) {
    const proto = c.proto === 'tcp' ? 6 : 17;
    let table: ConnTable;
    let destId: number;
    let known: number;
    if (c.v6) {
      destId = findDest6(dp, proto, c, key);
      if (destId < 0) {
        r.unknown++;
        continue;
      }
      table = dp.conns6;
      known = table.lookup6(proto, key, c.cport, c.vport, now);
    } else {
      const svc = t.find(proto, c.vaddr, c.vport);
      const d = svc ? t.findDest(svc, c.daddr, c.dport) : undefined;
      if (!svc || !d) {
        r.unknown++;
        continue;
      }
      table = dp.conns;
      destId = d.id;
      known = table.lookup(proto, c.caddr, c.cport, c.vaddr, c.vport, now);
    }
    if (known >= 0) {
      if (table.isSynced(known) && table.destId(known) === destId) {
        apply(table, known, proto, c.state, now);
        r.refreshed++;
      } else r.present++;
      continue;
    }
    const h = c.v6
      ? table.create6(proto, key, c.cport, c.vport, destId, now)
      : table.create(proto, c.caddr, c.cport, c.vaddr, c.vport, destId, now);
    if (h < 0) {
      r.full++;
      continue;
    }
    apply(table, h, proto, c.state, now);
    r.imported++;
  }
  return r;
}

/** Feeds connection h what its sync state implies (TCP: the segment that leads there), then marks it synced. */
function apply(conns: ConnTable, h: number, proto: number, state: SyncState, now: number): void {
  if (proto === 17) conns.udpInput(h, now);
  else if (state === 'SYN_RECV') conns.tcpInput(h, SYN, now);
  else {
    conns.tcpInput(h, ACK, now);
    if (state === 'FIN_WAIT') conns.tcpInput(h, ACK | FIN, now);
  }
  conns.markSynced(h);
}


/**
 * The sending side: every live SYN_RECV, ESTABLISHED and UDP connection of the tables (IPv4, then
 * IPv6) that this director forwards (not templates, not the closing states, not those known from
 * sync only), encoded as sync records. One walk of each table, in the packet process.
 */
export function exportSyncBatch(dp: Dataplane, now: number): string {
  const out: SyncConn[] = [];
  const byId = dp.services.destsById;
  dp.conns.forEach((e) => {
    if (e.isTemplate || e.synced) return;
    const state = EXPORTED.get(e.state);
    const d = byId[e.destId];
    if (state === undefined || d === undefined) return;
    out.push({ proto: e.proto === 6 ? 'tcp' : 'udp', caddr: e.caddr >>> 0, cport: e.cport, vaddr: e.vaddr >>> 0, vport: e.vport, daddr: d.addr >>> 0, dport: d.port, state });
  }, now);
  exportConns6(dp, now, out);
  return encodeSyncBatch(out);
}
