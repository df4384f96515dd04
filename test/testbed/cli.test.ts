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

describe('dsrlb testbed up --ipv6 (argument handling, no root needed)', () => {
  it('--dry-run --ipv6 plans the IPv6 side; without --ipv6 the plan has none', async () => {
    const t = io();
    expect(await run(['up', '--dry-run', '--ipv6', '--prefix', 'dry6'], t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toContain('[dry6-www2] www2: VIP6 2001:db8::10/128 on lo: ip -6 addr add 2001:db8::10/128 dev lo nodad');
    expect(text).toContain('[dry6-client] client: 2001:db8::100/64 on eth0: ip -6 addr add 2001:db8::100/64 dev eth0 nodad');
    expect(text).toMatch(/\[dry6-www3\] www3: nft add table ip6 dsrlb_nondp/);
    expect(text).toMatch(/--host ::/);
    const plain = io();
    expect(await run(['up', '--dry-run', '--prefix', 'dry6'], plain.io)).toBe(0);
    expect(plain.out.join('\n')).not.toMatch(/2001:db8|ip6|--host ::/);
  });

  it('refuses --ipv6 with the ECMP topology (exit 2)', async () => {
    const t = io();
    expect(await run(['up', '--ipv6', '--topology', 'ecmp', '--dry-run'], t.io)).toBe(2);
    expect(t.err.join('\n')).toMatch(/--ipv6 is for the reference topology/);
  });
});
