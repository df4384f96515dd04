/** Connection-table contract shared by conn/ (the table) and dataplane/ (its user). */

/** IPVS TCP states a DR director can reach (it sees client → server packets only), plus UDP. */
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
  /** Persistence template (ipvsadm -Lnc shows NONE / ASSURED-ish, client port 0). */
  Template = 12,
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
}
