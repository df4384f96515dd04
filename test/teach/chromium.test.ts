/**
 * The HTML page renders in headless Chromium (Debian's `chromium`) without console errors and
 * shows the diagram: a screenshot is taken and its pixels are checked for the ladder's colours.
 * Chromium is installed with apt-get when it is missing (as root; src/cli/setup.sh lists it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARROW_COLORS, renderFlowSvg, renderHtml } from '../../src/teach/index.ts';
import { explainScenario } from './helpers.ts';
import { countColor, decodePng } from './png.ts';

const CHROMIUM = '/usr/bin/chromium';
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-chromium-'));

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): void => void execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: 'ignore', env, timeout: 480_000 });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', env, timeout: 240_000 });
    install();
  }
}

interface Shot {
  code: number | null;
  stderr: string;
  png: string;
}

/** One headless Chromium run (bounded: killed after 90 s), screenshot into `png`. */
function screenshot(url: string, png: string, size: string): Promise<Shot> {
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0',
    '--hide-scrollbars', `--screenshot=${png}`, `--window-size=${size}`, url,
  ];
  return new Promise((resolve) => {
    execFile(CHROMIUM, args, { timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, _out, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stderr: String(stderr), png });
    });
  });
}

/** Console messages and uncaught errors that Chromium logged for the page. */
function consoleLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /:CONSOLE[:(]|Uncaught|Refused to|Failed to load resource/.test(l));
}

beforeAll(() => ensureChromium(), 600_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the HTML page in headless Chromium', () => {
  it('renders the ARP-problem page without console errors and shows the ladder (screenshot)', async () => {
    const ex = explainScenario('arp-problem');
    const html = join(tmp, 'arp-problem.html');
    writeFileSync(html, renderHtml(ex));
    const shot = await screenshot(`file://${html}`, join(tmp, 'arp-problem.png'), '1400,2400');
    expect(shot.code).toBe(0);
    expect(consoleLines(shot.stderr)).toEqual([]);
    const img = decodePng(readFileSync(shot.png));
    expect([img.width, img.height]).toEqual([1400, 2400]);
    if (process.env.DSRLB_KEEP_SCREENSHOTS) copyFileSync(shot.png, join(process.env.DSRLB_KEEP_SCREENSHOTS, 'arp-problem.png'));
    // The ladder is there: red problem arrows, purple ARP arrows, green DSR replies.
    expect(countColor(img, ARROW_COLORS.problem)).toBeGreaterThan(1500);
    expect(countColor(img, ARROW_COLORS['arp-request'])).toBeGreaterThan(300);
    expect(countColor(img, ARROW_COLORS['dsr-reply'])).toBeGreaterThan(300);
  }, 120_000);

  it('renders a healthy flow\'s SVG on its own (Chromium shows an error page for malformed XML)', async () => {
    const ex = explainScenario('healthy');
    const svg = join(tmp, 'healthy.svg');
    writeFileSync(svg, renderFlowSvg(ex.flows[0]!, ex));
    const shot = await screenshot(`file://${svg}`, join(tmp, 'healthy.png'), '1500,1500');
    expect(shot.code).toBe(0);
    expect(consoleLines(shot.stderr)).toEqual([]);
    const img = decodePng(readFileSync(shot.png));
    if (process.env.DSRLB_KEEP_SCREENSHOTS) copyFileSync(shot.png, join(process.env.DSRLB_KEEP_SCREENSHOTS, 'healthy.png'));
    expect(countColor(img, ARROW_COLORS.forwarded)).toBeGreaterThan(500);
    expect(countColor(img, ARROW_COLORS['dsr-reply'])).toBeGreaterThan(500);
    expect(countColor(img, ARROW_COLORS.problem, 10)).toBe(0);
  }, 120_000);
});
