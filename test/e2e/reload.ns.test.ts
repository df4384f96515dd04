/**
 * Reload like ldirectord: SIGHUP (and autoreload on the file's mtime) re-reads ldirectord.cf and
 * applies the difference; a broken file is reported with file:line and the running table stays.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLabDirector, testbedDown, testbedUp, type LabDirector } from '../../src/testbed/index.ts';
import { forEachIoBackend } from './lab.ts';

const prefix = `dsrl${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'dsrlb-reload-'));
const cf = join(dir, 'ldirectord.cf');
let director: LabDirector;

const realsOf = async () => (await director.snapshot()).services.map((s) => `${s.spec.port}:${s.reals.map((r) => `${r.addr & 255}w${r.weight}`).sort().join(',')}`);
async function waitFor(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

// Once per frame I/O backend (ring, pcap): the same testbed made anew for each.
forEachIoBackend(() => {
beforeAll(async () => {
  mkdirSync(dir, { recursive: true }); // made again for the second backend (afterAll removes it)
  copyFileSync(fileURLToPath(new URL('./fixtures/health.cf', import.meta.url)), cf);
  await testbedUp({ prefix });
  director = await startLabDirector({ prefix, config: cf });
}, 60_000);

afterAll(async () => {
  await director?.stop();
  await testbedDown({ prefix });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('SIGHUP applies the difference; a broken file is refused with file:line and the table stays; autoreload follows the mtime', async () => {
  expect(await realsOf()).toEqual(['80:8w1,9w1']);
  const base = readFileSync(cf, 'utf8');

  // Add www1 as a real, drop www3, add an HTTPS service.
  writeFileSync(cf, base.replace('\treal=192.168.0.9:80 gate\n', '\treal=192.168.0.7:80 gate 2\n') +
    'virtual=192.168.0.10:443\n\treal=192.168.0.8:443 gate\n\tservice=https\n\trequest="ping.cgi"\n\treceive="ok"\n\tscheduler=wlc\n\tchecktype=negotiate\n');
  process.kill(director.pid, 'SIGHUP');
  const ok1 = await waitFor(async () => (await realsOf()).join(' ') === '80:7w2,8w1 443:8w1', 5000);
  expect(ok1).toBe(true);

  // A broken file: refused, with its file:line, nothing changes.
  writeFileSync(cf, base + 'virtual=192.168.0.10:8080\n\treal=192.168.0.300:80 gate\n');
  process.kill(director.pid, 'SIGHUP');
  expect(await waitFor(async () => /reload refused/.test(director.output()), 10_000)).toBe(true);
  expect(director.output()).toMatch(new RegExp(`reload refused, running configuration kept: ${cf.replaceAll('/', '\\/')}:\\d+: `));
  expect((await realsOf()).join(' ')).toBe('80:7w2,8w1 443:8w1');

  // autoreload=yes: the file's change alone is enough.
  writeFileSync(cf, 'autoreload=yes\n' + base);
  process.kill(director.pid, 'SIGHUP');
  expect(await waitFor(async () => (await realsOf()).join(' ') === '80:8w1,9w1', 10_000)).toBe(true);
  writeFileSync(cf, 'autoreload=yes\n' + base.replace('\treal=192.168.0.8:80 gate\n', ''));
  expect(await waitFor(async () => (await realsOf()).join(' ') === '80:9w1', 10_000)).toBe(true);
}, 60_000);
});
