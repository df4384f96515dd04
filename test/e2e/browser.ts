/**
 * A headless Chromium (Debian's /usr/bin/chromium, no browser download) driven by playwright-core,
 * running INSIDE a testbed namespace: the console binds 127.0.0.1 of that namespace, so the browser
 * talks to it over the namespace's own loopback and never sends from the root namespace toward the
 * testbed. Playwright starts the browser through a two-line wrapper that enters the namespace
 * (`ip netns exec NS chromium ARGS…`); the DevTools pipe (fds 3 and 4) passes through exec.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface NsBrowser {
  browser: Browser;
  page: Page;
  /** Console errors, page errors, failed requests and dialogs (an alert would be an injection). */
  problems: string[];
  close(): Promise<void>;
}

export async function browserInNs(ns: string): Promise<NsBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'dsrlb-chromium-'));
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  mkdirSync(join(dir, 'home'));
  const browser = await chromium.launch({ executablePath: wrapper, args: ARGS, env: { ...process.env, HOME: join(dir, 'home') }, timeout: 30_000 });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // An EventSource closed by a reload or navigation is not a failure of the page.
    if (!r.url().endsWith('/events')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return {
    browser,
    page,
    problems,
    async close() {
      await browser.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the test's screenshots go: a temporary folder (printed), and docs/img when DSRLB_DOCS_IMG=1. */
export function screenshotDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `dsrlb-${tag}-`));
  console.log(`console screenshots: ${d}`);
  return d;
}
