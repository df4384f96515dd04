export * from './from-config.ts';
export * from './replay.ts';
