/**
 * Joins the solicited-node multicast groups of the VIP6s on the capture interface, so the
 * Neighbor Solicitations for them reach the director.
 *
 * An AF_PACKET capture sees every frame the interface receives, but a frame to a multicast group
 * may never get there: a NIC filters groups nobody joined (unless promiscuous), and a switch or a
 * Linux bridge doing MLD snooping may forward a group only to the ports that reported a listener.
 * The director does not hold its VIP6s as addresses, so its kernel joins none of their groups; if
 * another host on the segment joined the same group (any address with the same low 24 bits), a
 * snooping bridge may send the solicitations for the VIP6 there and not to us
 * (native-notes/ipv6-multicast-capture.md says what was seen, and what was not reproduced).
 * IPV6_JOIN_GROUP on an ordinary UDP socket covers both: the kernel adds the group to the
 * interface's filter and reports it by MLD, so the bridge lists our port for the group
 * (test/engine/packet-path6.ns.test.ts checks the bridge's mdb). PACKET_ADD_MEMBERSHIP would
 * program the filter only: it sends no MLD report.
 */
import dgram from 'node:dgram';
import { ipv6ToString, parseIPv6, solicitedNode } from '../model/index.ts';

/** The solicited-node groups (text) of the VIP6s, de-duplicated. */
export function solicitedNodeGroups(vip6s: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of vip6s) {
    const a = parseIPv6(v);
    if (a !== null) out.add(ipv6ToString(solicitedNode(a)));
  }
  return [...out].sort();
}

/**
 * Joins the groups on `iface` for as long as the returned close function is not called. A group
 * that cannot be joined is reported through `warn` (the director still works on segments that
 * flood multicast) instead of failing the start.
 */
export async function joinSolicitedNodeGroups(iface: string, vip6s: readonly string[], warn: (m: string) => void = () => {}): Promise<() => void> {
  const groups = solicitedNodeGroups(vip6s);
  if (groups.length === 0) return () => {};
  const sock = dgram.createSocket({ type: 'udp6', reuseAddr: true });
  sock.on('error', (e) => warn(`solicited-node groups on ${iface}: ${e.message}`));
  await new Promise<void>((resolve) => sock.bind(0, '::', () => resolve()));
  for (const g of groups) {
    try {
      sock.addMembership(g, `::%${iface}`);
    } catch (e) {
      warn(`cannot join ${g} on ${iface}: ${(e as Error).message}`);
    }
  }
  return () => {
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
}
