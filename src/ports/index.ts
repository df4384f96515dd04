export type { FrameIO, FrameIOStats, FrameCallback, ResidenceHistogram } from './frame-io.ts';
export type { PacketHandler, PostToControl, CreateHandler } from './packet-handler.ts';
export type { Clock } from './clock.ts';
export type { NetControl, LocalPath, ServiceMatch } from './net-control.ts';
export { silentLogger, type Logger } from './logger.ts';
export type { PacketIoOptions, PacketPathHandle, PacketPathStartOptions, StartPacketPath } from './packet-path.ts';
export type { HaTransport, HaDatagramSource } from './ha-transport.ts';
export type { VrrpTransport } from './vrrp-transport.ts';
export type { SyncTransport } from './sync-transport.ts';
