/**
 * `dsrlb demo --topology ecmp --directors 2`: the whole scale-out demo through the CLI (testbed,
 * dsrlb + BIRD on each director, requests from several client addresses, proof of DSR, clean-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { ecmpDown, listNamespaces } from '../../src/testbed/index.ts';
import { describeAsRoot } from '../helpers/root.ts';

const PREFIX = `dsrgd${process.pid % 10000}`;
const CAPTURES = mkdtempSync(join(tmpdir(), 'dsrg-ecmp-cap-'));

describeAsRoot('dsrlb demo --topology ecmp', () => {
  afterAll(async () => {
    rmSync(CAPTURES, { recursive: true, force: true });
    await ecmpDown({ prefix: PREFIX, directors: 4 });
  }, 60_000);

  it('serves every request through both directors, no reply through a director, and leaves nothing', async () => {
    const out: string[] = [];
    const code = await main(['demo', '--topology', 'ecmp', '--directors', '2', '--prefix', PREFIX, '--requests', '16', '--capture', CAPTURES], { out: (s) => out.push(s), err: (s) => out.push(s) });
    const text = out.join('\n');
    expect(text).toContain('OK: 16 requests answered, spread over 2 director(s), no reply through any director');
    expect(text).toMatch(/VIP next hops: 192\.168\.0\.21, 192\.168\.0\.22/);
    expect(text).toMatch(/SYN-ACKs from the VIP arriving at the router, by sender MAC: (www\d \d+(, )?)+$/m);
    expect(code).toBe(0);
    expect(listNamespaces().filter((n) => n.startsWith(`${PREFIX}-`))).toEqual([]);

    // dsrlb explain over the captures: both directors found, every flow DSR as it should be.
    const ex: string[] = [];
    const exCode = await main(['explain', CAPTURES], { out: (s) => ex.push(s), err: (s) => ex.push(s) });
    const exText = ex.join('\n');
    expect(exText).toMatch(/director\s+192\.168\.0\.21\s/);
    expect(exText).toMatch(/director\s+192\.168\.0\.22\s/);
    expect(exText.match(/— OK: DSR as it should be/g)).toHaveLength(16);
    expect(exText).toContain('Findings: no problem found');
    expect(exCode).toBe(0);
  }, 120_000);
});
