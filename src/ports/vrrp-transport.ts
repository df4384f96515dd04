/** Where VRRP packets come and go: whole IPv4 packets (header included), as raw IP sockets see them. */
export interface VrrpTransport {
  /** Sends an IPv4 packet built by vrrp/codec.ts (TTL, source and checksums already in it) to `dst`. */
  send(packet: Buffer, dst: number): void;
  /** Every VRRP (and AH) packet received on the interface, from its IP header on. */
  onPacket(cb: (packet: Buffer) => void): void;
  close(): void;
}
