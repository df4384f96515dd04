/**
 * The real servers' side of IPv6 on a namespace segment (root): what Linux does with Neighbor
 * Solicitations for a VIP6 (the claims of docs/arp-problem.md, "The NDP problem"), that the rules
 * `dsrlb arp-rules --vip6` renders silence a real that does answer, and that `dsrlb doctor --vip6`
 * finds such a real and its fix commands work.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { run as doctor } from '../../src/cli/commands/doctor.ts';
import { nsExec } from '../../src/testbed/index.ts';
import { describeAsRoot, itAsRoot } from '../helpers/root.ts';
import { waitFor } from '../helpers/wait.ts';
import { ADDR, MAC, VIP6, dsrlbArgv, labUp, type Lab } from './ndp-lab.ts';

const prefix = `dsn6${process.pid % 10000}`;
let lab: Lab;
const macs = (r: { answers: Array<{ mac: string }> }): string[] => r.answers.map((a) => a.mac);

async function runDoctor(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await doctor(args, { out: (s) => (out += s + '\n'), err: (s) => (out += s + '\n') });
  return { code, out };
}

/** The fix commands the doctor printed for a check (comments left out). */
function fixes(out: string, check: string): string[] {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s+(FAIL|WARN)\\s+${check}\\s`).test(l));
  const cmds: string[] = [];
  for (let j = i + 1; i >= 0 && j < lines.length && /^\s+(fix: |\s{5})/.test(lines[j]!) && !/^\s+(ok|FAIL|WARN|info)\s/.test(lines[j]!); j++) {
    const c = lines[j]!.replace(/^\s+(fix: )?/, '');
    if (!c.startsWith('#')) cmds.push(c);
  }
  return cmds;
}

describeAsRoot('NDP for a VIP6 on Linux real servers', () => {
  beforeAll(async () => {
    lab = await labUp(prefix);
  }, 60_000);
  afterAll(async () => {
    await lab?.down();
  }, 60_000);

  itAsRoot('a real with the VIP6 on lo answers no NS for it, multicast or unicast to its MAC; with the VIP6 on eth0 it answers', async () => {
    await lab.sh('r1', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    expect(macs(await lab.probe('c', VIP6))).toEqual([]);
    expect(macs(await lab.probe('c', VIP6, MAC.r1))).toEqual([]);
    // The probe itself works: r1 answers for its own address.
    expect(macs(await lab.probe('c', ADDR.r1))).toEqual([MAC.r1]);
    await lab.sh('r1', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'lo']);
    await lab.sh('r1', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1]);
    await lab.sh('r1', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
  }, 60_000);

  itAsRoot('DAD: none on lo; on eth0 a second holder ends dadfailed; with nodad both answer (the NDP problem)', async () => {
    // Added together and read in one listing: the eth0 address is still tentative (the control: DAD
    // with 3 probes takes 3 s on both devices, were it to run), the lo one is not.
    await lab.sh('r2', ['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.dad_transmits=3', 'net.ipv6.conf.lo.dad_transmits=3']);
    await lab.sh('r2', ['ip', 'addr', 'add', '2001:db8::20/128', 'dev', 'eth0']);
    await lab.sh('r2', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    const both = JSON.parse(await lab.sh('r2', ['ip', '-j', '-6', 'addr', 'show'])) as Array<{ ifname: string; addr_info: Array<{ local: string; tentative?: boolean }> }>;
    const flag = (dev: string, a: string) => both.find((l) => l.ifname === dev)?.addr_info.find((x) => x.local === a)?.tentative === true;
    expect({ eth0: flag('eth0', '2001:db8::20'), lo: flag('lo', VIP6) }).toEqual({ eth0: true, lo: false });
    expect((await lab.addrs('r2', 'lo')).find((a) => a.local === VIP6)).toEqual({ local: VIP6, tentative: false, dadfailed: false });
    await lab.sh('r2', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'lo']);
    await lab.sh('r2', ['ip', 'addr', 'del', '2001:db8::20/128', 'dev', 'eth0']);
    await lab.sh('r2', ['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.dad_transmits=1', 'net.ipv6.conf.lo.dad_transmits=1']);

    await lab.sh('r1', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    await lab.sh('r2', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0']);
    const r2 = await waitFor(async () => (await lab.addrs('r2', 'eth0')).find((a) => a.local === VIP6), (a) => a?.dadfailed === true, { timeoutMs: 10_000, intervalMs: 200 }, 'r2 dadfailed');
    expect(r2).toEqual({ local: VIP6, tentative: true, dadfailed: true });
    expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1]);
    await lab.sh('r2', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    await lab.sh('r2', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1, MAC.r2]);
    await lab.sh('r2', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    await lab.sh('r1', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
  }, 60_000);

  itAsRoot('dsrlb arp-rules --vip6 rules silence a real that answers; other NDP goes on; removed, it answers again', async () => {
    await lab.sh('r1', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    try {
      expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1]);
      await lab.sh('r1', dsrlbArgv(['arp-rules', '--vip6', VIP6, '--iface', 'eth0', '--apply']));
      expect(macs(await lab.probe('c', VIP6))).toEqual([]);
      expect(macs(await lab.probe('c', VIP6, MAC.r1))).toEqual([]);
      expect(macs(await lab.probe('c', ADDR.r1))).toEqual([MAC.r1]);
      // Applying twice leaves one table, and remove takes it away.
      await lab.sh('r1', dsrlbArgv(['arp-rules', '--vip6', VIP6, '--iface', 'eth0', '--apply']));
      expect((await lab.sh('r1', ['nft', 'list', 'tables'])).match(/dsrlb_nondp/g)).toHaveLength(1);
      await lab.sh('r1', dsrlbArgv(['arp-rules', '--vip6', VIP6, '--iface', 'eth0', '--remove']));
      expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1]);

      // The printed file, loaded with nft -f, works the same; each of its two rules alone suffices.
      const file = await lab.sh('r1', dsrlbArgv(['arp-rules', '--vip6', VIP6, '--iface', 'eth0']));
      await nsInput(lab, 'r1', ['nft', '-f', '-'], file);
      expect(macs(await lab.probe('c', VIP6))).toEqual([]);
      for (const chain of ['in', 'out']) {
        await lab.sh('r1', ['nft', 'delete', 'table', 'ip6', 'dsrlb_nondp']);
        await nsInput(lab, 'r1', ['nft', '-f', '-'], file.replace(new RegExp(`\\tchain ${chain} \\{[^}]*\\}\\n`), ''));
        expect(await lab.sh('r1', ['nft', 'list', 'table', 'ip6', 'dsrlb_nondp'])).not.toContain(`chain ${chain} `);
        expect(macs(await lab.probe('c', VIP6)), `only the ${chain === 'in' ? 'out' : 'in'} chain`).toEqual([]);
      }
      await lab.sh('r1', ['nft', 'delete', 'table', 'ip6', 'dsrlb_nondp']);
      expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1]);
    } finally {
      await lab.sh('r1', ['nft', 'flush', 'ruleset']);
      await lab.sh('r1', ['ip', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    }
  }, 90_000);

  itAsRoot('dsrlb doctor --vip6 fails a real with the VIP6 on eth0 and one with a proxy-NDP entry; their fixes work', async () => {
    // d stands in for a director that answers for the VIP6 (dsrlb's packet path does not do IPv6).
    await lab.sh('d', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    await lab.sh('r1', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    await lab.sh('r2', ['ip', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    const r1 = lab.ns('r1');
    const r2 = lab.ns('r2');

    const bad = await runDoctor(['--netns', r2, '--vip6', VIP6]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/FAIL\s+vip6-on-lo\s+the VIP6 2001:db8::10 is on eth0/);
    expect(bad.out).toMatch(/FAIL\s+ndp-suppression\s+this host answers Neighbor Solicitations for the VIP6 2001:db8::10 on eth0: it is on eth0/);
    const seen = await runDoctor(['--netns', r1, '--vip6', VIP6]);
    expect(seen.code).toBe(1);
    expect(seen.out).toMatch(new RegExp(`FAIL\\s+ndp-probe\\s+2 MACs answer Neighbor Solicitations for 2001:db8::10: ${MAC.r2} ×\\d+, ${MAC.d} ×\\d+`));
    expect(seen.out).toMatch(/ok\s+ndp-suppression/);

    const cmds = fixes(bad.out, 'ndp-suppression');
    expect(cmds).toEqual([`ip netns exec ${r2} ip -6 addr del ${VIP6}/128 dev eth0`, `ip netns exec ${r2} ip -6 addr add ${VIP6}/128 dev lo`]);
    for (const c of cmds) await lab.sh('r2', c.split(' ').slice(4));
    const good = await runDoctor(['--netns', r2, '--vip6', VIP6]);
    expect(good.out).toMatch(new RegExp(`ok\\s+ndp-probe\\s+.*one MAC answers, ${MAC.d}`));
    expect(good.code).toBe(0);
    expect((await runDoctor(['--netns', r1, '--vip6', VIP6])).code).toBe(0);

    // A proxy-NDP entry makes r1 answer although the VIP6 is on lo; the doctor's alternative fix (the nft rules) stops it.
    await lab.sh('r1', ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.all.proxy_ndp=1']);
    await lab.sh('r1', ['ip', '-6', 'neigh', 'add', 'proxy', VIP6, 'dev', 'eth0']);
    expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.r1, MAC.d]);
    const proxied = await runDoctor(['--netns', r1, '--vip6', VIP6, '--no-probe']);
    expect(proxied.code).toBe(1);
    expect(proxied.out).toMatch(/FAIL\s+ndp-suppression\s+.*a proxy-NDP entry for it on eth0 \(forwarding=1, proxy_ndp=1\)/);
    expect(proxied.out).toContain(`# or: ip netns exec ${r1} dsrlb arp-rules --vip6 ${VIP6} --iface eth0 --apply`);
    await lab.sh('r1', dsrlbArgv(['arp-rules', '--vip6', VIP6, '--iface', 'eth0', '--apply']));
    expect(macs(await lab.probe('c', VIP6))).toEqual([MAC.d]);
    const ruled = await runDoctor(['--netns', r1, '--vip6', VIP6]);
    expect(ruled.out).toMatch(/ok\s+ndp-suppression\s+the kernel would answer .* but nft rules stop it: incoming NS for it dropped, outgoing NA for it dropped/);
    expect(ruled.code).toBe(0);
  }, 120_000);
});

/** Runs argv in the host's namespace with `input` on its standard input; throws unless it exits 0. */
async function nsInput(l: Lab, h: 'r1', argv: string[], input: string): Promise<void> {
  await nsExec(l.ns(h), argv, { input, check: true });
}
