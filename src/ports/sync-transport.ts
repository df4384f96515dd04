/** The medium of connection sync among active directors (implemented over UDP in src/io/sync-udp.ts). */
import type { HaDatagramSource } from './ha-transport.ts';

export interface SyncTransport {
  /** Sends one datagram to every peer. */
  send(datagram: Uint8Array): void;
  /** Every datagram that arrived from a configured peer (others are refused and counted by the transport). */
  onDatagram(cb: (datagram: Uint8Array, from: HaDatagramSource) => void): void;
  close(): Promise<void>;
}
