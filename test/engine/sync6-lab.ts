/**
 * A director's data path with IPv6 services, and the IPv6 flows the connection-sync tests open and
 * move (test/engine/peer-sync6.test.ts, and the namespace test's driver, fixtures/peer-sync6-driver.ts).
 */
import { Dataplane, VerdictKind } from '../../src/dataplane/index.ts';
import { exportSyncBatch, importSyncedConns, type Director } from '../../src/engine/index.ts';
import { decodeSyncBatch, decodeSyncDatagram, encodeSyncDatagrams } from '../../src/ha/index.ts';
import { foldIPv6, ipv6ToString, macToString, parseIPv4, parseIPv6, parseMac } from '../../src/model/index.ts';
import { ethernet, ETHERTYPE_IPV6, IPPROTO_TCP, IPPROTO_UDP, ipv6, tcp6, TCP_ACK, TCP_SYN, udp6 } from '../../src/packet/index.ts';

export const SELF = parseMac('02:00:00:00:00:01')!;
const CLIENT_MAC = parseMac('02:00:00:00:00:64')!;
export const VIP6 = '2001:db8::10';
export const REALS = [{ ip: '2001:db8::7', mac: '02:d5:00:00:00:07' }, { ip: '2001:db8::8', mac: '02:d5:00:00:00:08' }, { ip: '2001:db8::9', mac: '02:d5:00:00:00:09' }];

/** A director with an IPv6 web service (scheduler `sched`), a DNS service, and an IPv4 service beside them. */
export function director(sched: 'mh' | 'rr' = 'mh', sloppyTcp = true): Dataplane {
  const dp = new Dataplane({ selfMac: SELF, connCapacity: 8192, conn6Capacity: 8192, sysctls: { sloppyTcp } });
  const web = dp.services.addService6({ proto: 'tcp', vip6: parseIPv6(VIP6)!, port: 80, scheduler: sched });
  const dns = dp.services.addService6({ proto: 'udp', vip6: parseIPv6(VIP6)!, port: 53, scheduler: 'rr' });
  const web4 = dp.services.addService({ proto: 'tcp', vip: parseIPv4('192.168.0.10')!, port: 80, scheduler: 'rr' });
  REALS.forEach((r, i) => {
    dp.services.setNeighbour6(parseIPv6(r.ip)!, parseMac(r.mac)!);
    dp.services.addDest6(web, { addr6: parseIPv6(r.ip)!, port: 80, weight: 1 });
    dp.services.addDest6(dns, { addr6: parseIPv6(r.ip)!, port: 53, weight: 1 });
    dp.services.setNeighbour(parseIPv4(`192.168.0.${7 + i}`)!, parseMac(r.mac)!);
    dp.services.addDest(web4, { addr: parseIPv4(`192.168.0.${7 + i}`)!, port: 80, weight: 1 });
  });
  dp.refreshVips();
  return dp;
}

export const web = (dp: Dataplane) => dp.services.find6(6, parseIPv6(VIP6)!, 80)!;
const real = (dp: Dataplane, addr: string) => web(dp).dests.find((d) => foldIPv6(parseIPv6(addr)!) === d.addr)!;
export const setWeight = (dp: Dataplane, addr: string, weight: number) => dp.services.editDest(web(dp), real(dp, addr), { weight });

/** Client i's address, canonical text (as the sync records carry it). */
export const client = (i: number) => ipv6ToString(parseIPv6(`2001:db8:1:${(i >> 16).toString(16)}::${(i & 0xffff).toString(16)}`)!);
function eth(packet: Uint8Array): Uint8Array {
  return ethernet(SELF, CLIENT_MAC, ETHERTYPE_IPV6, packet);
}
export const seg = (src: string, sport: number, flags: number) => eth(ipv6({ src, dst: VIP6, next: IPPROTO_TCP, payload: tcp6({ src, dst: VIP6, sport, dport: 80, flags }) }));
export const frame = (i: number, flags: number) => seg(client(i), 20000 + (i % 40000), flags);
export const dns = (src: string, sport: number) => eth(ipv6({ src, dst: VIP6, next: IPPROTO_UDP, payload: udp6({ src, dst: VIP6, sport, dport: 53, payload: 'q' }) }));

/** The real's MAC a frame went to, or null (not forwarded). */
export function send(dp: Dataplane, f: Uint8Array, now: number): string | null {
  const v = dp.process(f, f.length, now);
  return v.kind === VerdictKind.Forward ? macToString(v.frame!, 0) : null;
}
/** Opens flows 0..n-1 through dp (SYN, ACK); returns each one's real MAC. */
export function open(dp: Dataplane, n: number, now: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(send(dp, frame(i, TCP_SYN), now)!);
    send(dp, frame(i, TCP_ACK), now);
  }
  return out;
}
/** The flows' next segments arrive at `to`: how many lost their real (broken) or were not forwarded (dropped). */
export function moved(to: Dataplane, reals: string[], now: number): { broken: number; dropped: number } {
  let broken = 0, dropped = 0;
  reals.forEach((mac, i) => {
    const got = send(to, frame(i, TCP_ACK), now);
    if (got === null) dropped++;
    else if (got !== mac) broken++;
  });
  return { broken, dropped };
}

/** A Director whose packet path is `dp`, for the sync requests only (the packet process answers them the same way). */
export function directorOf(dp: Dataplane, clock: { t: number }): Pick<Director, 'request'> {
  return {
    request: async (op) => {
      if (op.op === 'syncExport') return { sync: exportSyncBatch(dp, clock.t) } as never;
      if (op.op === 'syncImport') {
        importSyncedConns(dp, op.conns, clock.t);
        return undefined;
      }
      throw new Error(`unexpected ${op.op}`);
    },
  };
}

/** Sync from `a` to `b` as the UDP transport carries it: export, datagrams, decode, import (either family). */
export function syncOver(a: Dataplane, b: Dataplane, now: number) {
  const conns = decodeSyncBatch(exportSyncBatch(a, now), Infinity)!;
  const received = encodeSyncDatagrams(conns).flatMap((d) => {
    const r = decodeSyncDatagram(d);
    if (!r.ok) throw new Error(r.why);
    return r.conns;
  });
  return importSyncedConns(b, received, now);
}
