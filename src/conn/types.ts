/** Connection-table contract shared by conn/ (the table) and dataplane/ (its user). */

/**
 * IPVS TCP states a DR director can reach (it sees client → server packets only), plus UDP and the
 * two persistence-template states. 0..10 are the kernel's IP_VS_TCP_S_* numbers.
 */
export const enum ConnState {
  None = 0,
  Established = 1,
  SynSent = 2,
  SynRecv = 3,
  FinWait = 4,
  TimeWait = 5,
  Close = 6,
  CloseWait = 7,
  LastAck = 8,
  Listen = 9,
  Synack = 10,
  /** UDP "connection" (IPVS shows it as UDP). */
  Udp = 11,
  /** Persistence template, not (yet) assured: ipvsadm -Lnc prints NONE, client port 0. */
  Template = 12,
  /**
   * Persistence template one of whose connections reached ESTABLISHED (IP_VS_CTPL_S_ASSURED):
   * ipvsadm -Lnc prints ASSURED. Only matters for deletion: a deleted connection drops its template
   * along with it only while the template is not assured.
   */
  TemplateAssured = 13,
}

/** Seconds, as ipvsadm --set and /proc/sys/net/ipv4/vs take them. Defaults = IPVS defaults. */
export interface ConnTimeouts {
  synRecv: number;      // 60
  established: number;  // 900
  finWait: number;      // 120
  close: number;        // 10
  timeWait: number;     // 120
  closeWait: number;    // 60
  lastAck: number;      // 30
  synSent: number;      // 120
  listen: number;       // 120
  synack: number;       // 120
  udp: number;          // 300
}

export interface ConnTableOptions {
  /** Hard bound on live entries (connections + templates); the oldest/expired are evicted beyond it. */
  capacity: number;
  timeouts?: Partial<ConnTimeouts>;
  /** net.ipv4.vs.sloppy_tcp: any TCP packet without RST may create a connection (default false: SYN only). */
  sloppyTcp?: boolean;
  /** net.ipv4.vs.expire_nodest_conn (default false). See ConnTable.inputCheck. */
  expireNodestConn?: boolean;
  /** net.ipv4.vs.expire_quiescent_template (default false). See ConnTable.lookupTemplate. */
  expireQuiescentTemplate?: boolean;
  /** net.ipv4.vs.conn_reuse_mode (default 1). See ConnTable.inputCheck. */
  connReuseMode?: number;
  /** Seed of the flow hash (default a fixed constant; pass a random one to resist hash flooding). */
  hashSeed?: number;
  /** How many entries an insert into a full table looks at to choose its victim (default 32). */
  evictSample?: number;
  /**
   * A table for IPv6 flows (lookup6/create6): the addresses are stored as their 32-bit folds plus
   * the full 128 bits in a side array (store.ts). Default false.
   */
  ipv6?: boolean;
}

/** What the data path does with a packet that matched an existing connection (ConnTable.inputCheck). */
export const enum ConnVerdict {
  /** Go on: apply tcpInput/udpInput and forward to destId(h). */
  Forward = 0,
  /** Drop the packet; the connection stays and its timer is NOT restarted. */
  Drop = 1,
  /** The connection is gone (or must be ignored): handle the packet as the first of a new flow. */
  NoConn = 2,
}

/** One row of an `ipvsadm -L -n -c` style listing (ConnTable.forEach reuses one such object). */
export interface ConnEntry {
  handle: number;
  proto: number;
  /** IPv4 host order, unsigned. */
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  destId: number;
  state: ConnState;
  /** Absolute time (ms, same clock as `now`) at which the entry expires. */
  expiresAt: number;
  isTemplate: boolean;
  /** Known from connection sync only: no packet of the flow has passed here since it was imported. */
  synced: boolean;
  /** Templates: connections it controls (n_control); connections: 0. */
  nControl: number;
  /** Connections: handle of the controlling template or -1; templates: -1. */
  template: number;
}
