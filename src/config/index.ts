// Configuration parsers. ldirectord.cf lives in ./ldirectord/; load.ts is the one file here that reads disk.
export * from './ldirectord/index.ts';
export { loadLdirectordConfig } from './load.ts';
export * from './ha/index.ts';
export * from './keepalived/index.ts';
export { loadKeepalivedConfig, diskFileSource } from './load.ts';
