/**
 * parseAuthkeys(text, file): heartbeat's authkeys, pure. `auth N` selects the key this node signs
 * with; `N METHOD [SECRET]` lines define keys (crc has no secret; md5 and sha1 are HMACs, sha256 is
 * a dsrlb extension). checkAuthkeysMode() is heartbeat's rule that the file is readable by its
 * owner only: the daemon refuses to start otherwise.
 */
import { ConfigError, ConfigErrors } from '../../errors/index.ts';
import { HaDiag, splitLines } from './lines.ts';
import type { AuthKey, AuthKeys, AuthMethod } from './types.ts';

const METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1', 'sha256'];

export function parseAuthkeys(text: string, file: string): AuthKeys {
  const d = new HaDiag(file);
  let auth: { index: number; line: number } | null = null;
  const keys = new Map<number, AuthKey>();
  for (const { line, fields } of splitLines(text, false)) {
    const head = fields[0]!;
    if (head.toLowerCase() === 'auth') {
      if (fields.length !== 2 || !/^\d+$/.test(fields[1]!)) {
        d.error('E_HA_AUTH_SYNTAX', line, 'expected "auth N" (the index of the key to sign with)');
        continue;
      }
      if (auth) d.warn('W_HA_DUPLICATE', line, `auth already set at line ${auth.line}: this one wins`);
      auth = { index: Number(fields[1]), line };
      continue;
    }
    if (!/^\d+$/.test(head)) {
      d.error('E_HA_AUTH_SYNTAX', line, `expected "N METHOD [SECRET]" or "auth N", got ${JSON.stringify(head)}`);
      continue;
    }
    const index = Number(head);
    if (index < 1 || index > 15) {
      d.error('E_HA_AUTH_SYNTAX', line, `key index ${index} is not 1..15`);
      continue;
    }
    const method = (fields[1] ?? '').toLowerCase() as AuthMethod;
    if (!METHODS.includes(method)) {
      d.error('E_HA_AUTH_METHOD', line, `unknown method ${JSON.stringify(fields[1] ?? '')}: expected crc, md5, sha1 or sha256`);
      continue;
    }
    // The secret is the rest of the line (heartbeat takes it up to the end of the line).
    const key = fields.slice(2).join(' ');
    if (method === 'crc') {
      if (key !== '') d.warn('W_HA_AUTH', line, 'crc takes no secret: the secret is ignored');
    } else if (key === '') {
      d.error('E_HA_AUTH_KEY', line, `${method} needs a secret`);
      continue;
    }
    if (keys.has(index)) d.error('E_HA_DUPLICATE', line, `key ${index} already defined at line ${keys.get(index)!.line}`);
    else keys.set(index, { line, index, method, key: method === 'crc' ? '' : key });
  }
  if (!auth) d.error('E_HA_AUTH_SYNTAX', 0, 'no "auth N" line: which key signs the heartbeats?');
  else if (!keys.has(auth.index)) d.error('E_HA_AUTH_KEY', auth.line, `auth ${auth.index}: no key ${auth.index} defined`);
  const active = auth ? keys.get(auth.index) : undefined;
  if (active?.method === 'crc') d.warn('W_HA_AUTH_CRC', active.line, 'crc authenticates nothing: anyone on the network can forge heartbeats (use sha1 or sha256)');
  d.finish();
  return { file, active: active!, keys, warnings: d.warnings };
}

/** Heartbeat's rule: authkeys must not be readable or writable by group or others (mode 600). */
export function checkAuthkeysMode(mode: number, file: string): void {
  if ((mode & 0o077) !== 0) {
    throw new ConfigErrors([
      new ConfigError('E_HA_AUTHKEYS_MODE', file, 0, `mode ${(mode & 0o777).toString(8).padStart(3, '0')}: authkeys must be readable by its owner only (chmod 600)`),
    ]);
  }
}
