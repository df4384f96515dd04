export * from './types.ts';
export * from './tcp-states.ts';
export { flowHash } from './hash.ts';
export { ConnStore, lineOfKey } from './store.ts';
export { ConnTable, loadKey6, type DestResolver } from './table.ts';
