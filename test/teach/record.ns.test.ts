/**
 * dsrlb explain --record (root; CI runs it): builds a testbed under its own prefix, breaks it as the
 * scenario says (here: www3 answers ARP for the VIP), runs a director, records at every host,
 * tears the testbed down, and explains the recording.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/explain.ts';
import { allNamespaces, nsExists, testbedDown } from '../../src/testbed/index.ts';

const prefix = `dsrr${process.pid % 10000}`;
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-record-'));

afterAll(async () => {
  await testbedDown({ prefix });
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('explain --record', () => {
  it('records the ARP problem on a fresh testbed and finds it', async () => {
    let out = '';
    const code = await run(['--record', join(tmp, 'rec'), '--scenario', 'arp-problem', '--prefix', prefix, '--json'], {
      out: (s) => (out += s + '\n'),
      err: (s) => (out += s + '\n'),
    });
    expect(code).toBe(1);
    const j = JSON.parse(out.slice(out.indexOf('{')));
    expect(j.captures.map((c: { name: string }) => c.name)).toEqual(['client', 'www1', 'www2', 'www3']);
    expect(j.roles.source).toBe('config');
    const codes = j.findings.map((f: { code: string }) => f.code);
    expect(codes).toContain('arp-multiple-macs');
    // Which answer the client keeps is a race (www3's kernel usually wins over dsrlb in userspace),
    // so bypass-director is likely but not asserted.
    expect(allNamespaces(prefix).some(nsExists)).toBe(false);
  }, 90_000);
});
