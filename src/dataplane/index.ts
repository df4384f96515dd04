export * from './verdict.ts';
export * from './services.ts';
export * from './dataplane.ts';
