/**
 * What the control side and the packet path tell each other (structured-clone messages over the
 * worker's IPC channel). Addresses travel as u32 numbers, MACs as strings.
 */
import type { ConnTimeouts } from '../conn/index.ts';
import type { L4Proto, RealSpec, RealSpec6, ServiceSpec, ServiceSpec6, VsSysctls } from '../dataplane/index.ts';
import type { DirectorCounters, TableConn, TableReal, TableService } from '../obs/index.ts';
import type { SyncConn } from '../ha/index.ts';

export interface ServiceWithReals {
  spec: ServiceSpec;
  /** In the order they are added (the kernel keeps them newest first). */
  reals: RealSpec[];
}

/** An IPv6 service (virtual6=) and its reals, as the data path's addService6/addDest6 take them. */
export interface Service6WithReals {
  spec: ServiceSpec6;
  /** In the order they are added. */
  reals: RealSpec6[];
}

export interface PacketPathInit {
  services: ServiceWithReals[];
  /** The IPv6 services (docs/ipv6.md); absent or empty: IPv6 frames pass to the host as before. */
  services6?: Service6WithReals[];
  /** This host's IPv6 addresses (canonical text): an IPv6 real with one of them is served locally. */
  localAddrs6?: string[];
  /**
   * Source address of our Neighbor Solicitations for the IPv6 reals: this host's IPv6 address on
   * the segment (a global one if it has one, else its link-local). Absent: no solicitations.
   */
  ndpSenderIp6?: string;
  /** The Router flag of our Neighbor Advertisements: the interface's net.ipv6.conf.IFACE.forwarding, as Linux sets it. */
  ndpRouter?: boolean;
  sysctls?: Partial<VsSysctls>;
  connCapacity?: number;
  timeouts?: Partial<ConnTimeouts>;
  /** Send ICMP errors about a connection on to its real (default true, as IPVS does); false only to show what breaks without it. */
  icmpForward?: boolean;
  /** This host's own addresses: a real with one of them is served locally. */
  localAddrs: number[];
  /** Where frames for the local real go (the far end of the local veth pair). */
  localPeerMac?: string;
  /** Sender IP of our ARP requests for the reals (this host's address on the segment; 0 = probe). */
  arpSenderIp: number;
  /** Gratuitous ARP for the VIPs when the path starts active (false = none). */
  garp: { count: number; intervalMs: number } | false;
  active: boolean;
  /** Answer ARP for the VIPs (default true; false behind an ECMP router, which routes the VIP to us). */
  answerArp?: boolean;
  /** Housekeeping period (ARP, expiry). Default 100 ms. */
  tickMs?: number;
  /**
   * One of N packet workers in a fan-out group (dsrlb run --workers N; absent with one worker).
   * Worker 0 alone sends gratuitous ARP and the ARP requests for the reals; every worker passes the
   * reals' ARP frames it receives to the others through the control process (ev 'arp').
   */
  worker?: { index: number; count: number };
}

export interface ServiceKeyMsg {
  proto: L4Proto;
  /** IPv4: the VIP. IPv6: the VIP6's 32-bit fold (vip6 names the service). */
  vip: number;
  port: number;
  /** An IPv6 service: its VIP6, canonical text (RFC 5952). */
  vip6?: string;
}

/**
 * An IPv6 service as the control socket carries it (JSON: the address as canonical text). The
 * packet path parses it into the ServiceSpec6 the data path takes.
 */
export interface ServiceSpec6Msg {
  proto: L4Proto;
  vip6: string;
  port: number;
  scheduler: ServiceSpec6['scheduler'];
  schedFlags?: ServiceSpec6['schedFlags'];
}

/** A real of an IPv6 service, as the control socket carries it. */
export interface RealSpec6Msg {
  addr6: string;
  port: number;
  weight: number;
  uThreshold?: number;
  lThreshold?: number;
}

export type ToPacket =
  | { op: 'snapshot'; id: number; conns?: boolean }
  | { op: 'setActive'; id: number; active: boolean }
  /** Gratuitous ARP for the VIPs again, when active (failover: split brain won). */
  | { op: 'announce'; id: number }
  /** Connection sync (standby side): enter the active director's connections in this table. */
  | { op: 'syncImport'; id: number; conns: SyncConn[] }
  /** Connection sync (active side): the answer's snapshot carries `sync`, the table's live connections. */
  | { op: 'syncExport'; id: number }
  | { op: 'addService'; id: number; spec: ServiceSpec }
  | { op: 'editService'; id: number; svc: ServiceKeyMsg; changes: Partial<ServiceSpec> }
  | { op: 'deleteService'; id: number; svc: ServiceKeyMsg }
  | { op: 'addReal'; id: number; svc: ServiceKeyMsg; real: RealSpec }
  /** ipvsadm -A -t|-u [VIP6]:PORT (editService, deleteService and zero take a key with vip6). */
  | { op: 'addService6'; id: number; spec: ServiceSpec6Msg }
  /** ipvsadm -a for an IPv6 real of an IPv6 service (svc.vip6 names it). */
  | { op: 'addReal6'; id: number; svc: ServiceKeyMsg; real: RealSpec6Msg }
  /** addr6 (canonical text) names an IPv6 real; addr is then its fold. */
  | { op: 'editReal'; id: number; svc: ServiceKeyMsg; addr: number; addr6?: string; port: number; changes: { weight?: number; uThreshold?: number; lThreshold?: number } }
  | { op: 'deleteReal'; id: number; svc: ServiceKeyMsg; addr: number; addr6?: string; port: number }
  | { op: 'flush'; id: number }
  /**
   * The web console's teaching view: copy the first frame of at most perSecond new flows a second
   * (every n-th one) to the control side, as it arrived and as it was sent (0 = off).
   */
  | { op: 'sample'; id: number; perSecond: number; everyN?: number }
  /** ipvsadm -Z: zero the counters of one service, or of all (and the totals). */
  | { op: 'zero'; id: number; svc?: ServiceKeyMsg }
  /** Fan-out: an ARP frame about a real that another worker received, fed to this worker's resolver. */
  | { op: 'arpInput'; id: number; frame: Uint8Array };

/** One worker's own packet counters (snapshot.perWorker, with --workers N > 1). */
export interface WorkerCounters {
  /** Connections this worker scheduled, and packets it forwarded (its totals, as ipvsadm --stats). */
  conns: number;
  inPkts: number;
  forwarded: number;
  local: number;
  arpReplies: number;
  connEntries: number;
  received: number;
  sent: number;
  sendErrors: number;
}

/** A real in a snapshot: the table row obs/ formats (ipvsadm, metrics), plus what the packet path knows. */
export interface RealSnapshot extends TableReal {
  mac: string | null;
  local: boolean;
  flags: number;
}

export interface ServiceSnapshot extends TableService {
  /** Kernel order (newest first). */
  reals: RealSnapshot[];
}

export type ConnSnapshot = TableConn;

/** Everything the packet path reports: the table and counters obs/ formats, and more. */
export interface PacketSnapshot extends DirectorCounters {
  services: ServiceSnapshot[];
  totals: { conns: number; inPkts: number; inBytes: number };
  /** Connection timeouts in seconds, as ipvsadm -L --timeout prints them. */
  timeouts: { tcp: number; tcpfin: number; udp: number };
  conns?: ConnSnapshot[];
  /** Answer to syncExport: SYN_RECV, ESTABLISHED and UDP connections as sync records (ha/sync.ts, base64). */
  sync?: string;
  /** With N > 1 packet workers: each worker's own counters, worker 0 first (the rest is summed). */
  perWorker?: WorkerCounters[];
}

export type FromPacket =
  | { ev: 'reply'; id: number; ok: true; snapshot?: PacketSnapshot }
  | { ev: 'reply'; id: number; ok: false; code: string; message: string }
  /** A real's MAC learnt, changed or lost; ip6 (canonical text) for an IPv6 real, ip is then its fold. */
  | { ev: 'neigh'; kind: 'resolved' | 'changed' | 'failed'; ip: number; ip6?: string; mac: string | null }
  | { ev: 'started'; services: number; reals: number; local: number }
  /** A sampled new flow's first frame (hex, at most 128 bytes each): as received, as sent on. */
  | { ev: 'sample'; inHex: string; outHex: string; local: boolean }
  /** ARP from another host claiming a VIP of ours (its sender address is the VIP); at most 1/s per VIP. */
  | { ev: 'arpVip'; ip: number; mac: string; op: 'request' | 'reply'; active: boolean; /** NDP for a VIP6 (an NA for it, an NS from it); ip is then its fold. */ ip6?: string }
  /** Fan-out: an ARP frame whose sender is a watched real, for the other workers' resolvers. */
  | { ev: 'arp'; frame: Uint8Array };
