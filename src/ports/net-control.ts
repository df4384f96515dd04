/** What the director asks of its host's network configuration (implemented in src/io/net-control.ts). */

export interface ServiceMatch {
  proto: 'tcp' | 'udp';
  /** IPv4: the VIP. IPv6: the VIP6's fold (vip6 names it). */
  vip: number;
  port: number;
  /** An IPv6 service: its VIP6, canonical text. */
  vip6?: string;
}

export interface LocalPath {
  /** The interface local frames are sent out of (one end of a veth pair). */
  iface: string;
  /** The MAC of the other end, where this host's own stack receives them. */
  peerMac: string;
}

export interface NetControl {
  /** Keeps the host's own IP stack away from the service traffic on `iface` (nft netdev ingress drop). Idempotent. */
  installIngressDrop(iface: string, services: readonly ServiceMatch[]): Promise<void>;
  /** Removes it; no error when absent. */
  removeIngressDrop(iface: string): Promise<void>;
  /** IPv4 addresses of this host (all interfaces), u32. */
  localAddresses(): number[];
  /** The first IPv4 address on `iface`, or null. */
  addressOn(iface: string): number | null;
  /** IPv6 addresses of this host (all interfaces, no link-local), canonical text. Absent: none. */
  localAddresses6?(): string[];
  /** The IPv6 address our Neighbor Solicitations on `iface` come from: a global one, else the link-local; null when IPv6 is off there. */
  addressOn6?(iface: string): string | null;
  /** net.ipv6.conf.IFACE.forwarding: the Router flag Linux puts in its Neighbor Advertisements on `iface`. */
  ipv6Forwarding?(iface: string): boolean;
  /** Creates (or recreates) the veth pair through which frames for this host's own real server are delivered. */
  createLocalPath(): Promise<LocalPath>;
  /** Removes it; no error when absent. */
  removeLocalPath(): Promise<void>;
}
