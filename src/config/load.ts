/**
 * Reads an ldirectord.cf from disk and parses it. The only file of config/ that does I/O; the
 * parser itself stays pure. Read failures become a ConfigErrors with one ConfigError at line 0.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, ConfigErrors } from '../errors/index.ts';
import { parseLdirectordConfig, type LdirectordConfig } from './ldirectord/index.ts';

export function loadLdirectordConfig(path: string): LdirectordConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const err = code === 'ENOENT'
      ? new ConfigError('E_CONFIG_NOT_FOUND', path, 0, 'no such file')
      : new ConfigError('E_CONFIG_READ', path, 0, `cannot read: ${code ?? String(e)}`);
    throw new ConfigErrors([err]);
  }
  return parseLdirectordConfig(text, path);
}
