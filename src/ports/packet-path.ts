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

export interface PacketPathStartOptions {
  iface: string;
  /** Services to capture (with ARP). */
  services: readonly ServiceMatch[];
  bufferSize: number;
  /** What the packet side needs (structured-clonable). */
  init: unknown;
}

export type StartPacketPath = (opts: PacketPathStartOptions) => Promise<PacketPathHandle>;
