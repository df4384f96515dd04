export * from './addr.ts';
export * from './dest.ts';
