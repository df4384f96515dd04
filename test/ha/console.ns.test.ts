/**
 * The web console of an HA pair in a real browser (root, CI): `dsrlb ha --http 127.0.0.1:8080` on
 * www1 and www2 of their own testbed (the seed's files, fast timers), Debian's Chromium inside
 * www2's namespace. The page shows both nodes and who holds the VIP; when www1 is killed, the page
 * shows www2 holding the VIP, with the failover and its reason, within 2 s of www2 taking over.
 * Screenshots go to a temporary folder (printed); with DSRLB_DOCS_IMG=1 also to docs/img.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNamespace, testbedDown, testbedUp } from '../../src/testbed/index.ts';
import { browserInNs, screenshotDir, type NsBrowser } from '../e2e/browser.ts';
import { killHelpers, makeConfigDirs, NODE_NAME, startHa, waitFor, type HaProc } from './lab.ts';

const prefix = `dsrw${(process.pid + 5000) % 10000}`;
const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));
/** The screenshots docs/console.md shows. */
const DOCS_SHOTS = ['ha-standby', 'ha-failover'];
const shots = screenshotDir('console-ha');
const figures: Record<string, number> = {};
let dirs: ReturnType<typeof makeConfigDirs>;
const procs: HaProc[] = [];
let b: NsBrowser | null = null;

async function shot(name: string): Promise<void> {
  const path = join(shots, `console-${name}.png`);
  await b!.page.screenshot({ path, fullPage: true });
  if (process.env.DSRLB_DOCS_IMG === '1' && DOCS_SHOTS.includes(name)) copyFileSync(path, join(DOCS_IMG, `console-${name}.png`));
}

beforeAll(async () => {
  await testbedUp({ prefix });
  // Timers loose enough for a loaded 2-core machine (other namespace tests may run beside this one).
  dirs = makeConfigDirs('keepalive 200ms\ndeadtime 1000ms\nwarntime 600ms\ninitdead 3\n');
}, 60_000);

afterAll(async () => {
  await b?.close();
  killHelpers();
  for (const p of procs) {
    await p.term(5000).catch(() => {});
    rmSync(p.control, { force: true });
  }
  await testbedDown({ prefix });
  if (dirs) rmSync(dirs.root, { recursive: true, force: true });
  console.log(`ha console figures: ${JSON.stringify(figures)}`);
}, 60_000);

describe('dsrlb ha --http in Chromium', () => {
  it('shows both nodes and the VIP holder, and follows a failover within 2 s', async () => {
    const www1 = startHa(prefix, 'www1', dirs.www1, ['--http', '127.0.0.1:8080'], 'console-www1');
    procs.push(www1);
    const www2 = startHa(prefix, 'www2', dirs.www2, ['--http', '127.0.0.1:8080'], 'console-www2');
    procs.push(www2);
    try {
      await waitFor('www1 active, www2 standby', async () => (await www1.status()).role === 'active' && (await www2.status()).role === 'standby', 30_000, 50);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nwww1:\n${www1.output().slice(-3000)}\nwww2:\n${www2.output().slice(-3000)}`);
    }
    await waitFor('www2 console up', () => /"console":"http:\/\/127\.0\.0\.1:8080\/"/.test(www2.output()), 10_000, 50);

    b = await browserInNs(hostNamespace(prefix, 'www2'));
    const page = b.page;
    await page.goto('http://127.0.0.1:8080/');
    await page.waitForSelector(`#ha-vip[data-holder="${NODE_NAME.www1}"]`, { timeout: 5000 });
    expect(await page.getAttribute(`.node[data-node="${NODE_NAME.www2}"]`, 'data-state')).toBe('standby');
    expect(await page.getAttribute(`.node[data-node="${NODE_NAME.www1}"]`, 'data-state')).toBe('active');
    expect(await page.getAttribute('#active', 'data-active')).toBe('false');
    await page.waitForSelector('tr[data-real="192.168.0.8:80"]');
    await shot('ha-standby');

    // www1 dies: www2 takes the VIP over after deadtime.
    const t0 = Date.now();
    const pageSaw = page.waitForSelector(`#ha-vip[data-holder="${NODE_NAME.www2}"]`, { timeout: 10_000 }).then(() => Date.now());
    await www1.kill();
    await waitFor('www2 active', async () => (await www2.status()).role === 'active', 10_000, 20);
    const tRole = Date.now();
    const tPage = await pageSaw;
    figures.killToActiveMs = tRole - t0;
    figures.activeToPageMs = Math.max(0, tPage - tRole);
    expect(tPage - tRole).toBeLessThanOrEqual(2000);
    await page.waitForSelector('#events li[data-kind="failover"]', { timeout: 2000 });
    expect(await page.textContent('#events li[data-kind="failover"]')).toMatch(/standby → active \(.+\)/);
    expect(await page.textContent('#ha-failovers')).toMatch(/standby → active/);
    expect(await page.getAttribute(`.node[data-node="${NODE_NAME.www1}"]`, 'data-state')).toBe('dead');
    await page.waitForSelector('#active[data-active="true"]', { timeout: 2000 });
    await shot('ha-failover');
    expect(b.problems).toEqual([]);
  }, 90_000);
});
