/**
 * Collects every error and warning of one configuration file, so that a parser reports all it
 * finds (each with its line) instead of stopping at the first; finish() throws them at once.
 */
import { ConfigError, ConfigErrors } from '../errors/index.ts';
import type { ConfigWarning } from './ldirectord/types.ts';

export class DiagnosticCollector {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  constructor(readonly file: string) {}

  error(code: string, line: number, message: string): void {
    this.errors.push(new ConfigError(code, this.file, line, message));
  }

  warn(code: string, line: number, message: string): void {
    this.warnings.push({ code, file: this.file, line, message });
  }

  /** Throws every error, sorted by line (stable), as one ConfigErrors; sorts the warnings. */
  finish(): void {
    if (this.errors.length > 0) {
      const sorted = this.errors.map((e, i) => ({ e, i })).sort((a, b) => a.e.line - b.e.line || a.i - b.i);
      throw new ConfigErrors(sorted.map((x) => x.e));
    }
    this.warnings.sort((a, b) => a.line - b.line);
  }
}
