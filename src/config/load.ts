/**
 * Reads an ldirectord.cf or a keepalived.conf from disk and parses it. The only file of config/ that
 * does I/O; the parsers themselves stay pure. For keepalived.conf, the FileSource here reads the
 * included files and expands include globs (`*`, `?`, `[...]` in any path component, sorted as
 * glob(3) sorts them). Read failures become a ConfigErrors with one ConfigError at line 0.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, ConfigErrors } from '../errors/index.ts';
import { parseLdirectordConfig, type LdirectordConfig } from './ldirectord/index.ts';
import { parseKeepalivedConfig, type FileSource, type KeepalivedConfig, type KeepalivedParseOptions } from './keepalived/index.ts';

/** A configuration file's text; a missing or unreadable file is a ConfigErrors at line 0. */
function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const err = code === 'ENOENT'
      ? new ConfigError('E_CONFIG_NOT_FOUND', path, 0, 'no such file')
      : new ConfigError('E_CONFIG_READ', path, 0, `cannot read: ${code ?? String(e)}`);
    throw new ConfigErrors([err]);
  }
}

export function loadLdirectordConfig(path: string): LdirectordConfig {
  return parseLdirectordConfig(readConfigFile(path), path);
}


function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = part.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = part.slice(i + 1, j);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function globFiles(pattern: string): string[] {
  const abs = resolve(pattern);
  const parts = abs.split('/').filter((p) => p !== '');
  let paths = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    const magic = /[*?[]/.test(part);
    for (const base of paths) {
      const join = (n: string) => (base === '/' ? `/${n}` : `${base}/${n}`);
      if (!magic) {
        next.push(join(part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const n of names.sort()) if (re.test(n) && (part.startsWith('.') || !n.startsWith('.'))) next.push(join(n));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

export const diskFileSource: FileSource = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  glob: globFiles,
  dirname: (p) => dirname(resolve(p)),
};

export function loadKeepalivedConfig(path: string, opts: KeepalivedParseOptions = {}): KeepalivedConfig {
  return parseKeepalivedConfig(readConfigFile(path), path, diskFileSource, opts);
}
