/**
 * IPv6 in keepalived.conf: `virtual_server 2001:db8::10 80`, its real_server and sorry_server
 * lines, and virtual_server_group entries, read into the model that ldirectord's virtual6= gives
 * (address null, address6 canonical). The families must agree (keepalived skips a server of the
 * other family; dsrlb refuses it at its line), brackets are refused as keepalived 2.2 refuses them,
 * persistence on IPv6 is refused as for virtual6=, and an IPv6 VRRP address gets a clear refusal.
 * The fixtures are in test/fixtures/keepalived/ipv6/; keepalived-ipv6.ns.test.ts runs the real
 * keepalived on them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertKeepalived, formatServices, parseKeepalivedConfig, parseLdirectordConfig } from '../../src/config/index.ts';
import { kaErrors, NO_FILES, text } from './keepalived-ipv6-helpers.ts';

const parse = (src: string) => parseKeepalivedConfig(src, 'k.conf', NO_FILES);

describe('IPv6 virtual_server into the ldirectord model', () => {
  it('dr6.conf: address null, address6 canonical, reals and sorry server IPv6, the IPv4 service as before', () => {
    const c = parse(text('dr6.conf'));
    const [v6, v4] = c.lvs.virtuals;
    expect({ address: v6!.address, address6: v6!.address6, port: v6!.port, scheduler: v6!.scheduler, protocol: v6!.protocol })
      .toEqual({ address: null, address6: '2001:db8::10', port: 80, scheduler: 'wrr', protocol: 'tcp' });
    expect(v6!.reals.map((r) => [r.address, r.address6, r.port, r.weight])).toEqual([[0, '2001:db8::21', 80, 1], [0, '2001:db8::22', 80, 2]]);
    expect(v6!.fallback).toEqual({ line: 7, address: 0, address6: '2001:db8::99', port: 80, method: 'gate' });
    expect(v6!.checktype).toBe('connect');
    expect(v4!.address6).toBeUndefined();
    expect(v4!.reals[0]!.address6).toBeUndefined();
    expect(c.warnings.filter((w) => w.code === 'W_CONFIG_UNSUPPORTED')).toEqual([]); // the live director serves it
  });

  it('is the same model as the equivalent ldirectord.cf virtual6= section', () => {
    const ka = parse(text('dr6.conf')).lvs.virtuals[0]!;
    const ld = parseLdirectordConfig([
      'virtual6=[2001:db8::10]:80',
      '\treal6=[2001:db8::21]:80 gate 1',
      '\treal6=[2001:db8::22]:80 gate 2',
      '\tfallback6=[2001:db8::99]:80 gate',
      '\tscheduler=wrr',
      '\tprotocol=tcp',
      '\tchecktype=connect',
    ].join('\n') + '\n', 'l.cf').virtuals[0]!;
    const pick = (v: typeof ka) => ({
      address: v.address, address6: v.address6, port: v.port, protocol: v.protocol, scheduler: v.scheduler, persistent: v.persistent, netmask: v.netmask,
      reals: v.reals.map((r) => ({ address: r.address, address6: r.address6, port: r.port, weight: r.weight, method: r.method })),
      fallback: v.fallback && { address: v.fallback.address, address6: v.fallback.address6, port: v.fallback.port },
    });
    expect(pick(ka)).toEqual(pick(ld));
  });

  it('lists the services as ipvsadm does, IPv6 after IPv4, in brackets', () => {
    const out = formatServices(parse(text('dr6.conf')).lvs);
    expect(out).toMatch(/TCP {2}192\.168\.0\.10:80 rr[\s\S]*TCP {2}\[2001:db8::10\]:80 wrr/);
    expect(out).toContain('-> [2001:db8::22]:80');
  });

  it('converts to an ldirectord.cf with virtual6=/real6=/fallback6=, which parses back to the same services', () => {
    const conv = convertKeepalived(parse(text('dr6.conf')));
    expect(conv.ldirectordCf).toContain('virtual6=[2001:db8::10]:80');
    expect(conv.ldirectordCf).toContain('\treal6=[2001:db8::22]:80 gate 2');
    expect(conv.ldirectordCf).toContain('\tfallback6=[2001:db8::99]:80 gate');
    const back = parseLdirectordConfig(conv.ldirectordCf, 'conv.cf');
    expect(back.virtuals.map((v) => v.address6 ?? v.address)).toEqual(parse(text('dr6.conf')).lvs.virtuals.map((v) => v.address6 ?? v.address));
  });

  it('group6.conf: one IPv6 service per group line, ip_family inet6 agreeing', () => {
    const c = parse(text('group6.conf'));
    expect(c.lvs.virtuals.map((v) => [v.address, v.address6, v.port])).toEqual([[null, '2001:db8::10', 80], [null, '2001:db8::11', 80]]);
  });

  it('refuses a second virtual_server for the same IPv6 address and port', () => {
    const vs = 'virtual_server 2001:db8::10 80 {\n lb_kind DR\n protocol TCP\n real_server 2001:db8::21 80 {\n }\n}\n';
    expect(kaErrors(vs + vs.replace('2001:db8::10', '2001:DB8::0:10'))).toEqual(['7 E_CONFIG_DUPLICATE virtual_server TCP [2001:db8::10]:80 is already defined at line 1']);
  });
});

describe('what is refused, at its line', () => {
  const cases: Array<[string, RegExp[]]> = [
    ['brackets6.conf', [/^2 E_CONFIG_BAD_ADDRESS virtual_server: write the IPv6 address without brackets, as keepalived reads it: 2001:db8::10/]],
    ['mixed-real6.conf', [/^8 E_CONFIG_BAD_ADDRESS real_server 192\.168\.0\.22: an IPv4 real in an IPv6 virtual_server \(keepalived skips it/]],
    ['mixed-sorry6.conf', [/^6 E_CONFIG_BAD_ADDRESS sorry_server: an IPv4 address in an IPv6 virtual_server/]],
    ['family6.conf', [/^6 E_CONFIG_BAD_VALUE ip_family inet6 conflicts with the virtual server's IPv4 address/]],
    ['persist6.conf', [/^6 E_CONFIG_UNSUPPORTED persistence on an IPv6 virtual_server: the dsrlb data path has no persistence for IPv6/]],
    ['range6.conf', [/^3 E_CONFIG_UNSUPPORTED 2001:db8::10-12: IPv6 address ranges are not supported/]],
    ['vrrp-mixed6.conf', [/^10 E_CONFIG_UNSUPPORTED virtual_ipaddress 2001:db8::10\/64: an IPv6 address in an IPv4 vrrp_instance \(keepalived ignores it.*virtual_ipaddress_excluded/]],
    ['vrrp6.conf', [/^9 E_CONFIG_UNSUPPORTED virtual_ipaddress 2001:db8::10\/64: an IPv6 vrrp_instance \(VRRP over IPv6\) is not supported/]],
  ];
  it.each(cases)('%s', (name, want) => {
    const got = kaErrors(text(name));
    expect(got).toHaveLength(want.length);
    want.forEach((re, i) => expect(got[i]).toMatch(re));
  });

  it('a prefix length as persistence_granularity of an IPv4 service; host names; multicast', () => {
    const v4 = 'virtual_server 10.0.0.10 80 {\n lb_kind DR\n persistence_granularity 24\n real_server 10.0.0.1 80 {\n }\n}\n';
    expect(kaErrors(v4)).toEqual([expect.stringMatching(/^3 E_CONFIG_BAD_VALUE persistence_granularity 24: a prefix length is for an IPv6 service/)]);
    expect(kaErrors('virtual_server www.example 80 {\n lb_kind DR\n}\n')).toEqual([expect.stringMatching(/^1 E_CONFIG_BAD_ADDRESS virtual_server: "www.example" is not an IPv4 or IPv6 address/)]);
    expect(kaErrors('virtual_server ff02::1 80 {\n lb_kind DR\n}\n')).toEqual([expect.stringMatching(/^1 E_CONFIG_BAD_ADDRESS virtual_server: ff02::1 is a multicast address/)]);
  });

  it('a group that mixes the families', () => {
    const g = 'virtual_server_group g {\n 10.0.0.10 80\n 2001:db8::10 80\n}\nvirtual_server group g {\n lb_kind DR\n real_server 10.0.0.1 80 {\n }\n}\n';
    expect(kaErrors(g)).toEqual([expect.stringMatching(/^5 E_CONFIG_UNSUPPORTED virtual_server group g: the group mixes IPv4 and IPv6/)]);
  });
});
