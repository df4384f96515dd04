/**
 * IPv6 services in ldirectord.cf, written as Debian's ldirectord takes them: `virtual6=[ADDR]:PORT`
 * opens the section, its reals are `real6=[ADDR]:PORT …`, its fallback `fallback6=` (global or in
 * the section); `netmask=` is a prefix length there. What ldirectord refuses (an IPv6 address in
 * `virtual=`, `real=` in a virtual6 section and the reverse, IPv6 ranges) is refused at its line;
 * persistence is refused because the dsrlb data path has none for IPv6.
 */
import { describe, expect, it } from 'vitest';
import { cf, codes, errorsOf, parse, warningsOf } from './helpers.ts';

const V6 = 'virtual6=[2001:db8::10]:80';
const R6 = '\treal6=[2001:db8::21]:80 gate';

describe('virtual6 / real6 / fallback6 into the model', () => {
  it('an IPv6 service: address null, address6 canonical, reals with address6, the file order kept', () => {
    const cfg = parse(cf(
      'fallback6=[2001:db8::99] gate',
      'virtual6=[2001:DB8:0:0::10]:443',
      '\treal6=[2001:db8::21]:443 gate',
      '\treal6=[2001:db8::22] gate 3 "/alive", "ok"',
      '\tscheduler=wlc',
      '\tprotocol=tcp',
      '\tchecktype=off',
    ));
    expect(cfg.virtuals).toHaveLength(1);
    const v = cfg.virtuals[0]!;
    expect({ address: v.address, address6: v.address6, port: v.port, protocol: v.protocol, scheduler: v.scheduler })
      .toEqual({ address: null, address6: '2001:db8::10', port: 443, protocol: 'tcp', scheduler: 'wlc' });
    expect(v.reals.map((r) => ({ a: r.address, a6: r.address6, port: r.port, w: r.weight, req: r.request, rcv: r.receive }))).toEqual([
      { a: 0, a6: '2001:db8::21', port: 443, w: 1, req: undefined, rcv: undefined },
      { a: 0, a6: '2001:db8::22', port: 0, w: 3, req: '/alive', rcv: 'ok' },
    ]);
    // The global fallback6 is the IPv6 virtual's, with the virtual's port.
    expect(v.fallback).toEqual({ line: 1, address: 0, address6: '2001:db8::99', port: 443, method: 'gate' });
    expect(cfg.globals.fallback).toBeNull();
  });

  it('a fallback6 in the section wins; the IPv4 fallback stays with IPv4 services', () => {
    const cfg = parse(cf(
      'fallback=127.0.0.1:80',
      'fallback6=[::1]:80',
      'virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate',
      V6, R6, '\tfallback6=[2001:db8::98]:8080',
      'virtual6=[2001:db8::11]:80', R6,
    ));
    const [v4, v6a, v6b] = cfg.virtuals;
    expect(v4!.fallback?.address6).toBeUndefined();
    expect(v4!.fallback?.port).toBe(80);
    expect(v6a!.fallback).toMatchObject({ address6: '2001:db8::98', port: 8080 });
    expect(v6b!.fallback).toMatchObject({ address6: '::1', port: 80 });
  });

  it('UDP on port 53 by default, as for IPv4; the same VIP6 may carry TCP and UDP', () => {
    const cfg = parse(cf('virtual6=[2001:db8::10]:53', '\treal6=[2001:db8::21]:53 gate',
      'virtual6=[2001:db8::10]:53', '\treal6=[2001:db8::21]:53 gate', '\tprotocol=tcp'));
    expect(cfg.virtuals.map((v) => v.protocol)).toEqual(['udp', 'tcp']);
  });

  it('an IPv4 and an IPv6 service side by side', () => {
    const cfg = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate', V6, R6));
    expect(cfg.virtuals.map((v) => [v.address, v.address6])).toEqual([[0x0a000001, undefined], [null, '2001:db8::10']]);
  });

  it('netmask is a prefix length; without persistent= it only warns, as for IPv4', () => {
    const cfg = parse(cf(V6, R6, '\tnetmask=64'));
    expect(cfg.virtuals[0]!.netmask6).toBe(64);
    expect(warningsOf(cf(V6, R6, '\tnetmask=64'))).toEqual(['3 W_CONFIG_IGNORED']);
  });

  it('a virtual6 section gets no warning: the live director serves it', () => {
    const cfg = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate', V6, R6));
    expect(cfg.warnings).toEqual([]);
  });

  it('realthresholds= names an IPv6 real in brackets', () => {
    const cfg = parse(cf(V6, R6, '\treal6=[2001:db8::22]:80 gate', '\trealthresholds=[2001:db8::22] 10 5'));
    expect(cfg.virtuals[0]!.reals.map((r) => [r.upperThreshold, r.lowerThreshold])).toEqual([[0, 0], [10, 5]]);
    expect(codes(cf(V6, R6, '\trealthresholds=10.0.0.2 10'))).toEqual(['3 E_CONFIG_BAD_VALUE']);
  });
});

describe('refused, with file:line', () => {
  it.each<[string, string[], string, string]>([
    ['an IPv6 address in virtual=', ['virtual=[2001:db8::1]:80'], '1 E_CONFIG_BAD_ADDRESS', 'virtual6='],
    ['an IPv6 address in real=', ['virtual=10.0.0.1:80', '\treal=[2001:db8::2]:80 gate'], '2 E_CONFIG_BAD_ADDRESS', 'real6='],
    ['real= in a virtual6 section', [V6, '\treal=10.0.0.2:80 gate'], '2 E_CONFIG_MISPLACED', 'real6='],
    ['real6= in a virtual section', ['virtual=10.0.0.1:80', R6], '2 E_CONFIG_MISPLACED', 'write real='],
    ['fallback= in a virtual6 section', [V6, R6, '\tfallback=10.0.0.9:80'], '3 E_CONFIG_MISPLACED', 'fallback6='],
    ['fallback6= in a virtual section', ['virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate', '\tfallback6=[::1]:80'], '3 E_CONFIG_MISPLACED', 'write fallback='],
    ['an IPv4 address in virtual6=', ['virtual6=10.0.0.1:80'], '1 E_CONFIG_BAD_ADDRESS', 'IPv4 address'],
    ['an IPv4 address in real6=', [V6, '\treal6=10.0.0.2:80 gate'], '2 E_CONFIG_BAD_ADDRESS', 'IPv4 address'],
    ['an IPv4 address in fallback6=', ['fallback6=127.0.0.1:80'], '1 E_CONFIG_BAD_ADDRESS', 'IPv4 address'],
    ['no brackets', ['virtual6=2001:db8::1:80'], '1 E_CONFIG_BAD_ADDRESS', 'in brackets'],
    ['a bad address', ['virtual6=[2001:db8::g]:80'], '1 E_CONFIG_BAD_ADDRESS', 'invalid IPv6 address'],
    ['three colons in a row', [V6, '\treal6=[2001:db8:::2]:80 gate'], '2 E_CONFIG_BAD_ADDRESS', 'invalid IPv6 address'],
    ['the unspecified address', ['virtual6=[::]:80'], '1 E_CONFIG_BAD_ADDRESS', 'not a usable address'],
    ['a multicast address', ['virtual6=[ff02::1]:80'], '1 E_CONFIG_BAD_ADDRESS', 'multicast'],
    ['a host name', [V6, '\treal6=[web1.example.com]:80 gate'], '2 E_CONFIG_BAD_ADDRESS', 'invalid IPv6 address'],
    ['no port on virtual6', ['virtual6=[2001:db8::1]'], '1 E_CONFIG_BAD_VALUE', 'no port'],
    ['a port out of range', ['virtual6=[2001:db8::1]:70000'], '1 E_CONFIG_BAD_VALUE', 'out of range'],
    ['text after the bracket', ['virtual6=[2001:db8::1]x80'], '1 E_CONFIG_SYNTAX', 'after the address'],
    ['an address range', [V6, '\treal6=[2001:db8::2]->[2001:db8::5]:80 gate'], '2 E_CONFIG_UNSUPPORTED', 'ranges are not supported for IPv6'],
    ['persistence', [V6, R6, '\tpersistent=300'], '3 E_CONFIG_UNSUPPORTED', 'no persistence for IPv6'],
    ['a dotted netmask', [V6, R6, '\tnetmask=255.255.255.0'], '3 E_CONFIG_BAD_VALUE', 'prefix length 1..128'],
    ['netmask 129', [V6, R6, '\tnetmask=129'], '3 E_CONFIG_BAD_VALUE', 'prefix length 1..128'],
    ['a firewall mark', ['virtual6=5'], '1 E_CONFIG_UNSUPPORTED', 'firewall-mark'],
    ['a real6 line outside a section', ['real6=[2001:db8::2]:80 gate'], '1 E_CONFIG_MISPLACED', 'virtual'],
    ['the same VIP6 twice (two spellings)', [V6, R6, 'virtual6=[2001:db8:0::10]:80', R6], '3 E_CONFIG_DUPLICATE', 'TCP [2001:db8::10]:80'],
    ['the same real6 twice', [V6, R6, '\treal6=[2001:DB8::21]:80 gate 2'], '3 E_CONFIG_DUPLICATE', 'real [2001:db8::21]:80'],
  ])('%s', (_name, lines, expected, fragment) => {
    const errs = errorsOf(cf(...lines));
    expect(errs.map((e) => `${e.line} ${e.code}`)).toEqual([expected]);
    expect(errs[0]!.message).toContain(fragment);
    expect(errs[0]!.message).toMatch(/^test\.cf:\d+: /);
  });
});
