export type { FrameIO, FrameIOStats, FrameCallback } from './frame-io.ts';
export type { PacketHandler, PostToControl, CreateHandler } from './packet-handler.ts';
