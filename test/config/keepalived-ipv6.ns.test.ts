/**
 * dsrlb's verdict on the IPv6 keepalived.conf fixtures against the real keepalived's (Debian's
 * keepalived 2.2.7, `keepalived -t -f FILE`, root). keepalived runs in a namespace of its own
 * (h6e…), which has an eth0 (one end of a veth pair) for the vrrp_instance fixtures. `-t` only
 * reads the configuration; nothing is sent.
 *
 * For each fixture: keepalived accepts it (exit 0, no complaint) or complains with the line and
 * the words recorded here; and wherever keepalived complains, dsrlb refuses the file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAsRoot } from '../helpers/root.ts';
import { kaErrors, text } from './keepalived-ipv6-helpers.ts';

const NS = `h6e-ka${process.pid % 1000}`;
const DIR = fileURLToPath(new URL('../fixtures/keepalived/ipv6/', import.meta.url));

/** keepalived's complaint (line, words) or null for "accepted"; and whether dsrlb accepts. */
const CASES: Array<[string, { line: number; says: string } | null, boolean]> = [
  ['dr6.conf', null, true],
  ['group6.conf', null, true],
  ['brackets6.conf', { line: 2, says: 'Invalid virtual server IP address/port [2001:db8::10]/80 - skipping' }, false],
  ['mixed-real6.conf', { line: 9, says: "Address family of virtual server and real server 192.168.0.22 don't match - skipping real server." }, false],
  ['mixed-sorry6.conf', { line: 9, says: "Address family of virtual server and sorry server 192.168.0.99 don't match - skipping sorry server." }, false],
  ['family6.conf', { line: 6, says: 'Virtual server specified family inet6 conflicts with server family' }, false],
  ['vrrp-mixed6.conf', { line: 10, says: '(VI_1): address family must match VRRP instance [2001:db8::10/64] - ignoring' }, false],
  // keepalived takes these; dsrlb refuses them (docs/ipv6.md says why).
  ['persist6.conf', null, false],
  ['range6.conf', null, false],
  ['vrrp6.conf', null, false],
];

const have = spawnSync('keepalived', ['-v'], { encoding: 'utf8' }).status === 0;

function keepalivedCheck(file: string): { code: number; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'keepalived', '-t', '-l', '-D', '-f', file], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describeAsRoot('IPv6 keepalived.conf: dsrlb against keepalived -t', () => {
  beforeAll(() => {
    if (!have) throw new Error('keepalived is not installed (Debian package keepalived): this test compares with it');
    if (existsSync(`/run/netns/${NS}`)) execFileSync('ip', ['netns', 'del', NS]);
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'eth0', 'up']);
  });
  afterAll(() => {
    if (existsSync(`/run/netns/${NS}`)) execFileSync('ip', ['netns', 'del', NS]);
  });

  it.each(CASES)('%s', (name, complaint, dsrlbAccepts) => {
    const ka = keepalivedCheck(`${DIR}${name}`);
    if (complaint === null) {
      expect(ka.out).not.toMatch(/Line \d+\)/);
      expect(ka.code).toBe(0);
    } else {
      expect(ka.out).toContain(`${name}: Line ${complaint.line}) ${complaint.says}`);
      expect(ka.code).not.toBe(0);
    }
    const errs = kaErrors(text(name));
    expect(errs.length === 0).toBe(dsrlbAccepts);
    // Never accept silently what keepalived skips.
    if (complaint !== null) expect(errs.length).toBeGreaterThan(0);
  });
});
