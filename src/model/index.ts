export * from './addr.ts';
export * from './dest.ts';
export * from './addr6.ts';
