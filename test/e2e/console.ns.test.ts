/**
 * The live web console in a real browser (root, CI): `dsrlb run --http 127.0.0.1:8080 --http-token F`
 * on www1 of its own testbed, with a configuration whose health-check request carries a hostile
 * string; Debian's Chromium, headless, driven by playwright-core inside www1's namespace. The page
 * loads without console errors, shows the reals, follows a stopped real server (health → quiesced)
 * within 2 s of the table changing, refuses a write without the token and does it with the token,
 * stays responsive during a bounded flood, and (restarted without a token file) has no write API.
 * Screenshots of each state go to a temporary folder (printed); with DSRLB_DOCS_IMG=1 also to docs/img.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostNamespace, nsExec, startLabDirector, startServer, stopServer, testbedDown, testbedUp, VIP, type LabDirector,
} from '../../src/testbed/index.ts';
import { browserInNs, screenshotDir, type NsBrowser } from './browser.ts';
import { curl, vipNum, waitFor } from './lab.ts';

const prefix = `dsrw${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const www1 = hostNamespace(prefix, 'www1');
const CONSOLE = 'http://127.0.0.1:8080/';
const HOSTILE = `<script>alert('dsrlb')</script>`;
const TOKEN = 'console-test-token-0123456789abcdef';
const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));
/** The screenshots docs/console.md shows. */
const DOCS_SHOTS = ['director', 'quiesced', 'write'];
// checkinterval × failurecount + negotiatetimeout + 1 s (as test/e2e/health.ns.test.ts)
const CHECK_BOUND_MS = (1 * 1 + 2 + 1) * 1000;

/** node -e UDP_FLOOD VIP COUNT MS: sends up to COUNT datagrams to VIP:80 within MS, prints how many. */
const UDP_FLOOD = `
const s = require('node:dgram').createSocket('udp4');
const [vip, max, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const buf = Buffer.alloc(18);
const end = Date.now() + ms;
let sent = 0;
const burst = () => {
  if (sent >= max || Date.now() >= end) { console.log(sent); s.close(); return; }
  for (let i = 0; i < 200; i++) { s.send(buf, 80, vip); sent++; }
  setImmediate(burst);
};
burst();`;

const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-console-cfg-'));
const shots = screenshotDir('console');
const figures: Record<string, number | string> = {};
let director: LabDirector | null = null;
let b: NsBrowser | null = null;

async function shot(name: string): Promise<void> {
  const path = join(shots, `console-${name}.png`);
  await b!.page.screenshot({ path, fullPage: true });
  if (process.env.DSRLB_DOCS_IMG === '1' && DOCS_SHOTS.includes(name)) copyFileSync(path, join(DOCS_IMG, `console-${name}.png`));
}

async function weightOf(addr: string): Promise<number | undefined> {
  const s = await director!.snapshot();
  return s.services[0]!.reals.find((r) => r.addr === vipNum(addr))?.weight;
}

const row = (addr: string) => `tr[data-real="${addr}:80"]`;

/** No console error, page error, failed request or dialog since the last call, but those `allowed` (expected ones). */
function expectNoProblems(allowed: RegExp[] = []): void {
  const left = b!.problems.filter((p) => !allowed.some((re) => re.test(p)));
  b!.problems.length = 0;
  expect(left).toEqual([]);
}

beforeAll(async () => {
  const cfg = readFileSync(fileURLToPath(new URL('./fixtures/health.cf', import.meta.url)), 'utf8')
    .replace('request="ping.cgi"', `request="ping.cgi?from=${HOSTILE}"`);
  writeFileSync(join(tmp, 'ldirectord.cf'), cfg);
  writeFileSync(join(tmp, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await testbedUp({ prefix });
  director = await startLabDirector({ prefix, config: join(tmp, 'ldirectord.cf'), args: ['--http', '127.0.0.1:8080', '--http-token', join(tmp, 'token')] });
  b = await browserInNs(www1);
}, 90_000);

afterAll(async () => {
  await b?.close();
  await director?.stop();
  await testbedDown({ prefix });
  rmSync(tmp, { recursive: true, force: true });
  console.log(`console figures: ${JSON.stringify(figures, null, 2)}`);
}, 60_000);

describe('the live web console in Chromium', () => {
  it('loads without console errors, shows the reals and escapes the hostile name', async () => {
    const page = b!.page;
    const t0 = Date.now();
    const res = await page.goto(CONSOLE);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector(`${row('192.168.0.8')}[data-health="up"]`, { timeout: 10_000 });
    await page.waitForSelector(`${row('192.168.0.9')}[data-health="up"]`, { timeout: 10_000 });
    figures.pageToRealsMs = Date.now() - t0;
    expect(await page.textContent('#link')).toBe('live');
    // The hostile request string is shown as text, and is not markup: one script element only.
    expect(await page.textContent('.check')).toContain(`ping.cgi?from=${HOSTILE}`);
    expect(await page.locator('script').count()).toBe(1);
    // Some traffic: rates and a sampled flow's ladder.
    for (let i = 0; i < 6; i++) expect(await curl(client, `http://${VIP}/`)).toMatch(/^www[23]$/);
    await page.waitForSelector('#ladders figure img', { timeout: 10_000 });
    // (Browser-side code as strings: the project's type check has no DOM library.)
    await page.waitForFunction("[...document.querySelectorAll('#ladders img')].every((i) => i.complete && i.naturalWidth > 0)", undefined, { timeout: 5000 });
    expect(await page.textContent('#ladders figcaption')).toMatch(/192\.168\.0\.100:\d+ → 192\.168\.0\.10:80 → 192\.168\.0\.(8|9)/);
    await page.waitForFunction("document.querySelectorAll('.chart polyline').length > 0", undefined, { timeout: 5000 });
    await shot('director');
    expectNoProblems();
  }, 60_000);

  it('shows a stopped real server quiesced within 2 s of the table changing', async () => {
    const page = b!.page;
    const t0 = Date.now();
    await stopServer('www3', { prefix });
    try {
      const pageSaw = page.waitForSelector(`${row('192.168.0.9')}[data-health="down"]`, { timeout: CHECK_BOUND_MS + 5000 }).then(() => Date.now());
      await waitFor(async () => (await weightOf('192.168.0.9')) === 0, CHECK_BOUND_MS + 5000);
      const tTable = Date.now();
      const tPage = await pageSaw;
      figures.stopToTableMs = tTable - t0;
      figures.tableToPageMs = Math.max(0, tPage - tTable);
      expect(tPage - tTable).toBeLessThanOrEqual(2000);
      expect(await page.getAttribute(row('192.168.0.9'), 'data-weight')).toBe('0');
      await page.waitForSelector('#events li[data-kind="health"]', { timeout: 2000 });
      expect(await page.textContent('#events li[data-kind="health"]')).toMatch(/192\.168\.0\.9:80 down: weight 0/);
      await shot('quiesced');
    } finally {
      await startServer('www3', { prefix });
    }
    await page.waitForSelector(`${row('192.168.0.9')}[data-health="up"]`, { timeout: 10_000 });
    expectNoProblems();
  }, 60_000);

  it('refuses a write without the token and does it with the token (what ipvsadm -e does)', async () => {
    const page = b!.page;
    await page.waitForSelector('#writes:not([hidden])');
    // No token typed: refused, and the table is untouched.
    await page.click(`${row('192.168.0.8')} button.quiesce`);
    await page.waitForSelector('#write-result[data-status="401"]', { timeout: 5000 });
    expect(await weightOf('192.168.0.8')).toBe(1);
    // A wrong one: refused too.
    await page.fill('#token', `${TOKEN}-wrong`);
    await page.evaluate("document.getElementById('write-result').removeAttribute('data-status')");
    await page.click(`${row('192.168.0.8')} button.quiesce`);
    await page.waitForSelector('#write-result[data-status="401"]', { timeout: 5000 });
    expect(await weightOf('192.168.0.8')).toBe(1);
    // The token: quiesce, seen in the table and on the page.
    await page.fill('#token', TOKEN);
    await page.click(`${row('192.168.0.8')} button.quiesce`);
    await page.waitForSelector('#write-result[data-status="200"]', { timeout: 5000 });
    expect(await weightOf('192.168.0.8')).toBe(0);
    await page.waitForSelector(`${row('192.168.0.8')}[data-health="quiesced"]`, { timeout: 2000 });
    await page.waitForSelector('#events li[data-kind="quiesce"]', { timeout: 2000 });
    for (let i = 0; i < 4; i++) expect(await curl(client, `http://${VIP}/`)).toBe('www3');
    await shot('write');
    // Set a weight, then restore the configured one.
    await page.fill(`${row('192.168.0.8')} input[type=number]`, '3');
    await page.click(`${row('192.168.0.8')} button.set-weight`);
    expect(await waitFor(async () => (await weightOf('192.168.0.8')) === 3, 3000)).toBeGreaterThanOrEqual(0);
    await page.click(`${row('192.168.0.8')} button.restore`);
    expect(await waitFor(async () => (await weightOf('192.168.0.8')) === 1, 3000)).toBeGreaterThanOrEqual(0);
    expect(director!.output()).toMatch(/runtime change from the web console: .*192\.168\.0\.8:80.*"via":"console"|"via":"console".*runtime change from the web console/);
    // The two refused writes show as failed loads in the console; nothing else may.
    expect(b!.problems.filter((p) => /401 \(Unauthorized\)/.test(p))).toHaveLength(2);
    expectNoProblems([/401 \(Unauthorized\)/]);
  }, 60_000);

  it('shows a reload (SIGHUP) with its difference', async () => {
    const page = b!.page;
    const file = join(tmp, 'ldirectord.cf');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace('real=192.168.0.8:80 gate', 'real=192.168.0.8:80 gate 2'));
    try {
      process.kill(director!.pid, 'SIGHUP');
      await page.waitForSelector('#events li[data-kind="reload"]', { timeout: 5000 });
      const text = await page.textContent('#events li[data-kind="reload"]');
      expect(text).toMatch(/configuration reloaded \(SIGHUP\): 1 change/);
      expect(text).toContain('edit real 192.168.0.8:80 in TCP 192.168.0.10:80: {"weight":2}');
      await page.waitForSelector(`${row('192.168.0.8')}[data-weight="2"]`, { timeout: 3000 });
    } finally {
      writeFileSync(file, before);
      process.kill(director!.pid, 'SIGHUP');
    }
    expect(await waitFor(async () => (await weightOf('192.168.0.8')) === 1, 5000)).toBeGreaterThanOrEqual(0);
    expectNoProblems();
  }, 30_000);

  it('stays responsive during a bounded flood (ab from the client)', async () => {
    const page = b!.page;
    const ab = nsExec(client, ['ab', '-q', '-n', '50000', '-c', '50', '-s', '3', '-t', '8', `http://${VIP}/`], { timeoutMs: 20_000 });
    // And UDP datagrams at the VIP (not a service: the packet worker captures and drops each one),
    // at most 300,000 in at most 8 s.
    const udp = nsExec(client, [process.execPath, '-e', UDP_FLOOD, VIP, '300000', '8000'], { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const lat: number[] = [];
    const reloads: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await page.reload();
      await page.waitForSelector(`${row('192.168.0.8')}[data-health]`, { timeout: 5000 });
      reloads.push(Date.now() - t0);
      lat.push(await page.evaluate(async () => {
        const t = performance.now();
        const r = await fetch('/state');
        await r.json();
        return Math.round(performance.now() - t);
      }));
    }
    const abOut = await ab;
    const udpOut = await udp;
    figures.floodUdpSent = udpOut.stdout.trim();
    figures.floodAb = /Requests per second:\s+([\d.]+)/.exec(abOut.stdout)?.[1] ?? `ab exit ${abOut.code}`;
    figures.floodReloadMs = reloads.join(',');
    figures.floodStateFetchMs = lat.join(',');
    // Generous bounds on a loaded 2-core machine: what must not happen is a console stuck behind the flood.
    for (const t of reloads) expect(t).toBeLessThan(5000);
    for (const t of lat) expect(t).toBeLessThan(2000);
    await shot('flood');
    // A reload aborts the ladder images still loading: not a failure of the page.
    expectNoProblems([/\/ladder\/\d+\.svg net::ERR_ABORTED/]);
  }, 60_000);

  it('without --http-token: no write API and no write controls', async () => {
    await director!.stop();
    director = await startLabDirector({ prefix, config: join(tmp, 'ldirectord.cf'), args: ['--http', '127.0.0.1:8080'] });
    const page = b!.page;
    // While the director restarted, the open page's event stream retried and was refused.
    expectNoProblems([/ERR_CONNECTION_REFUSED/, /\/ladder\/\d+\.svg net::ERR_ABORTED/]);
    await page.goto(CONSOLE);
    await page.waitForSelector(`${row('192.168.0.8')}[data-health]`, { timeout: 10_000 });
    expect(await page.isHidden('#writes')).toBe(true);
    expect(await page.locator('button').count()).toBe(0);
    const status = await page.evaluate(async (token) => (await fetch('/api/real', {
      method: 'POST', headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ proto: 'tcp', vip: '192.168.0.10', port: 80, addr: '192.168.0.8', rport: 80, action: 'quiesce' }),
    })).status, TOKEN);
    expect(status).toBe(404);
    expect(await weightOf('192.168.0.8')).toBe(1);
    // /metrics stays on the same server.
    const metrics = await page.evaluate(async () => (await fetch('/metrics')).text());
    expect(metrics).toMatch(/^# (HELP|TYPE) /m);
    await shot('readonly');
    // The refused write (404) is the only failed load.
    expectNoProblems([/404 \(Not Found\)/]);
  }, 60_000);
});
