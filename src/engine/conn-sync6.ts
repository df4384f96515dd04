/**
 * The IPv6 side of connection sync (conn-sync.ts): records with full addresses to and from the
 * IPv6 connection table (Dataplane.conns6), whose entries hold the folds and, beside them, the
 * 128-bit client and virtual addresses (conn/store.ts).
 */
import { loadKey6 } from '../conn/index.ts';
import type { Dataplane } from '../dataplane/index.ts';
import type { SyncConn, SyncState } from '../ha/index.ts';
import { ipv6Equals, ipv6ToString, parseIPv6 } from '../model/index.ts';

/** ConnState numbers (conn/types.ts) of the states worth synchronising (both tables). */
export const EXPORTED: ReadonlyMap<number, SyncState> = new Map([[3, 'SYN_RECV'], [1, 'ESTABLISHED'], [11, 'UDP']]);

/**
 * The id of the real an IPv6 record names (service by its full VIP6, real by its full address and
 * port), with the flow's lookup key (client and virtual address, loadKey6's words) written to
 * `key`; -1 when this director has no such service or real, or an address does not parse.
 */
export function findDest6(dp: Dataplane, proto: number, c: SyncConn, key: Int32Array): number {
  const v6 = c.v6!;
  const client = parseIPv6(v6.caddr);
  const vip = parseIPv6(v6.vaddr);
  const real = parseIPv6(v6.daddr);
  if (client === null || vip === null || real === null) return -1;
  const svc = dp.services.find6(proto, vip, c.vport);
  const d = svc?.dests.find((x) => x.addr6 !== undefined && x.port === c.dport && ipv6Equals(x.addr6, 0, real, 0));
  if (!d) return -1;
  const both = new Uint8Array(32);
  both.set(client, 0);
  both.set(vip, 16);
  loadKey6(both, 0, 16, key);
  return d.id;
}

/**
 * Appends the IPv6 connections to export to `out` (same states and exclusions as the IPv4 ones).
 * Without an IPv6 service, or before the IPv6 table exists, there is nothing to send.
 */
export function exportConns6(dp: Dataplane, now: number, out: SyncConn[]): void {
  // No IPv6 service: nothing to send. No table yet (no IPv6 frame, no import): nothing either, and
  // it is not built for nothing.
  const table = dp.services.services6.length === 0 ? null : dp.conns6IfBuilt;
  if (table === null || table.size === 0) return;
  const byId = dp.services.destsById;
  const words = new Int32Array(8);
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  table.forEach((e) => {
    if (e.isTemplate || e.synced) return;
    const state = EXPORTED.get(e.state);
    const d = byId[e.destId];
    if (state === undefined || d?.addr6 === undefined) return;
    table.key6(e.handle, words);
    for (let i = 0; i < 8; i++) view.setInt32(4 * i, words[i]!);
    out.push({
      proto: e.proto === 6 ? 'tcp' : 'udp', caddr: e.caddr >>> 0, cport: e.cport, vaddr: e.vaddr >>> 0, vport: e.vport, daddr: d.addr >>> 0, dport: d.port, state,
      v6: { caddr: ipv6ToString(bytes, 0), vaddr: ipv6ToString(bytes, 16), daddr: ipv6ToString(d.addr6) },
    });
  }, now);
}
