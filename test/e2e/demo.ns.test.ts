/**
 * `dsrlb demo` (the main job, what `npm run demo` runs) through the CLI, short: the reference demo,
 * and `--ipv6`, which serves the VIP and the VIP6 from one director on the dual-stack testbed and
 * gives the proof for each family. Each leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { listNamespaces, testbedDown } from '../../src/testbed/index.ts';
import { describeAsRoot } from '../helpers/root.ts';

const P4 = `dsrdm${process.pid % 10000}`;
const P6 = `dsrdx${process.pid % 10000}`;
const CAPTURES = mkdtempSync(join(tmpdir(), 'dsr-demo6-cap-'));

async function demo(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await main(['demo', ...args], { out: (s) => out.push(s), err: (s) => out.push(s) });
  return { code, text: out.join('\n') };
}

describeAsRoot('dsrlb demo', () => {
  afterAll(async () => {
    rmSync(CAPTURES, { recursive: true, force: true });
    await testbedDown({ prefix: P4 });
    await testbedDown({ prefix: P6 });
  }, 60_000);

  it('the reference demo: rr over the three reals, HTTP and HTTPS, no reply through the director', async () => {
    const r = await demo(['--prefix', P4, '--requests', '6']);
    expect(r.text).toContain('OK: every request answered, rr 2/2/2, no reply through the director');
    expect(r.text).toMatch(/SYN-ACKs from 192\.168\.0\.10 seen at the client, by sender MAC: (www\d 4(, )?){3}$/m);
    expect(r.code).toBe(0);
    expect(listNamespaces().filter((n) => n.startsWith(`${P4}-`))).toEqual([]);
  });

  it('--ipv6: both families from one director, the VIP6 resolved to the director, pcaps dsrlb explain reads', async () => {
    const r = await demo(['--ipv6', '--prefix', P6, '--requests', '3', '--capture', CAPTURES]);
    expect(r.text).toContain('OK: every request answered, rr 1/1/1 over IPv4 and IPv6, no reply through the director');
    expect(r.text).toMatch(/SYN-ACKs from 2001:db8::10 seen at the client, by sender MAC: (www\d 2(, )?){3}$/m);
    expect(r.text).toMatch(/the client's neighbour entry for 2001:db8::10: 02:d5:00:00:00:07 \(www1\)/);
    expect(r.text).toContain('real 2001:db8::8 resolved by Neighbor Solicitation: 02:d5:00:00:00:08');
    expect(r.code).toBe(0);
    expect(listNamespaces().filter((n) => n.startsWith(`${P6}-`))).toEqual([]);
    const ex: string[] = [];
    const exCode = await main(['explain', CAPTURES], { out: (s) => ex.push(s), err: (s) => ex.push(s) });
    const exText = ex.join('\n');
    // 3 HTTP + 3 HTTPS requests per family: 12 flows, the 6 IPv6 ones with their NDP exchange.
    expect(exText.match(/— OK: DSR as it should be/g), exText.slice(0, 3000)).toHaveLength(12);
    expect(exText.match(/^Flow \d+: \[2001:db8::100\]:\d+ → \[2001:db8::10\]:(80|443) \(tcp\)/gm)).toHaveLength(6);
    expect(exText).toMatch(/NA 2001:db8::10 is-at 02:d5:00:00:00:07/);
    expect(exText).toContain('Findings: no problem found');
    expect(exCode).toBe(0);
  });
});
