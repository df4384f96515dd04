/**
 * Typed errors with stable codes. Library code throws these (never strings, never process.exit);
 * the CLI turns them into messages and exit codes. The catalogue of codes lives in
 * docs/errors.md; a test keeps the two in step.
 */

export class DsrlbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DsrlbError';
    this.code = code;
  }
}

/** A configuration error, located at file:line (line is 1-based; 0 when the whole file is at fault). */
export class ConfigError extends DsrlbError {
  readonly file: string;
  readonly line: number;
  constructor(code: string, file: string, line: number, message: string) {
    super(code, `${file}:${line}: ${message}`);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
  }
}

/** Several configuration errors found in one pass (a parser reports all it can, not only the first). */
export class ConfigErrors extends DsrlbError {
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[]) {
    super(errors[0]?.code ?? 'E_CONFIG', errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

export function isDsrlbError(e: unknown): e is DsrlbError {
  return e instanceof DsrlbError;
}
