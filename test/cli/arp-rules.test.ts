/** dsrlb arp-rules with --vip6: what it prints, the commands it runs, and the arguments it refuses. */
import { describe, expect, it } from 'vitest';
import { ndpApplyCommands, ndpRemoveCommands, run as arpRules } from '../../src/cli/commands/arp-rules.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
}

describe('dsrlb arp-rules --vip6', () => {
  it('prints the nft ip6 table for the VIP6 alone, and after the IPv4 rules when both are given', async () => {
    const a = io();
    expect(await arpRules(['--vip6', '2001:db8::10', '--iface', 'eth0'], a.io)).toBe(0);
    const file = a.out.join('\n');
    expect(file).toMatch(/^table ip6 dsrlb_nondp \{/);
    expect(file).toContain('\t\ticmpv6 type nd-neighbor-solicit @th,64,128 0x20010db8000000000000000000000010 drop\n');
    expect(file).toContain('\t\toifname "eth0" icmpv6 type nd-neighbor-advert @th,64,128 0x20010db8000000000000000000000010 drop\n');
    const b = io();
    expect(await arpRules(['--vip', '192.168.0.10', '--rip', '192.168.0.7', '--vip6', '2001:db8::10', '--iface', 'eth0'], b.io)).toBe(0);
    expect(b.out[0]).toBe('-A IN -d 192.168.0.10 -j DROP\n-A OUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.7');
    expect(b.out[1]).toBe('');
    expect(b.out[2]).toBe(file);
    const c = io();
    expect(await arpRules(['--vip6', '2001:db8::10', '--iface', 'eth0', '--format', 'nft'], c.io)).toBe(0);
    expect(c.out.join('\n')).toBe(file);
  });

  it('apply deletes any old table first, then adds; remove deletes and tolerates absence', () => {
    const cmds = ndpApplyCommands({ vip6: '2001:db8::10', iface: 'eth0' });
    expect(cmds[0]).toEqual({ argv: ['nft', 'delete', 'table', 'ip6', 'dsrlb_nondp'], mayFail: true });
    expect(cmds.slice(1).every((c) => c.argv[0] === 'nft' && c.argv[1] === 'add' && !c.mayFail)).toBe(true);
    expect(cmds).toHaveLength(6);
    expect(ndpRemoveCommands()).toEqual([{ argv: ['nft', 'delete', 'table', 'ip6', 'dsrlb_nondp'], mayFail: true }]);
  });

  it('refuses bad input with a message saying what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--vip6', '2001:db8::10'], /--iface is required/],
      [['--vip6', 'nope', '--iface', 'eth0'], /--vip6: "nope" is not an IPv6 address/],
      [['--vip6', '2001:db8::10/64', '--iface', 'eth0'], /no prefix length/],
      [['--vip6', 'fe80::10', '--iface', 'eth0'], /link-local address, not a VIP6/],
      [['--vip6', 'ff02::1:ff00:10', '--iface', 'eth0'], /multicast/],
      [['--vip', '2001:db8::10', '--rip', '192.168.0.7', '--iface', 'eth0'], /--vip: 2001:db8::10 is not an IPv4 address \(an IPv6 VIP goes with --vip6\)/],
      [['--vip', '192.168.0.10', '--vip6', '2001:db8::10', '--iface', 'eth0'], /--rip is required/],
      [['--vip6', '2001:db8::10', '--iface', 'eth0', '--format', 'save'], /arptables has no IPv6/],
      [['--vip6', '2001:db8::10', '--iface', 'eth0;x'], /not an interface name/],
      [['--vip6', '2001:db8::10', '--iface', 'eth0', '--apply', '--remove'], /exclude each other/],
    ];
    for (const [argv, re] of cases) {
      await expect(arpRules(argv, io().io), argv.join(' ')).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(re) });
    }
  });
});
