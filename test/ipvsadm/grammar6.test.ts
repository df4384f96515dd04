/**
 * ipvsadm 1.31's reading of IPv6 arguments (parse_service and process_options in its ipvsadm.c):
 * `[addr]:port`, a bare IPv6 address (no port), the refusals and their texts, the family check
 * for reals, and -M as a prefix length after an IPv6 service. No recorded ipvsadm run covers these
 * (fixtures/usage was recorded with IPv4 only), so the expectations follow ipvsadm's source.
 */
import { describe, expect, it } from 'vitest';
import { foldIPv6, parseIPv6 } from '../../src/model/index.ts';
import { IpvsadmUsageError, NO_LOOKUP, parseIpvsadmArgs, parseService, type Lookup } from '../../src/obs/index.ts';

const fold = (a: string) => foldIPv6(parseIPv6(a)!);

function refusal(argv: string[]): { code: number; message: string } {
  try {
    parseIpvsadmArgs(argv);
  } catch (e) {
    if (e instanceof IpvsadmUsageError) return { code: e.exitCode, message: e.message };
    throw e;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

const NAMES: Lookup = {
  hostAddr: (h) => (h === 'www' ? 0x0a000001 : null),
  servicePort: (s, p) => (s === 'http' && p === 'tcp' ? 80 : null),
};

describe('parse_service with IPv6', () => {
  it('[addr]:port gives the canonical address, its fold and the port', () => {
    expect(parseService('[2001:DB8:0::10]:80', 'tcp', NO_LOOKUP)).toEqual({ addr: fold('2001:db8::10'), addr6: '2001:db8::10', port: 80 });
  });

  it('a bare IPv6 address has no port, even when it ends in something that looks like one', () => {
    expect(parseService('2001:db8::10', 'tcp', NO_LOOKUP)).toEqual({ addr: fold('2001:db8::10'), addr6: '2001:db8::10', port: null });
    expect(parseService('2001:db8::10:80', 'tcp', NO_LOOKUP)?.addr6).toBe('2001:db8::10:80');
  });

  it('the port after ]: may be a service name', () => {
    expect(parseService('[2001:db8::10]:http', 'tcp', NAMES)?.port).toBe(80);
    expect(parseService('[2001:db8::10]:nosuch', 'tcp', NAMES)).toBeNull();
  });

  it('refuses [addr] without :port, text after ], a missing ], an empty port and a bad address', () => {
    for (const s of ['[2001:db8::10]', '[2001:db8::10]80', '[2001:db8::10:80', '[2001:db8::10]:', '[2001:db8::1::2]:80', '[2001:db8::g]:80', '[]:80']) {
      expect(parseService(s, 'tcp', NO_LOOKUP), s).toBeNull();
    }
  });

  it('[IPv4]:port loses its port (the text in brackets has no colon), as ipvsadm', () => {
    expect(parseService('[10.0.0.1]:80', 'tcp', NO_LOOKUP)).toEqual({ addr: 0x0a000001, port: null });
    expect(parseService('[www]:80', 'tcp', NAMES)).toEqual({ addr: 0x0a000001, port: null });
  });

  it('IPv4 forms are read as before', () => {
    expect(parseService('10.0.0.1:80', 'tcp', NO_LOOKUP)).toEqual({ addr: 0x0a000001, port: 80 });
    expect(parseService('80', 'tcp', NO_LOOKUP)).toBeNull();
  });
});

describe('ipvsadm commands with IPv6 services', () => {
  it('-A -t [VIP6]:PORT adds an IPv6 service (spec.vip is the fold; no persistence fields)', () => {
    expect(parseIpvsadmArgs(['-A', '-t', '[2001:db8::10]:80', '-s', 'rr'])).toEqual({
      cmd: 'add-service', vip6: '2001:db8::10',
      spec: { proto: 'tcp', vip: fold('2001:db8::10'), port: 80, scheduler: 'rr', schedFlags: {} },
    });
    const u = parseIpvsadmArgs(['-A', '-u', '[2001:db8::10]:53', '-s', 'mh', '-b', 'mh-port']);
    expect(u).toMatchObject({ cmd: 'add-service', vip6: '2001:db8::10', spec: { proto: 'udp', port: 53, schedFlags: { mhPort: true } } });
  });

  it('-A refuses a service without a port, and [IPv4]:PORT (its port is lost), as ipvsadm', () => {
    for (const a of ['2001:db8::10', '2001:db8::10:80', '[10.0.0.1]:80']) {
      expect(refusal(['-A', '-t', a])).toEqual({ code: 2, message: 'Zero port specified for non-persistent service' });
    }
    expect(refusal(['-A', '-t', '[2001:db8::10]'])).toEqual({ code: 2, message: 'illegal virtual server address[:port] specified' });
    expect(refusal(['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21'])).toEqual({ code: 2, message: 'illegal real server address[:port] specified' });
  });

  it('-a takes an IPv6 real; direct routing gives it the service\'s port', () => {
    expect(parseIpvsadmArgs(['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21]:8080', '-g', '-w', '3', '-x', '9'])).toEqual({
      cmd: 'add-server',
      service: { proto: 'tcp', vip: fold('2001:db8::10'), port: 80, vip6: '2001:db8::10' },
      real: { addr: fold('2001:db8::21'), addr6: '2001:db8::21', port: 80, weight: 3, uThreshold: 9, lThreshold: 0 },
    });
    expect(parseIpvsadmArgs(['-a', '-t', '[2001:db8::10]:80', '-r', '2001:db8::21'])).toMatchObject({ real: { addr6: '2001:db8::21', port: 80 } });
  });

  it('refuses a real of the other family unless tunnelling, with ipvsadm\'s text (-m too: the family check comes first)', () => {
    const msg = { code: 2, message: 'Different address family is allowed only for tunneling servers' };
    expect(refusal(['-a', '-t', '[2001:db8::10]:80', '-r', '10.0.0.2'])).toEqual(msg);
    expect(refusal(['-a', '-t', '10.0.0.1:80', '-r', '[2001:db8::21]:80'])).toEqual(msg);
    expect(refusal(['-e', '-t', '10.0.0.1:80', '-r', '2001:db8::21', '-w', '2'])).toEqual(msg);
    expect(refusal(['-a', '-t', '10.0.0.1:80', '-r', '2001:db8::21', '-m'])).toEqual(msg);
    // ipvsadm lets a tunnel cross families; dsrlb has no tunnels.
    expect(refusal(['-a', '-t', '10.0.0.1:80', '-r', '2001:db8::21', '-i']).message).toMatch(/direct routing only.*-i \(tunnelling\)/);
  });

  it('-d has no family check in ipvsadm (the kernel then finds no such real)', () => {
    expect(parseIpvsadmArgs(['-d', '-t', '[2001:db8::10]:80', '-r', '10.0.0.2'])).toEqual({
      cmd: 'delete-server', service: { proto: 'tcp', vip: fold('2001:db8::10'), port: 80, vip6: '2001:db8::10' }, addr: 0x0a000002, port: 80,
    });
    expect(parseIpvsadmArgs(['-d', '-t', '[2001:db8::10]:80', '-r', '2001:db8::21'])).toMatchObject({ addr6: '2001:db8::21', port: 80 });
  });

  it('-M after an IPv6 service is a prefix length 1..128 (atoi), before it an IPv4 mask', () => {
    expect(refusal(['-E', '-t', '[2001:db8::10]:80', '-M', '129'])).toEqual({ code: 2, message: 'illegal ipv6 netmask specified' });
    expect(refusal(['-E', '-t', '[2001:db8::10]:80', '-M', 'x'])).toEqual({ code: 2, message: 'illegal ipv6 netmask specified' });
    expect(parseIpvsadmArgs(['-E', '-t', '[2001:db8::10]:80', '-M', '64abc'])).toMatchObject({ cmd: 'edit-service', vip6: '2001:db8::10' });
    expect(refusal(['-E', '-M', 'x', '-t', '[2001:db8::10]:80'])).toEqual({ code: 2, message: 'illegal virtual server persistent mask specified' });
  });

  it('persistence on an IPv6 service is refused by dsrlb (the data path has none for IPv6)', () => {
    expect(refusal(['-A', '-t', '[2001:db8::10]:80', '-p', '60'])).toEqual({ code: 2, message: 'dsrlb ipvsadm: persistence (-p) is not offered for IPv6 services' });
  });

  it('-L, -Z and -D name an IPv6 service by vip6', () => {
    const service = { proto: 'udp', vip: fold('2001:db8::10'), port: 53, vip6: '2001:db8::10' };
    expect(parseIpvsadmArgs(['-L', '-n', '-u', '[2001:db8::10]:53'])).toMatchObject({ cmd: 'list', service });
    expect(parseIpvsadmArgs(['-Z', '-u', '[2001:db8::10]:53'])).toEqual({ cmd: 'zero', service });
    expect(parseIpvsadmArgs(['-D', '-u', '[2001:db8::10]:53'])).toEqual({ cmd: 'delete-service', service });
  });
});
