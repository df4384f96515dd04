/** Thin wrapper over node:util parseArgs that turns its errors into E_USAGE. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DsrlbError } from '../errors/index.ts';

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new DsrlbError('E_USAGE', (e as Error).message);
  }
}
