/** docs/ipvsadm.md lists every dsrlb metric family the exposition has, and no other. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIRECTOR_FAMILIES } from '../../src/obs/index.ts';

/** `a_{b,c}_d` -> a_b_d, a_c_d, as the docs write them; a group at the end is a label set: `x_total{reason}` -> x_total. */
function expand(pattern: string): string[] {
  if (/\{[^}]*\}$/.test(pattern)) return expand(pattern.replace(/\{[^}]*\}$/, ''));
  const m = /^(.*)\{([^}]*)\}(.*)$/.exec(pattern);
  return m ? m[2]!.split(',').flatMap((alt) => expand(`${m[1]}${alt}${m[3]}`)) : [pattern];
}

describe('metrics in the docs', () => {
  it('the --metrics paragraph of docs/ipvsadm.md names exactly the families of obs/prometheus.ts', () => {
    const doc = readFileSync(new URL('../../docs/ipvsadm.md', import.meta.url), 'utf8');
    const para = doc.slice(doc.indexOf('* `--metrics ADDR`'));
    const named = new Set([...para.slice(0, para.indexOf('\n\n')).matchAll(/`(dsrlb_[\w{},]+)`/g)].flatMap((m) => expand(m[1]!)));
    expect([...named].sort()).toEqual(DIRECTOR_FAMILIES.map((f) => f[0]).sort());
  });
});
