import { describe, expect, it } from 'vitest';
import { ecmpNamespaces, ecmpTopology, parseBirdProtocols, parseNextHops, planEcmpSteps, planSteps, referenceTopology, routerBirdConfig } from '../../src/testbed/index.ts';
import { thrown } from '../helpers/thrown.ts';

const topo = (n: number) => ecmpTopology({ prefix: 'dsrg', directors: n, httpdCommand: ['httpd'], stateDir: '/run/x/dsrg' });

describe('ECMP testbed plan (pure)', () => {
  it('namespaces: lan, router, client, d1..dN, www1..3', () => {
    expect(ecmpNamespaces(topo(3))).toEqual(['dsrg-lan', 'dsrg-router', 'dsrg-client', 'dsrg-d1', 'dsrg-d2', 'dsrg-d3', 'dsrg-www1', 'dsrg-www2', 'dsrg-www3']);
  });

  it('only `ip netns add` runs in the root namespace; interface names fit 15 characters', () => {
    const steps = planEcmpSteps(topo(4));
    for (const s of steps.filter((x) => x.ns === null)) expect(s.argv.slice(0, 3)).toEqual(['ip', 'netns', 'add']);
    for (const s of steps) {
      const i = s.argv.indexOf('add');
      if (s.argv[0] === 'ip' && s.argv[1] === 'link' && i === 2) expect(s.argv[3]!.length).toBeLessThanOrEqual(15);
    }
  });

  it('the router forwards with L4 ECMP hashing and runs BIRD; directors hold no VIP, reals hold it on lo with ARP suppressed', () => {
    const steps = planEcmpSteps(topo(2));
    const router = steps.find((s) => s.id === 'sysctl:router')!;
    expect(router.argv).toContain('net.ipv4.fib_multipath_hash_policy=1');
    expect(router.argv).toContain('net.ipv4.ip_forward=1');
    expect(steps.find((s) => s.id === 'bird:router')!.argv.slice(0, 1)).toEqual(['bird']);
    expect(steps.filter((s) => s.id.startsWith('vip:')).map((s) => s.ns)).toEqual(['dsrg-www1', 'dsrg-www2', 'dsrg-www3']);
    expect(steps.filter((s) => s.id.startsWith('arp-sysctl:')).map((s) => s.ns)).toEqual(['dsrg-www1', 'dsrg-www2', 'dsrg-www3']);
    expect(steps.some((s) => s.ns?.startsWith('dsrg-d') && s.argv.includes('192.168.0.10/32'))).toBe(false);
    expect(steps.filter((s) => s.kind === 'daemon').map((s) => s.id)).toEqual(['httpd:www1', 'httpd:www2', 'httpd:www3']);
  });

  it('the router peers with every director', () => {
    const conf = routerBirdConfig(topo(3));
    expect(conf).toContain('neighbor 192.168.0.21 as 65001');
    expect(conf).toContain('neighbor 192.168.0.23 as 65001');
    expect(conf).not.toContain('192.168.0.24');
  });

  it('refuses 0 or 5 directors', () => {
    expect(thrown(() => topo(0))).toMatchObject({ code: 'E_TESTBED_TOPOLOGY' });
    expect(thrown(() => topo(5))).toMatchObject({ code: 'E_TESTBED_TOPOLOGY' });
  });

  it('the reference plan is unchanged by the ECMP topology (no router, no BIRD)', () => {
    const ref = planSteps(referenceTopology({ prefix: 'dsrg', arpStyle: 'arptables', httpdCommand: ['h'], stateDir: '/s' }));
    expect(ref.some((s) => s.id.includes('router') || s.argv[0] === 'bird')).toBe(false);
    expect(ref.filter((s) => s.id.startsWith('netns:')).map((s) => s.id)).toEqual(['netns:lan', 'netns:client', 'netns:www1', 'netns:www2', 'netns:www3']);
  });
});

describe('status parsers', () => {
  it('birdc show protocols -> BGP sessions', () => {
    const text = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     04:34:06.469  
dsrlb_kernel Kernel     master4    up     04:34:06.469  
d1         BGP        ---        up     04:34:33.653  Established   
d2         BGP        ---        start  04:34:33.192  Active        Socket: Connection refused
`;
    expect(parseBirdProtocols(text)).toEqual([
      { name: 'd1', state: 'up', info: 'Established' },
      { name: 'd2', state: 'start', info: 'Socket: Connection refused' },
    ]);
  });

  it('ip route show VIP -> next hops', () => {
    expect(parseNextHops('192.168.0.10 proto bird metric 32 \n\tnexthop via 192.168.0.23 dev eth0 weight 1 \n\tnexthop via 192.168.0.21 dev eth0 weight 1 \n')).toEqual(['192.168.0.21', '192.168.0.23']);
    expect(parseNextHops('192.168.0.10 via 192.168.0.22 dev eth0 proto bird metric 32 \n')).toEqual(['192.168.0.22']);
    expect(parseNextHops('')).toEqual([]);
  });
});
