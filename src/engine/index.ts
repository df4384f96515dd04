export * from './from-config.ts';
export * from './replay.ts';
export * from './protocol.ts';
export * from './packet-path.ts';
export * from './director.ts';
export * from './reload.ts';
export * from './ha-node.ts';
export * from './conn-sync.ts';
