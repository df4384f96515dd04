import type { ServiceMatch } from './net-control.ts';

/** A running packet path (the worker process), as the control side sees it. */
export interface PacketPathHandle {
  readonly pid: number;
  post(msg: unknown): boolean;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called when the packet path ends without being asked to. */
  onExit(cb: (why: string) => void): void;
  stop(): Promise<void>;
}

/** Which frame I/O the packet path uses, and its knobs (`dsrlb run --io …`). */
export interface PacketIoOptions {
  /** 'ring': dsrlb's packet-ring addon (src/io/ring.ts); 'pcap': libpcap through npm cap (src/io/cap.ts). */
  backend: 'ring' | 'pcap';
  /** Ring: keep reading for up to N µs after a batch before sleeping (default 0). */
  busyPollUs?: number;
  /** Ring: RX slots (default: the buffer size / 2048). */
  ringFrames?: number;
  /** Ring: TPACKET version of the RX ring (default 2). */
  ringVersion?: 2 | 3;
  /** Ring: PACKET_QDISC_BYPASS on sends. */
  qdiscBypass?: boolean;
  /** Ring: join this PACKET_FANOUT group (flow hash + defrag); for several packet workers. */
  fanout?: { group: number; mode: 'hash' };
}

export interface PacketPathStartOptions {
  iface: string;
  /** Services to capture (with ARP). */
  services: readonly ServiceMatch[];
  bufferSize: number;
  /** What the packet side needs (structured-clonable). */
  init: unknown;
  /** Frame I/O backend and its options (default: the libpcap backend with no options). */
  io?: PacketIoOptions;
}

export type StartPacketPath = (opts: PacketPathStartOptions) => Promise<PacketPathHandle>;
