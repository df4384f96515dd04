/** The heartbeat medium of a failover node (implemented over UDP in src/io/ha-udp.ts). */

export interface HaDatagramSource {
  addr: string;
  port: number;
}

export interface HaTransport {
  /** Sends one message to every configured heartbeat destination (ucast peers, broadcast, group). */
  send(msg: Uint8Array): void;
  /** Every datagram received on the heartbeat port(s), as it arrived (not yet authenticated). */
  onMessage(cb: (msg: Uint8Array, from: HaDatagramSource) => void): void;
  /**
   * Heartbeats to a unicast peer were refused (ICMP port unreachable: the host is up, nothing
   * listens on the heartbeat port). Optional: media that cannot tell (broadcast, multicast, other
   * transports) never report it, and the node then relies on deadtime alone. Unauthenticated
   * (an ICMP can be forged): a hint, never acted on while the peer's heartbeats keep arriving.
   */
  onRefused?(cb: (peerAddr: string) => void): void;
  close(): Promise<void>;
}
