/**
 * The connection rows of a snapshot (`ipvsadm -L -c`): the IPv4 table's, then the IPv6 table's with
 * their full addresses, read from the table's side array (the records hold only the folds).
 */
import { ConnTable } from '../conn/index.ts';
import { protoName, type ServiceTable } from '../dataplane/index.ts';
import { ipv6ToString } from '../model/index.ts';
import type { ConnSnapshot } from './protocol.ts';

/** Live entries of `v4` and of `v6` (null: no IPv6 table), as of `now`. */
export function listConns(v4: ConnTable, v6: ConnTable | null, t: ServiceTable, now: number): ConnSnapshot[] {
  const list: ConnSnapshot[] = [];
  v4.forEach((e) => {
    const d = t.destsById[e.destId];
    list.push({
      proto: protoName(e.proto), caddr: e.caddr, cport: e.cport, vaddr: e.vaddr, vport: e.vport,
      daddr: d?.addr ?? 0, dport: d?.port ?? 0, state: ConnTable.stateName(e.state),
      expiresInMs: Math.max(0, e.expiresAt - now), template: e.isTemplate,
    });
  }, now);
  if (v6 === null) return list;
  const key = new Int32Array(8);
  const bytes = new Uint8Array(16);
  // key6 gives the client (words 0-3) and virtual address (4-7) as big-endian 32-bit words.
  const text = (from: number): string => {
    for (let i = 0; i < 4; i++) {
      const w = key[from + i]!;
      bytes[4 * i] = w >>> 24;
      bytes[4 * i + 1] = (w >>> 16) & 0xff;
      bytes[4 * i + 2] = (w >>> 8) & 0xff;
      bytes[4 * i + 3] = w & 0xff;
    }
    return ipv6ToString(bytes);
  };
  v6.forEach((e) => {
    v6.key6(e.handle, key);
    const d = t.destsById[e.destId];
    list.push({
      proto: protoName(e.proto), caddr: e.caddr, cport: e.cport, vaddr: e.vaddr, vport: e.vport,
      daddr: d?.addr ?? 0, dport: d?.port ?? 0, state: ConnTable.stateName(e.state),
      expiresInMs: Math.max(0, e.expiresAt - now), template: e.isTemplate,
      caddr6: text(0), vaddr6: text(4), daddr6: d?.addr6 !== undefined ? ipv6ToString(d.addr6) : '::',
    });
  }, now);
  return list;
}
