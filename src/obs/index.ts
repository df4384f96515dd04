/**
 * Observability, pure: ipvsadm's language (listings byte for byte, its argument grammar), the
 * kernel's rate estimator over snapshots, Prometheus text, and the text forms of log records.
 * The I/O around them lives in io/ (log.ts, metrics-server.ts) and cli/commands/ipvsadm.ts.
 */
export * from './table.ts';
export * from './names.ts';
export * from './rate.ts';
export * from './ipvsadm-format.ts';
export * from './ipvsadm-grammar.ts';
export * from './prometheus.ts';
export * from './log-format.ts';
export * from './describe.ts';
export * from './histogram.ts';
