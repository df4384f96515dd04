/**
 * Connection sync among N active directors (ECMP mode, docs/scale-out.md): every intervalMs each
 * director sends the flows it forwards that are new or changed since its last round (all of them
 * again every fullEveryMs, so a director that restarted, or a lost datagram, is caught up), to every
 * peer; whatever arrives goes into its own table (conn-sync.ts: marked "synced", re-armed by later
 * records, never sent on). A flow that the router moves to another director then keeps its real
 * even when the two directors' views of the reals disagree (one saw a real go down, a reload was
 * applied on one first): the receiving director finds it in its table before its scheduler is asked.
 *
 * The transport (a UDP socket: io/sync-udp.ts) and the clock are ports; this file decides what to
 * send, encodes and decodes the datagrams (ha/sync.ts) and counts.
 */
import { decodeSyncDatagram, encodeSyncDatagrams, syncDelta, decodeSyncBatch, type SyncState } from '../ha/index.ts';
import type { Clock, Logger, SyncTransport } from '../ports/index.ts';
import type { Director } from './director.ts';

export interface PeerSyncOptions {
  director: Pick<Director, 'request'>;
  transport: SyncTransport;
  clock: Clock;
  log: Logger;
  /** How often the new and changed flows go out (ms). */
  intervalMs: number;
  /** Everything is sent again this often (ms; default 5000). */
  fullEveryMs?: number;
}

export interface PeerSyncStatus {
  rounds: number;
  recordsSent: number;
  recordsReceived: number;
  datagramsSent: number;
  datagramsReceived: number;
  /** Datagrams from a peer that did not decode (wrong magic, length or record). */
  datagramsBad: number;
  /** Import requests the packet path refused or did not answer. */
  importErrors: number;
}

export interface PeerSyncHandle {
  stop(): void;
  status(): PeerSyncStatus;
  /** One round now (the timer calls it too); resolves when its records went out. */
  round(): Promise<void>;
}

export function startPeerSync(o: PeerSyncOptions): PeerSyncHandle {
  const fullEveryMs = o.fullEveryMs ?? 5000;
  const sent = new Map<string, SyncState>();
  const st: PeerSyncStatus = { rounds: 0, recordsSent: 0, recordsReceived: 0, datagramsSent: 0, datagramsReceived: 0, datagramsBad: 0, importErrors: 0 };
  let lastFull = -Infinity;
  let busy: Promise<void> | null = null;
  let stopped = false;

  o.transport.onDatagram((d, from) => {
    if (stopped) return;
    st.datagramsReceived++;
    const r = decodeSyncDatagram(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    if (!r.ok) {
      if (st.datagramsBad++ === 0) o.log.warn({ from: from.addr, why: r.why }, 'connection sync: a datagram from a peer did not decode (counted; logged once)');
      return;
    }
    st.recordsReceived += r.conns.length;
    o.director.request({ op: 'syncImport', conns: r.conns }).catch((e: Error) => {
      st.importErrors++;
      o.log.warn({ err: e.message, from: from.addr, records: r.conns.length }, 'connection sync: import failed');
    });
  });

  const once = async (): Promise<void> => {
    const now = o.clock.now();
    if (now - lastFull >= fullEveryMs) {
      lastFull = now;
      sent.clear();
    }
    const snap = await o.director.request({ op: 'syncExport' }, 2000);
    const conns = decodeSyncBatch(snap?.sync ?? '', Infinity) ?? [];
    const todo = syncDelta(conns, sent).flat();
    st.rounds++;
    if (todo.length === 0 || stopped) return;
    for (const d of encodeSyncDatagrams(todo)) {
      o.transport.send(d);
      st.datagramsSent++;
    }
    st.recordsSent += todo.length;
  };
  const round = (): Promise<void> => {
    // One round at a time: a slow packet path skips ticks rather than piling requests up.
    busy ??= once().catch((e: Error) => {
      o.log.warn({ err: e.message }, 'connection sync: export failed');
    }).finally(() => {
      busy = null;
    });
    return busy;
  };
  const cancel = o.clock.every(o.intervalMs, () => void round());
  return {
    stop() {
      stopped = true;
      cancel();
    },
    status: () => ({ ...st }),
    round,
  };
}
