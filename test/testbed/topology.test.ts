import { describe, expect, it } from 'vitest';
import {
  ARP_STYLES,
  arpSysctls,
  describeSteps,
  planSteps,
  referenceTopology,
  undoPlan,
  type ArpStyle,
  type Step,
} from '../../src/testbed/topology.ts';
import { allNamespaces, checkPrefix, CLIENT_ADDR6, hostMac, hostNamespace, REALS, REALS6, VIP, VIP6 } from '../../src/testbed/addresses.ts';
import { nftNdpCommands } from '../../src/testbed/ndp-rules.ts';

const CMD = ['/usr/bin/node', '--import', 'file:///x/tsx/loader.mjs', '/x/src/testbed/httpd.ts'];

function plan(prefix = 'dsr', arpStyle: ArpStyle = 'arptables'): Step[] {
  return planSteps(referenceTopology({ prefix, arpStyle, httpdCommand: CMD, stateDir: `/run/dsrlb-testbed/${prefix}` }));
}

const ids = (steps: Step[]): string[] => steps.map((s) => s.id);

describe('reference topology plan', () => {
  it('creates the five namespaces first, in the root namespace, and nothing else there', () => {
    const steps = plan('dsr');
    const root = steps.filter((s) => s.ns === null);
    expect(root.map((s) => s.argv.join(' '))).toEqual([
      'ip netns add dsr-lan',
      'ip netns add dsr-client',
      'ip netns add dsr-www1',
      'ip netns add dsr-www2',
      'ip netns add dsr-www3',
    ]);
    expect(steps.slice(0, 5)).toEqual(root);
    for (const s of root) expect(s.undo).toEqual({ kind: 'exec', ns: null, argv: ['ip', 'netns', 'del', s.argv[3]] });
  });

  it('has the expected order of steps for the reference topology (arptables style)', () => {
    const want: string[] = [
      'netns:lan', 'netns:client', 'netns:www1', 'netns:www2', 'netns:www3',
      'ipv6-off:lan', 'bridge:add', 'bridge:up',
      'ipv6-off:client', 'lo-up:client', 'veth:client', 'port:client', 'port-up:client', 'offload:client', 'addr:client', 'up:client',
    ];
    for (const h of ['www1', 'www2', 'www3']) {
      want.push(`ipv6-off:${h}`, `lo-up:${h}`, `veth:${h}`, `port:${h}`, `port-up:${h}`);
      if (h !== 'www3') want.push(`offload:${h}`);
      want.push(`arp-sysctl:${h}`, `arptables:${h}:0`, `arptables:${h}:1`, `vip:${h}`, `addr:${h}`, `up:${h}`);
    }
    want.push('httpd:www1', 'httpd:www2', 'httpd:www3');
    expect(ids(plan())).toEqual(want);
  });

  it('every step runs in a namespace of its own prefix, and every argument naming a namespace carries it', () => {
    for (const prefix of ['dsr', 'dsrt1234', 'abc']) {
      const mine = new Set(allNamespaces(prefix));
      for (const s of plan(prefix)) {
        if (s.ns !== null) expect(mine.has(s.ns), `${s.id} in ${s.ns}`).toBe(true);
        const netnsArg = s.argv.indexOf('netns');
        if (netnsArg >= 0 && s.argv[0] === 'ip') {
          const target = s.argv[0] === 'ip' && s.argv[1] === 'netns' ? s.argv[3] : s.argv[netnsArg + 1];
          expect(mine.has(target!), `${s.id}: ${s.argv.join(' ')}`).toBe(true);
        }
        if (s.undo && s.undo.kind === 'exec' && s.undo.ns !== null) expect(mine.has(s.undo.ns)).toBe(true);
        if (s.undo && s.undo.kind === 'stop-daemon') expect(mine.has(s.undo.ns)).toBe(true);
      }
      // No other prefix leaks in.
      const text = JSON.stringify(plan(prefix));
      for (const other of ['dsr', 'dsrt1234', 'abc'].filter((p) => p !== prefix && !prefix.startsWith(p))) {
        expect(text.includes(`${other}-`)).toBe(false);
      }
    }
  });

  it('creates veth pairs from inside the LAN namespace, the host end moved straight into its namespace', () => {
    const veths = plan('dsr').filter((s) => s.id.startsWith('veth:'));
    expect(veths).toHaveLength(4);
    for (const v of veths) {
      const host = v.id.slice(5) as 'client' | 'www1';
      expect(v.ns).toBe('dsr-lan');
      expect(v.argv).toEqual([
        'ip', 'link', 'add', `to-${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'address', hostMac(host), 'netns', `dsr-${host}`,
      ]);
      expect(`to-${host}`.length).toBeLessThanOrEqual(15);
    }
  });

  it('gives the reference addresses: VIP on lo of every real, own /24 on eth0, client .100', () => {
    const steps = plan();
    const addr = (id: string): string => steps.find((s) => s.id === id)!.argv.join(' ');
    expect(addr('addr:client')).toBe('ip addr add 192.168.0.100/24 dev eth0');
    for (const [h, ip] of Object.entries(REALS)) {
      expect(addr(`addr:${h}`)).toBe(`ip addr add ${ip}/24 dev eth0`);
      expect(addr(`vip:${h}`)).toBe(`ip addr add ${VIP}/32 dev lo`);
    }
    expect(steps.some((s) => s.id === 'vip:client')).toBe(false);
  });

  it('suppresses ARP before the VIP is added and before eth0 comes up', () => {
    for (const style of ARP_STYLES) {
      const order = ids(plan('dsr', style));
      for (const h of ['www1', 'www2', 'www3']) {
        const sup = order.indexOf(`arp-sysctl:${h}`);
        expect(sup).toBeGreaterThan(0);
        expect(sup).toBeLessThan(order.indexOf(`vip:${h}`));
        expect(order.indexOf(`vip:${h}`)).toBeLessThan(order.indexOf(`up:${h}`));
        if (style === 'arptables') expect(order.indexOf(`arptables:${h}:1`)).toBeLessThan(order.indexOf(`vip:${h}`));
        else expect(order.some((i) => i.startsWith('arptables:'))).toBe(false);
        if (style === 'nft') expect(order.indexOf(`nft-arp:${h}:4`)).toBeLessThan(order.indexOf(`vip:${h}`));
        else expect(order.some((i) => i.startsWith('nft-arp:'))).toBe(false);
      }
    }
  });

  it('renders the seed rules per host, mangling to the host’s own address, with -D as undo', () => {
    const steps = plan();
    const a = steps.filter((s) => s.id.startsWith('arptables:www2'));
    expect(a.map((s) => s.argv.join(' '))).toEqual([
      'arptables -A INPUT -d 192.168.0.10 -j DROP',
      'arptables -A OUTPUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.8',
    ]);
    expect(a.map((s) => s.undo && s.undo.kind === 'exec' && s.undo.argv.join(' '))).toEqual([
      'arptables -D INPUT -d 192.168.0.10 -j DROP',
      'arptables -D OUTPUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.8',
    ]);
  });

  it('nft style: an arp-family table per real, removed as a whole on undo', () => {
    const steps = plan('dsr', 'nft').filter((s) => s.id.startsWith('nft-arp:www3'));
    expect(steps.map((s) => s.argv.join(' '))).toEqual([
      'nft add table arp dsrlb_noarp',
      'nft add chain arp dsrlb_noarp in { type filter hook input priority 0; }',
      'nft add rule arp dsrlb_noarp in arp daddr ip 192.168.0.10 drop',
      'nft add chain arp dsrlb_noarp out { type filter hook output priority 0; }',
      'nft add rule arp dsrlb_noarp out oifname eth0 arp saddr ip 192.168.0.10 arp saddr ip set 192.168.0.9',
    ]);
    expect(steps.map((s) => s.undo)).toEqual([{ kind: 'exec', ns: 'dsr-www3', argv: ['nft', 'delete', 'table', 'arp', 'dsrlb_noarp'] }, null, null, null, null]);
  });

  it('sysctl style: arp_ignore=1 arp_announce=2; arptables style pins them to 0', () => {
    expect(arpSysctls('sysctl', 'eth0')).toEqual([
      'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2',
    ]);
    const s = plan('dsr', 'arptables').find((x) => x.id === 'arp-sysctl:www1')!;
    expect(s.argv.slice(3)).toEqual(arpSysctls('arptables', 'eth0'));
    expect(s.argv.slice(3).every((x) => x.endsWith('=0'))).toBe(true);
  });

  it('turns checksum offload off on the client and all offloads off on the directors, none on www3', () => {
    const steps = plan();
    const off = (h: string): string | undefined => steps.find((s) => s.id === `offload:${h}`)?.argv.join(' ');
    expect(off('client')).toBe('ethtool -K eth0 tx off tso off gso off');
    expect(off('www1')).toBe('ethtool -K eth0 tx off tso off gso off gro off');
    expect(off('www2')).toBe('ethtool -K eth0 tx off tso off gso off gro off');
    expect(off('www3')).toBeUndefined();
  });

  it('adds no static neighbour entries and no routes beyond the connected /24', () => {
    for (const s of plan()) {
      expect(s.argv.includes('neigh') || s.argv.includes('neighbor') || s.argv.includes('arp')).toBe(false);
      expect(s.argv[0] === 'ip' && s.argv[1] === 'route').toBe(false);
    }
  });

  it('starts one tagged web server per real, with its own certificate, undone by stopping it', () => {
    const d = plan('dsrt7').filter((s) => s.kind === 'daemon');
    expect(d.map((s) => [s.ns, s.host])).toEqual([['dsrt7-www1', 'www1'], ['dsrt7-www2', 'www2'], ['dsrt7-www3', 'www3']]);
    expect(d[2]!.argv).toEqual([
      ...CMD, '--name', 'www3', '--tag', 'dsrt7', '--http-port', '80', '--https-port', '443',
      '--cert', '/run/dsrlb-testbed/dsrt7/www3.crt', '--key', '/run/dsrlb-testbed/dsrt7/www3.key',
    ]);
    expect(d[0]!.undo).toEqual({ kind: 'stop-daemon', ns: 'dsrt7-www1', host: 'www1' });
  });

  it('undo plan is the reverse of the steps that have an undo, and each undo inverts its step', () => {
    const steps = plan();
    const undos = undoPlan(steps);
    const withUndo = steps.filter((s) => s.undo !== null);
    expect(undos).toEqual(withUndo.map((s) => s.undo).reverse());
    // The last undos delete the namespaces, LAN last.
    expect(undos.slice(-5).map((u) => u.kind === 'exec' && u.argv.join(' '))).toEqual([
      'ip netns del dsr-www3', 'ip netns del dsr-www2', 'ip netns del dsr-www1', 'ip netns del dsr-client', 'ip netns del dsr-lan',
    ]);
    // The first undos stop the web servers.
    expect(undos.slice(0, 3).map((u) => u.kind)).toEqual(['stop-daemon', 'stop-daemon', 'stop-daemon']);
    const inverse: Record<string, string> = { add: 'del', up: 'down', master: 'nomaster', '-A': '-D' };
    expect(undoPlan(plan('dsr', 'nft')).length).toBe(undos.length - 6 + 3); // 6 arptables -D become 3 table deletes
    for (const s of withUndo) {
      if (s.undo!.kind !== 'exec') continue;
      expect(s.undo!.ns).toBe(s.ns);
      const changed = s.argv.map((a, i) => [a, s.undo!.kind === 'exec' ? s.undo!.argv[i] : '']).filter(([a, b]) => a !== b);
      // Steps undo by flipping one verb (link add -> link del drops the trailing link options).
      expect(inverse[changed[0]![0]!], `${s.id}`).toBe(changed[0]![1]);
    }
    // Steps without an undo are settings that go away with their namespace.
    for (const s of steps.filter((x) => x.undo === null)) expect(s.ns).not.toBeNull();
  });

  it('describes each step on one line', () => {
    const lines = describeSteps(plan());
    expect(lines).toHaveLength(plan().length);
    expect(lines[0]).toBe('  1. [root] create namespace dsr-lan: ip netns add dsr-lan');
  });

  it('rejects prefixes that would make odd or colliding names', () => {
    for (const bad of ['', 'Dsr', 'dsr-a', '1dsr', 'abcdefghijklm', 'a b', '../x']) {
      expect(() => checkPrefix(bad)).toThrow(/bad testbed prefix/);
    }
    expect(hostNamespace('dsr', 'www1')).toBe('dsr-www1');
    expect(allNamespaces('x')).toEqual(['x-lan', 'x-client', 'x-www1', 'x-www2', 'x-www3']);
  });
});

describe('reference topology plan, dual-stack (--ipv6)', () => {
  const plan6 = (prefix = 'dsr', arpStyle: ArpStyle = 'arptables'): Step[] =>
    planSteps(referenceTopology({ prefix, arpStyle, httpdCommand: CMD, stateDir: `/run/dsrlb-testbed/${prefix}`, ipv6: true }));

  it('without ipv6 nothing changes: IPv6 off everywhere, no IPv6 address, no ip6 table, httpd on 0.0.0.0', () => {
    const steps = plan();
    expect(steps.filter((s) => s.id.startsWith('ipv6-off:')).map((s) => s.id)).toEqual(['ipv6-off:lan', 'ipv6-off:client', 'ipv6-off:www1', 'ipv6-off:www2', 'ipv6-off:www3']);
    expect(steps.some((s) => s.argv.includes('-6') || s.argv.includes('ip6') || s.argv.includes('::'))).toBe(false);
  });

  it('gives the /64 addresses with nodad, the VIP6 on every real\'s lo, and keeps IPv6 off only on the bridge', () => {
    const steps = plan6();
    const line = (id: string): string => steps.find((s) => s.id === id)!.argv.join(' ');
    expect(line('addr6:client')).toBe(`ip -6 addr add ${CLIENT_ADDR6}/64 dev eth0 nodad`);
    for (const [h, ip] of Object.entries(REALS6)) {
      expect(line(`addr6:${h}`)).toBe(`ip -6 addr add ${ip}/64 dev eth0 nodad`);
      expect(line(`vip6:${h}`)).toBe(`ip -6 addr add ${VIP6}/128 dev lo nodad`);
    }
    expect(steps.some((s) => s.id === 'vip6:client')).toBe(false);
    expect(line('ipv6-off:lan')).toContain('disable_ipv6=1');
    for (const h of ['client', 'www1', 'www2', 'www3']) {
      const on = line(`ipv6-on:${h}`);
      for (const k of ['all', 'default']) {
        expect(on).toContain(`net.ipv6.conf.${k}.disable_ipv6=0`);
        expect(on).toContain(`net.ipv6.conf.${k}.accept_dad=0`);
        expect(on).toContain(`net.ipv6.conf.${k}.accept_ra=0`);
      }
      expect(steps.some((s) => s.id === `ipv6-off:${h}`)).toBe(false);
      // Before eth0 exists: the new interface takes the `default` settings.
      expect(ids(steps).indexOf(`ipv6-on:${h}`)).toBeLessThan(ids(steps).indexOf(`veth:${h}`));
    }
  });

  it('drops NDP for the VIP6 on each real before the VIP6 is added and before eth0 comes up; one table delete undoes it', () => {
    for (const style of ARP_STYLES) {
      const steps = plan6('dsr', style);
      const order = ids(steps);
      for (const h of ['www1', 'www2', 'www3']) {
        const rules = steps.filter((s) => s.id.startsWith(`nft-ndp:${h}:`));
        expect(rules.map((s) => s.argv.slice(1).join(' '))).toEqual(nftNdpCommands({ vip6: VIP6, iface: 'eth0' }).map((c) => c.join(' ')));
        expect(rules[0]!.undo).toEqual({ kind: 'exec', ns: `dsr-${h}`, argv: ['nft', 'delete', 'table', 'ip6', 'dsrlb_nondp'] });
        expect(rules.slice(1).every((s) => s.undo === null)).toBe(true);
        expect(order.indexOf(`nft-ndp:${h}:4`)).toBeLessThan(order.indexOf(`vip6:${h}`));
        expect(order.indexOf(`vip6:${h}`)).toBeLessThan(order.indexOf(`up:${h}`));
        expect(order.indexOf(`addr6:${h}`)).toBeLessThan(order.indexOf(`up:${h}`));
      }
      expect(order.some((i) => i.startsWith('nft-ndp:client'))).toBe(false);
    }
  });

  it('web servers listen on :: (IPv6 and IPv4) and the undos invert the IPv6 steps', () => {
    const steps = plan6('dsrt7');
    const d = steps.filter((s) => s.kind === 'daemon');
    for (const s of d) expect(s.argv.slice(-2)).toEqual(['--host', '::']);
    for (const s of steps.filter((x) => x.id.startsWith('addr6:') || x.id.startsWith('vip6:'))) {
      expect(s.undo).toEqual({ kind: 'exec', ns: s.ns, argv: [...s.argv.slice(0, 3), 'del', ...s.argv.slice(4, -1)] });
    }
  });
});
