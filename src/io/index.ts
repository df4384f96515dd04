export * from './pcapfile.ts';
export * from './bpf.ts';
export * from './cap.ts';
export * from './nft.ts';
export * from './preflight-parse.ts';
export { runPreflight, preflightOk, fixOffloads, readOffloads, type PreflightOptions } from './preflight.ts';
export * from './worker-host.ts';
export type { WorkerInit } from './worker-protocol.ts';
