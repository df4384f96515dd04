import { describe, expect, it } from 'vitest';
import { LDIRECTORD_DEFAULTS, checkPortFor, checkStringsFor, realForwardPort } from '../../src/config/index.ts';
import { parseIPv4 } from '../../src/model/index.ts';
import { cf, parse } from './helpers.ts';

const minimal = cf('virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate');

describe('global defaults (ldirectord set_defaults)', () => {
  const g = parse(minimal).globals;
  it('has every default', () => {
    expect(g).toEqual({
      checktimeout: null,
      negotiatetimeout: null,
      checkinterval: 10,
      checkcount: 1,
      failurecount: 1,
      fallback: null,
      fallback6: null,
      fallbackcommand: null,
      autoreload: false,
      callback: null,
      logfile: { raw: '/var/log/ldirectord.log', kind: 'file' },
      execute: [],
      fork: false,
      supervised: false,
      quiescent: false,
      readdquiescent: false,
      emailalert: null,
      emailalertfreq: 0,
      emailalertstatus: ['starting', 'running', 'stopping', 'reloading'],
      emailalertfrom: null,
      cleanstop: true,
      smtp: null,
      maintenancedir: null,
      lines: {},
    });
  });
  it('quiescent defaults to no, as ldirectord\'s code (not its man page) has it', () => {
    expect(LDIRECTORD_DEFAULTS.quiescent).toBe(false);
  });
});

describe('virtual defaults', () => {
  const v = parse(minimal).virtuals[0]!;
  it('has every default', () => {
    expect(v).toMatchObject({
      line: 1, protocol: 'tcp', address: parseIPv4('10.0.0.1'), port: 80, scheduler: 'wrr',
      schedFlags: { shFallback: false, shPort: false, mhFallback: false, mhPort: false },
      persistent: 0, netmask: 0xffffffff, ops: false,
      checktype: 'negotiate', checkConnects: 0, checkport: null, checkcommand: '/bin/true',
      service: 'http', serviceFromPort: true, request: '/', receive: '', virtualhost: null,
      httpmethod: 'GET', login: '', passwd: '', database: '', secret: '', load: null, monitorfile: null,
      checktimeout: 5, negotiatetimeout: 30, checkinterval: 10, checkcount: 1, failurecount: 1,
      quiescent: false, readdquiescent: false, cleanstop: true, fallback: null, fallbackcommand: null,
      emailalert: null, emailalertfreq: 0, emailalertstatus: ['starting', 'running', 'stopping', 'reloading'],
      smtp: null, lines: { real: 2 },
    });
    expect(v.fwmark).toBeUndefined();
  });
  it('real defaults: weight 1, gate (also when the method is left out), no thresholds', () => {
    const r = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2')).virtuals[0]!.reals[0]!;
    expect(r).toEqual({ line: 2, address: parseIPv4('10.0.0.2'), port: 0, method: 'gate', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  });
});

describe('derived defaults', () => {
  it.each([
    [21, 'ftp'], [25, 'smtp'], [53, 'dns'], [80, 'http'], [110, 'pop'], [119, 'nntp'], [143, 'imap'],
    [389, 'ldap'], [443, 'https'], [587, 'submission'], [993, 'imaps'], [995, 'pops'], [1521, 'oracle'],
    [1812, 'radius'], [3128, 'http_proxy'], [3306, 'mysql'], [5060, 'sip'], [5432, 'pgsql'], [8080, 'none'],
  ])('port %i -> service %s', (port, service) => {
    const v = parse(cf(`virtual=10.0.0.1:${port}`, `\treal=10.0.0.2:${port} gate`)).virtuals[0]!;
    expect(v.service).toBe(service);
    expect(v.serviceFromPort).toBe(true);
  });

  it('port 53 (or "domain") defaults to udp, other ports to tcp', () => {
    expect(parse(cf('virtual=10.0.0.1:53', '\treal=10.0.0.2 gate')).virtuals[0]!.protocol).toBe('udp');
    expect(parse(cf('virtual=10.0.0.1:domain', '\treal=10.0.0.2 gate')).virtuals[0]!.protocol).toBe('udp');
    expect(parse(cf('virtual=10.0.0.1:25', '\treal=10.0.0.2 gate')).virtuals[0]!.protocol).toBe('tcp');
  });

  it('a firewall mark has protocol fwm, port 0, service none', () => {
    const v = parse(cf('virtual=7', '\treal=10.0.0.2 gate')).virtuals[0]!;
    expect(v).toMatchObject({ protocol: 'fwm', address: null, port: 0, fwmark: 7, service: 'none' });
  });

  it('service=ftp logs in as anonymous unless login= is given', () => {
    expect(parse(cf('virtual=10.0.0.1:21', '\treal=10.0.0.2 gate')).virtuals[0]!.login).toBe('anonymous');
    expect(parse(cf('virtual=10.0.0.1:21', '\tlogin="bob"', '\treal=10.0.0.2 gate')).virtuals[0]!.login).toBe('bob');
  });

  describe('checktimeout and negotiatetimeout stand in for each other (ld_setup order)', () => {
    const t = (...lines: string[]) => {
      const v = parse(cf(...lines)).virtuals[0]!;
      return [v.checktimeout, v.negotiatetimeout];
    };
    const vs = ['virtual=10.0.0.1:80', '\treal=10.0.0.2 gate'];
    it('nothing set: 5 and 30', () => expect(t(...vs)).toEqual([5, 30]));
    it('global checktimeout only', () => expect(t('checktimeout=7', ...vs)).toEqual([7, 7]));
    it('global negotiatetimeout only', () => expect(t('negotiatetimeout=9', ...vs)).toEqual([9, 9]));
    it('both global', () => expect(t('checktimeout=7', 'negotiatetimeout=9', ...vs)).toEqual([7, 9]));
    it('virtual checktimeout beats global negotiatetimeout', () =>
      expect(t('negotiatetimeout=9', ...vs, '\tchecktimeout=3')).toEqual([3, 3]));
    it('virtual negotiatetimeout, global checktimeout', () =>
      expect(t('checktimeout=7', ...vs, '\tnegotiatetimeout=4')).toEqual([4, 4]));
    it('a global set after the virtual block still applies', () => expect(t(...vs, 'checktimeout=6')).toEqual([6, 6]));
  });

  it('per-virtual settings override the global ones', () => {
    const v = parse(cf(
      'checkcount=2', 'failurecount=3', 'quiescent=yes', 'readdquiescent=yes', 'cleanstop=no',
      'emailalert="a@b"', 'emailalertfreq=60', 'emailalertstatus=running', 'smtp=mail.example',
      'fallback=127.0.0.1:8080', 'fallbackcommand="/bin/fb"',
      'virtual=10.0.0.1:80', '\treal=10.0.0.2 gate',
      'virtual=10.0.0.1:81', '\treal=10.0.0.2 gate',
      '\tcheckcount=4', '\tfailurecount=5', '\tquiescent=no', '\treaddquiescent=no', '\tcleanstop=yes',
      '\temailalert="c@d"', '\temailalertfreq=5', '\temailalertstatus=none', '\tsmtp=mx.example',
      '\tfallback=127.0.0.2 masq', '\tfallbackcommand=/bin/other',
    )).virtuals;
    expect(v[0]).toMatchObject({
      checkcount: 2, failurecount: 3, quiescent: true, readdquiescent: true, cleanstop: false,
      emailalert: 'a@b', emailalertfreq: 60, emailalertstatus: ['running'], smtp: 'mail.example',
      fallback: { line: 10, address: parseIPv4('127.0.0.1'), port: 8080, method: 'gate' }, fallbackcommand: '/bin/fb',
    });
    expect(v[1]).toMatchObject({
      checkcount: 4, failurecount: 5, quiescent: false, readdquiescent: false, cleanstop: true,
      emailalert: 'c@d', emailalertfreq: 5, emailalertstatus: [], smtp: 'mx.example',
      fallback: { line: 25, address: parseIPv4('127.0.0.2'), port: 81, method: 'masq' }, fallbackcommand: '/bin/other',
    });
  });

  it('a global fallback without a port takes each virtual\'s port', () => {
    const v = parse(cf('fallback=127.0.0.1', 'virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', 'virtual=10.0.0.1:443', '\treal=10.0.0.2 gate')).virtuals;
    expect(v.map((x) => x.fallback?.port)).toEqual([80, 443]);
  });

  it('checkinterval inside a virtual counts only with fork=yes', () => {
    const body = ['virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\tcheckinterval=3'];
    expect(parse(cf('checkinterval=20', ...body)).virtuals[0]!.checkinterval).toBe(20);
    expect(parse(cf('checkinterval=20', 'fork=yes', ...body)).virtuals[0]!.checkinterval).toBe(3);
  });

  it('check port and strings per real (ld_checkport)', () => {
    const v = parse(cf(
      'virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\treal=10.0.0.3:8080 masq 1 "alive", "yes"', '\trequest="x"',
    )).virtuals[0]!;
    const [a, b] = v.reals;
    expect(checkPortFor(v, a!)).toBe(80); // no port on the real: the service's port (http)
    expect(checkPortFor(v, b!)).toBe(8080);
    expect(checkStringsFor(v, a!)).toEqual({ request: '/x', receive: '' });
    expect(checkStringsFor(v, b!)).toEqual({ request: '/alive', receive: 'yes' });
    expect(realForwardPort(v, a!)).toBe(80);
    expect(realForwardPort(v, b!)).toBe(8080);
    const withPort = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\tcheckport=9000')).virtuals[0]!;
    expect(checkPortFor(withPort, withPort.reals[0]!)).toBe(9000);
  });
});
