export * from './decode.ts';
export * from './checksum.ts';
