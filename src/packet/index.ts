export * from './decode.ts';
export * from './checksum.ts';
export * from './tcp-flags.ts';
export * from './tcp-options.ts';
export * from './views.ts';
export * from './build.ts';
export * from './build-frame.ts';
export * from './arp.ts';
