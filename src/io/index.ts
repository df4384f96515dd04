export * from './pcapfile.ts';
