import { ConfigErrors } from '../../src/errors/index.ts';
import { parseLdirectordConfig, type LdirectordConfig } from '../../src/config/index.ts';

export const FILE = 'test.cf';

/** Joins lines into a config text. */
export function cf(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

export function parse(text: string): LdirectordConfig {
  return parseLdirectordConfig(text, FILE);
}

/** The errors a text produces, as "line code" strings (fails when it parses). */
export function errorsOf(text: string): { line: number; code: string; message: string }[] {
  try {
    parseLdirectordConfig(text, FILE);
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    return e.errors.map((x) => ({ line: x.line, code: x.code, message: x.message }));
  }
  throw new Error('expected the config to be rejected');
}

export function codes(text: string): string[] {
  return errorsOf(text).map((e) => `${e.line} ${e.code}`);
}

export function warningsOf(text: string): string[] {
  return parse(text).warnings.map((w) => `${w.line} ${w.code}`);
}
