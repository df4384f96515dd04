/** The binding loader's failure path (no root needed; the real binding is not loaded here). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCap } from '../../src/io/index.ts';

describe('loadCap', () => {
  it('a binding that does not load gives E_CAP_LOAD with the fix', () => {
    let err: { code?: string; message?: string } = {};
    try {
      loadCap('cap-that-is-not-installed');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('E_CAP_LOAD');
    expect(err.message).toMatch(/apt-get install libpcap-dev .*npm rebuild cap/);
  });

  it('importing src/io loads no native code', () => {
    expect(readFileSync('/proc/self/maps', 'utf8')).not.toContain('cap.node');
  });
});
