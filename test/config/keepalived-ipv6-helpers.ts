/** The IPv6 keepalived.conf fixtures (test/fixtures/keepalived/ipv6/) and dsrlb's errors on them. */
import { readFileSync } from 'node:fs';
import { parseKeepalivedConfig, type FileSource } from '../../src/config/index.ts';
import { ConfigErrors } from '../../src/errors/index.ts';

const DIR = new URL('../fixtures/keepalived/ipv6/', import.meta.url);
export const NO_FILES: FileSource = { read: () => null, glob: () => [], dirname: () => '/' };
export const text = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

const parse = (src: string) => parseKeepalivedConfig(src, 'k.conf', NO_FILES);

/** "LINE CODE message" of every error. */
export function kaErrors(src: string): string[] {
  try {
    parse(src);
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    return e.errors.map((x) => `${x.line} ${x.code} ${x.message.replace(/^k\.conf:\d+: /, '')}`);
  }
  return [];
}

