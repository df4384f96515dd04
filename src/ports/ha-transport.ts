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
  close(): Promise<void>;
}
