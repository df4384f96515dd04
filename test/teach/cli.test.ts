/**
 * dsrlb explain as a command: exit codes, JSON, files; and the diagrams in docs/img are exactly what
 * the commands of docs/dsr-walkthrough.md ("Regenerating the diagrams") produce today.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/explain.ts';
import { CAPTURES, MAC } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function explain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

describe('dsrlb explain', () => {
  it('exit 0 on a healthy capture, 1 when a problem is found, 2 without a capture', async () => {
    expect((await explain([`${CAPTURES}healthy`, '-q'])).code).toBe(0);
    expect((await explain([`${CAPTURES}arp-problem`, '-q'])).code).toBe(1);
    expect((await explain([`${CAPTURES}offload`, '--config', `${CAPTURES}offload/ldirectord.cf`, '-q'])).code).toBe(1);
    expect((await explain([])).code).toBe(2);
  });

  it('prints JSON with roles, flows and findings; names the testbed hosts unless --no-names', async () => {
    const r = await explain([`${CAPTURES}arp-problem/client.pcap`, `${CAPTURES}arp-problem/www3.pcap`, '--json']);
    const j = JSON.parse(r.out);
    expect(j.roles.vips).toEqual(['192.168.0.10']);
    expect(j.roles.hosts.find((h: { mac: string }) => h.mac === MAC.www3).name).toBe('www3');
    expect(j.findings.map((f: { code: string }) => f.code)).toContain('arp-multiple-macs');
    expect(j.flows[0].arrows[0]).toHaveProperty('seenAt');
    const bare = JSON.parse((await explain([`${CAPTURES}healthy`, '--json', '--no-names'])).out);
    expect(bare.roles.hosts.every((h: { name: string | null }) => h.name === null)).toBe(true);
  });

  it('writes the SVG and the HTML page; refuses a flow that does not exist', async () => {
    const svg = join(tmp, 'x.svg');
    const html = join(tmp, 'x.html');
    const r = await explain([`${CAPTURES}healthy`, '--flow', '2', '--svg', svg, '--html', html]);
    expect(r.out).toContain(`wrote ${svg}`);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg xmlns/);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    await expect(explain([`${CAPTURES}healthy`, '--flow', '9'])).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(explain([join(tmp, 'nothing-here')])).rejects.toMatchObject({ code: 'E_PCAP_READ' });
  });
});

describe('docs/img is up to date', () => {
  const md = readFileSync(join(ROOT, 'docs/dsr-walkthrough.md'), 'utf8');
  const cmds = [...md.matchAll(/^dsrlb explain \$F\/(\S+) (.*) --svg (docs\/img\/\S+\.svg) -q$/gm)];

  it('the walkthrough lists the commands of every image', () => {
    expect(cmds.length).toBe(10);
  });

  it.each(cmds.map((m) => [m[3]!, m[1]!, m[2]!]))('%s', async (file, scenario, opts) => {
    const out = join(tmp, file.replaceAll('/', '_'));
    await explain([`${CAPTURES}${scenario}`, ...opts.trim().split(/\s+/), '--svg', out, '-q']);
    expect(readFileSync(out, 'utf8'), `regenerate ${file} (docs/dsr-walkthrough.md)`).toBe(readFileSync(join(ROOT, file), 'utf8'));
  });
});
