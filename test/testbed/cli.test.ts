import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/testbed.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
}

describe('dsrlb testbed (argument handling, no root needed)', () => {
  it('prints help', async () => {
    const t = io();
    expect(await run(['--help'], t.io)).toBe(0);
    expect(t.out.join('\n')).toMatch(/dsrlb testbed <up\|down\|status\|capture>/);
  });

  it('rejects a missing or unknown subcommand, a bad style and unknown options with exit 2', async () => {
    for (const argv of [[], ['sideways'], ['up', 'down'], ['up', '--arp-style', 'magic'], ['status', '--bogus']]) {
      const t = io();
      expect(await run(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err.length).toBeGreaterThan(0);
    }
  });

  it('rejects a bad prefix with a typed error (exit 1)', async () => {
    const t = io();
    expect(await run(['up', '--dry-run', '--prefix', 'Bad-Prefix'], t.io)).toBe(1);
    expect(t.err.join('\n')).toMatch(/E_TESTBED_PREFIX/);
  });

  it('--dry-run prints the plan with the prefix applied, runs nothing', async () => {
    const t = io();
    expect(await run(['up', '--dry-run', '--prefix', 'dry1', '--arp-style', 'sysctl'], t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toMatch(/\[root\] create namespace dry1-lan: ip netns add dry1-lan/);
    expect(text).toMatch(/arp_ignore=1/);
    expect(text).not.toMatch(/arptables -A/);
  });
});
