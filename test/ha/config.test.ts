import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkAuthkeysMode, parseAuthkeys, parseHaCf, parseHaResources, parseHaTime, resolveHaSetup,
} from '../../src/config/index.ts';
import { ConfigErrors } from '../../src/errors/index.ts';
import { ipToString } from '../../src/model/index.ts';

const REF = fileURLToPath(new URL('../../docs/reference-setup/', import.meta.url));
const read = (n: string) => readFileSync(REF + n, 'utf8');

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigErrors) return e.errors.map((x) => `${x.line}:${x.code}`);
    throw e;
  }
  return [];
}

describe('ha.cf', () => {
  it('the seed file, with heartbeat defaults', () => {
    const c = parseHaCf(read('ha.cf'), 'ha.cf');
    expect(c.keepaliveMs).toBe(1000);
    expect(c.deadtimeMs).toBe(30_000);
    expect(c.warntimeMs).toBe(15_000);
    expect(c.initdeadMs).toBe(30_000);
    expect(c.udpport).toBe(694);
    expect(c.nodes).toEqual(['www1.example.com', 'www2.example.com']);
    expect(c.autoFailback).toBe('off');
    expect(c.logfacility).toBe('local0');
    expect(c.media).toEqual([{ kind: 'ucast', line: 3, iface: 'eth0', addr: 0xc0a80008 }]);
    expect(c.respawn).toEqual([{ line: 7, user: 'hacluster', command: '/usr/lib/heartbeat/ipfail' }]);
    expect(c.warnings.map((w) => `${w.line}:${w.code}`)).toEqual(['7:W_HA_UNSUPPORTED']);
  });

  it('time forms: seconds, decimals, ms, s, us', () => {
    expect(parseHaTime('30')).toBe(30_000);
    expect(parseHaTime('1.5')).toBe(1500);
    expect(parseHaTime('300ms')).toBe(300);
    expect(parseHaTime('2s')).toBe(2000);
    expect(parseHaTime('500000us')).toBe(500);
    expect(parseHaTime('abc')).toBeNull();
    expect(parseHaTime('-1')).toBeNull();
  });

  it('fast timers, bcast/mcast/ucast, auto_failback forms', () => {
    const c = parseHaCf(
      'keepalive 100ms\ndeadtime 300ms\nwarntime 200ms\ninitdead 1\nudpport 6940\nbcast eth0 eth1\nmcast eth0 225.0.0.1 694 1 0\nucast eth0 10.0.0.1 10.0.0.2\nnode a b\nauto_failback on\n',
      'x',
    );
    expect([c.keepaliveMs, c.deadtimeMs, c.warntimeMs, c.initdeadMs, c.udpport]).toEqual([100, 300, 200, 1000, 6940]);
    expect(c.media.map((m) => m.kind)).toEqual(['bcast', 'bcast', 'mcast', 'ucast', 'ucast']);
    expect(c.autoFailback).toBe('on');
    expect(c.warnings).toEqual([]);
    expect(parseHaCf('ucast eth0 1.2.3.4\nnode a b\nauto_failback legacy', 'x').autoFailback).toBe('legacy');
    const unset = parseHaCf('ucast eth0 1.2.3.4\nnode a b', 'x');
    expect(unset.autoFailback).toBe('legacy');
    expect(unset.warnings.map((w) => w.code)).toEqual(['W_HA_AUTO_FAILBACK']);
    expect(parseHaCf('ucast eth0 1.2.3.4\nnode a b\nnice_failback on', 'x').autoFailback).toBe('off');
  });

  it('errors carry file:line, all of them in one pass', () => {
    const text = 'keepalive x\nfrobnicate 1\nucast eth0\nnode a\nnode a\nauto_failback maybe\nmcast eth0 10.0.0.1 694 1 0\n';
    expect(errorsOf(() => parseHaCf(text, 'ha.cf'))).toEqual([
      '0:E_HA_NO_MEDIA', '1:E_HA_VALUE', '2:E_HA_UNKNOWN_DIRECTIVE', '3:E_HA_SYNTAX', '5:E_HA_DUPLICATE', '6:E_HA_VALUE', '7:E_HA_VALUE',
    ]);
    expect(() => parseHaCf('frobnicate 1\nucast eth0 1.2.3.4\nnode a b', '/etc/ha.d/ha.cf')).toThrow(
      expect.objectContaining({ code: 'E_HA_UNKNOWN_DIRECTIVE', message: '/etc/ha.d/ha.cf:1: unknown directive "frobnicate"' }),
    );
  });

  it('timing rules: keepalive < deadtime, warntime < deadtime, initdead >= deadtime; three nodes refused', () => {
    expect(errorsOf(() => parseHaCf('keepalive 5\ndeadtime 2\nucast eth0 1.2.3.4\nnode a b', 'x'))).toEqual(['1:E_HA_TIMING']);
    expect(errorsOf(() => parseHaCf('deadtime 2\nwarntime 3\nucast eth0 1.2.3.4\nnode a b', 'x'))).toEqual(['2:E_HA_TIMING']);
    expect(errorsOf(() => parseHaCf('deadtime 20\ninitdead 10\nucast eth0 1.2.3.4\nnode a b', 'x'))).toEqual(['2:E_HA_TIMING']);
    expect(errorsOf(() => parseHaCf('ucast eth0 1.2.3.4\nnode a b c', 'x'))).toEqual(['2:E_HA_NODES']);
    const w = parseHaCf('deadtime 20\ninitdead 30\nucast eth0 1.2.3.4\nnode a b\nauto_failback off\nserial /dev/ttyS0', 'x');
    expect(w.warnings.map((x) => `${x.line}:${x.code}`)).toEqual(['2:W_HA_TIMING', '6:W_HA_UNSUPPORTED']);
  });

  it('never throws anything but ConfigErrors on arbitrary text', () => {
    const junk = ['', '\u0000', 'node', 'ucast', '#', '\\', 'keepalive 1 2', 'mcast a b c d e', 'auth 1', 'bcast'];
    const outcomes: unknown[] = [];
    for (const a of junk) for (const b of junk) {
      // errorsOf rethrows anything that is not ConfigErrors, which fails the test here.
      outcomes.push(errorsOf(() => parseHaCf(`${a}\n${b}`, 'x')).length > 0 ? 'ConfigErrors' : 'parsed');
    }
    // Every pair was tried, and junk without media/nodes is refused: at least one ConfigErrors.
    expect(outcomes).toHaveLength(junk.length ** 2);
    expect(outcomes).toContain('ConfigErrors');
  });
});

describe('haresources', () => {
  it('the seed file: owner www1, VIP (bare and IPaddr:: merged), ldirectord::ldirectord.cf, in order', () => {
    const r = parseHaResources(read('haresources'), 'haresources');
    expect(r.groups).toHaveLength(1);
    const g = r.groups[0]!;
    expect(g.owner).toBe('www1.example.com');
    expect(g.resources.map((x) => x.kind)).toEqual(['ip', 'ldirectord']);
    const ip = g.resources[0]!;
    expect(ip.kind === 'ip' && [ipToString(ip.addr), ip.prefixLen, ip.iface]).toEqual(['192.168.0.10', 24, 'eth0']);
    expect(g.resources[1]).toMatchObject({ kind: 'ldirectord', file: 'ldirectord.cf', line: 1 });
    expect(r.warnings.map((w) => w.code)).toEqual(['W_HA_DUPLICATE']);
  });

  it('forms and errors', () => {
    const r = parseHaResources('# c\nnode1 IPaddr2::10.0.0.5/24/eth1 ldirectord httpd::x\n', 'h');
    expect(r.groups[0]!.resources).toMatchObject([
      { kind: 'ip', agent: 'IPaddr2', prefixLen: 24, iface: 'eth1' },
      { kind: 'ldirectord', file: 'ldirectord.cf' },
      { kind: 'other', agent: 'httpd', args: ['x'] },
    ]);
    expect(errorsOf(() => parseHaResources('', 'h'))).toEqual(['0:E_HA_RESOURCE']);
    expect(errorsOf(() => parseHaResources('n IPaddr::300.1.1.1\nn2 IPaddr::1.2.3.4/40\n10.0.0.1 x\nn3 ldirectord::a::b', 'h'))).toEqual([
      '1:E_HA_RESOURCE', '2:E_HA_RESOURCE', '3:E_HA_SYNTAX', '4:E_HA_RESOURCE',
    ]);
  });

  it('IPv6addr: the VIP6 moves with the group; a compressed address is read whole and warned about (heartbeat splits at ::)', () => {
    const r = parseHaResources('www1 192.168.0.10 IPv6addr::2001:db8:0:0:0:0:0:10/64/eth0 IPv6addr::2001:db8::11 ldirectord\n', 'h');
    expect(r.groups[0]!.resources).toMatchObject([
      { kind: 'ip' },
      { kind: 'ip6', agent: 'IPv6addr', addr6: '2001:db8::10', prefixLen: 64, iface: 'eth0' },
      { kind: 'ip6', addr6: '2001:db8::11', prefixLen: null, iface: null },
      { kind: 'ldirectord' },
    ]);
    expect(r.warnings.map((w) => `${w.line}:${w.code}`)).toEqual(['1:W_HA_RESOURCE']);
    expect(r.warnings[0]!.message).toContain('write it in full (2001:db8:0:0:0:0:0:11)');
    expect(errorsOf(() => parseHaResources('n IPv6addr::2001:db8::10/129\nn2 IPv6addr::ff02::1\nn3 IPv6addr::10.0.0.1', 'h'))).toEqual([
      '1:E_HA_RESOURCE', '2:E_HA_RESOURCE', '3:E_HA_RESOURCE',
    ]);
    const setup = resolveHaSetup(parseHaCf('node www1\nnode www2\nbcast eth0\n', 'ha.cf'), r, parseAuthkeys('auth 1\n1 crc\n', 'authkeys'), 'www2');
    expect(setup.ips6.map((x) => x.addr6)).toEqual(['2001:db8::10', '2001:db8::11']);
  });
});

describe('authkeys', () => {
  it('the seed file: auth 2, sha1', () => {
    const a = parseAuthkeys(read('authkeys'), 'authkeys');
    expect(a.active).toMatchObject({ index: 2, method: 'sha1', key: 'xxxxxxxx', line: 2 });
    expect(a.keys.size).toBe(1);
  });

  it('crc, md5, sha256; errors', () => {
    const a = parseAuthkeys('auth 3\n1 crc\n2 md5 secret two\n3 sha256 k', 'a');
    expect([...a.keys.values()].map((k) => [k.method, k.key])).toEqual([['crc', ''], ['md5', 'secret two'], ['sha256', 'k']]);
    expect(parseAuthkeys('auth 1\n1 crc', 'a').warnings.map((w) => w.code)).toEqual(['W_HA_AUTH_CRC']);
    expect(errorsOf(() => parseAuthkeys('1 sha1 k', 'a'))).toEqual(['0:E_HA_AUTH_SYNTAX']);
    expect(errorsOf(() => parseAuthkeys('auth 2\n1 sha1 k', 'a'))).toEqual(['1:E_HA_AUTH_KEY']);
    expect(errorsOf(() => parseAuthkeys('auth 1\n1 des k\n2 sha1\nx y', 'a'))).toEqual(['1:E_HA_AUTH_KEY', '2:E_HA_AUTH_METHOD', '3:E_HA_AUTH_KEY', '4:E_HA_AUTH_SYNTAX']);
  });

  it('mode 600 or refused', () => {
    expect(() => checkAuthkeysMode(0o100600, 'a')).not.toThrow();
    expect(() => checkAuthkeysMode(0o100400, 'a')).not.toThrow();
    expect(errorsOf(() => checkAuthkeysMode(0o100644, 'a'))).toEqual(['0:E_HA_AUTHKEYS_MODE']);
    expect(() => checkAuthkeysMode(0o100640, '/etc/ha.d/authkeys')).toThrow(/authkeys:0: mode 640/);
  });
});

describe('resolveHaSetup', () => {
  const hacf = parseHaCf(read('ha.cf'), 'ha.cf');
  const res = parseHaResources(read('haresources'), 'haresources');
  const auth = parseAuthkeys(read('authkeys'), 'authkeys');
  it('seen from www2: peer www1, preferred www1', () => {
    const s = resolveHaSetup(hacf, res, auth, 'www2.example.com');
    expect([s.self, s.peer, s.preferred, s.ldirectord, s.ips.length]).toEqual(['www2.example.com', 'www1.example.com', 'www1.example.com', 'ldirectord.cf', 1]);
  });
  it('unknown node name refused', () => {
    expect(errorsOf(() => resolveHaSetup(hacf, res, auth, 'www9'))).toEqual(['0:E_HA_NODE']);
  });
});
