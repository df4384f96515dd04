import { describe, expect, it } from 'vitest';
import { ipToString, parseIPv4 } from '../../src/model/index.ts';
import { cf, parse, warningsOf } from './helpers.ts';

const ip = (s: string) => parseIPv4(s)!;

describe('global directives', () => {
  it('reads every one of them', () => {
    const g = parse(cf(
      'checktimeout=3', 'negotiatetimeout=4', 'checkinterval=6', 'checkcount=2', 'failurecount=5',
      'fallback=127.0.0.1:80 gate', 'fallbackcommand="/usr/local/bin/fb"', 'autoreload=yes',
      'callback="/usr/local/bin/cb"', 'logfile="/var/log/dsrlb.log"', 'execute="other.cf"', 'execute=third.cf',
      'fork=yes', 'supervised=yes', 'quiescent=yes', 'readdquiescent=yes', 'emailalert="ops@example.com, oncall@example.com"',
      'emailalertfreq=300', 'emailalertstatus=starting, stopping', 'emailalertfrom="LB" <lb@example.com>',
      'cleanstop=no', 'smtp=smtp.example.com', 'maintenancedir=/etc/ha.d/maint',
    )).globals;
    expect(g).toEqual({
      checktimeout: 3, negotiatetimeout: 4, checkinterval: 6, checkcount: 2, failurecount: 5,
      fallback: { line: 6, address: ip('127.0.0.1'), port: 80, method: 'gate' }, fallback6: null,
      fallbackcommand: '/usr/local/bin/fb', autoreload: true, callback: '/usr/local/bin/cb',
      logfile: { raw: '/var/log/dsrlb.log', kind: 'file' }, execute: ['other.cf', 'third.cf'],
      fork: true, supervised: true, quiescent: true, readdquiescent: true,
      emailalert: 'ops@example.com, oncall@example.com', emailalertfreq: 300,
      emailalertstatus: ['starting', 'stopping'], emailalertfrom: '"LB" <lb@example.com>',
      cleanstop: false, smtp: 'smtp.example.com', maintenancedir: '/etc/ha.d/maint',
      lines: expect.objectContaining({ checktimeout: 1, execute: 12, maintenancedir: 23 }),
    });
  });

  it('logfile: a leading / is a file, anything else a syslog facility', () => {
    expect(parse(cf('logfile="daemon"')).globals.logfile).toEqual({ raw: 'daemon', kind: 'syslog' });
    expect(parse(cf('logfile=local7')).globals.logfile).toEqual({ raw: 'local7', kind: 'syslog' });
  });

  it('emailalertstatus: all, none, lists', () => {
    expect(parse(cf('emailalertstatus=all')).globals.emailalertstatus).toEqual(['starting', 'running', 'stopping', 'reloading']);
    expect(parse(cf('emailalertstatus=none')).globals.emailalertstatus).toEqual([]);
    expect(parse(cf('emailalertstatus=reloading,starting')).globals.emailalertstatus).toEqual(['starting', 'reloading']);
  });

  it('a bare "supervised" means yes, with a deprecation warning', () => {
    const c = parse(cf('supervised'));
    expect(c.globals.supervised).toBe(true);
    expect(c.warnings.map((w) => w.code)).toEqual(['W_CONFIG_DEPRECATED']);
  });

  it('an empty file is a valid configuration with no services', () => {
    expect(parse('').virtuals).toEqual([]);
    expect(parse('# only a comment\n\n').virtuals).toEqual([]);
  });
});

describe('virtual= forms', () => {
  it('ip:port, ip:service-name, firewall mark', () => {
    const v = parse(cf(
      'virtual=10.0.0.1:80', '\treal=10.0.0.2 gate',
      'virtual=10.0.0.1:https', '\treal=10.0.0.2 gate',
      'virtual=42', '\treal=10.0.0.2 gate',
    )).virtuals;
    expect(v.map((x) => [x.protocol, x.address && ipToString(x.address), x.port, x.fwmark])).toEqual([
      ['tcp', '10.0.0.1', 80, undefined], ['tcp', '10.0.0.1', 443, undefined], ['fwm', null, 0, 42],
    ]);
  });

  it('spaces around = and a comment after the value', () => {
    const v = parse(cf('virtual = 10.0.0.1:80   # web', '    real  =  10.0.0.2:80 gate # first')).virtuals[0]!;
    expect(v.port).toBe(80);
    expect(v.reals).toHaveLength(1);
  });

  it('port 0 is allowed with persistence (every port)', () => {
    const v = parse(cf('virtual=10.0.0.1:0', '\treal=10.0.0.2 gate', '\tpersistent=600')).virtuals[0]!;
    expect([v.port, v.persistent]).toEqual([0, 600]);
  });
});

describe('real=', () => {
  const reals = (...lines: string[]) => parse(cf('virtual=10.0.0.1:80', ...lines)).virtuals[0]!.reals;

  it('address, port, method, weight', () => {
    expect(reals('\treal=10.0.0.2:80 gate 5', '\treal=10.0.0.3:8080 masq', '\treal=10.0.0.4 ipip 0')
      .map((r) => [ipToString(r.address), r.port, r.method, r.weight])).toEqual([
      ['10.0.0.2', 80, 'gate', 5], ['10.0.0.3', 8080, 'masq', 1], ['10.0.0.4', 0, 'ipip', 0],
    ]);
  });

  it('a range A->B expands to every address, in order, on the same line', () => {
    const r = reals('\treal=192.168.0.7->192.168.0.9:80 gate 2');
    expect(r.map((x) => `${ipToString(x.address)}:${x.port} ${x.weight} @${x.line}`)).toEqual([
      '192.168.0.7:80 2 @2', '192.168.0.8:80 2 @2', '192.168.0.9:80 2 @2',
    ]);
    expect(reals('\treal=10.0.0.5->10.0.0.5 gate')).toHaveLength(1);
    expect(reals('\treal=10.0.0.255->10.0.1.1 gate')).toHaveLength(3);
  });

  it('request/receive overrides, with a comma or a blank between them', () => {
    const [a, b, c] = reals(
      '\treal=10.0.0.2:80 gate 1 "check.html", "OK"',
      '\treal=10.0.0.3:80 gate 2 "/health" "up and running"',
      '\treal=10.0.0.4:80 gate "x","y"',
    );
    expect([a!.request, a!.receive]).toEqual(['/check.html', 'OK']);
    expect([b!.request, b!.receive, b!.weight]).toEqual(['/health', 'up and running', 2]);
    expect([c!.request, c!.receive, c!.weight]).toEqual(['/x', 'y', 1]);
  });

  it('a service name as the port', () => {
    expect(reals('\treal=10.0.0.2:http gate')[0]!.port).toBe(80);
  });
});

describe('per-virtual directives', () => {
  it('reads every one of them', () => {
    const v = parse(cf(
      'fork=yes',
      'virtual=10.0.0.1:5353',
      '\treal=10.0.0.2:5353 gate',
      '\tprotocol=udp', '\tscheduler=sh', '\tschedflags=sh-port, sh-fallback', '\tpersistent=600',
      '\tnetmask=255.255.255.0', '\tops=yes', '\tchecktype=connect', '\tcheckport=8053',
      '\tcheckcommand="/usr/bin/check me"', '\tservice=dns', '\trequest="www.example.com"', '\treceive="10.0.0.9"',
      '\tvirtualhost="www.example.com"', '\thttpmethod=head', '\tlogin="u"', '\tpasswd="p"',
      '\tdatabase="db"', '\tsecret="s"', '\tload="w1"', '\tmonitorfile="/var/log/mon.log"',
      '\tchecktimeout=2', '\tnegotiatetimeout=8', '\tcheckinterval=4', '\tcheckcount=3', '\tfailurecount=2',
      '\trealthresholds=10.0.0.2 100 50',
    ));
    const x = v.virtuals[0]!;
    expect(x).toMatchObject({
      protocol: 'udp', port: 5353, scheduler: 'sh',
      schedFlags: { shPort: true, shFallback: true, mhPort: false, mhFallback: false },
      persistent: 600, netmask: ip('255.255.255.0'), ops: true, checktype: 'connect', checkport: 8053,
      checkcommand: '/usr/bin/check me', service: 'dns', serviceFromPort: false, request: '/www.example.com',
      receive: '10.0.0.9', virtualhost: 'www.example.com', httpmethod: 'HEAD', login: 'u', passwd: 'p',
      database: 'db', secret: 's', load: 'w1', monitorfile: '/var/log/mon.log',
      checktimeout: 2, negotiatetimeout: 8, checkinterval: 4, checkcount: 3, failurecount: 2,
    });
    expect(x.reals[0]).toMatchObject({ upperThreshold: 100, lowerThreshold: 50 });
    expect(x.lines.scheduler).toBe(5);
    // checkcount is deprecated (a warning), everything else is clean.
    expect(v.warnings.map((w) => `${w.line} ${w.code}`)).toEqual(['27 W_CONFIG_DEPRECATED']);
  });

  it('checktype: each word and a number N (combined)', () => {
    for (const t of ['negotiate', 'connect', 'external', 'external-perl', 'ping', 'off', 'on']) {
      expect(parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', `\tchecktype=${t}`)).virtuals[0]!.checktype).toBe(t);
    }
    const v = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\tchecktype=5')).virtuals[0]!;
    expect([v.checktype, v.checkConnects]).toEqual(['combined', 5]);
  });

  it('every scheduler dsrlb implements', () => {
    for (const s of ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'dh', 'mh']) {
      expect(parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', `\tscheduler=${s}`)).virtuals[0]!.scheduler).toBe(s);
    }
  });

  it('mh flags with mh; thresholds on a range and with only an upper limit', () => {
    const v = parse(cf(
      'virtual=10.0.0.1:80', '\treal=10.0.0.2->10.0.0.4:80 gate', '\tscheduler=mh', '\tschedflags=mh-port',
      '\trealthresholds=10.0.0.3->10.0.0.4:80 20',
    )).virtuals[0]!;
    expect(v.schedFlags).toEqual({ shFallback: false, shPort: false, mhFallback: false, mhPort: true });
    expect(v.reals.map((r) => [r.upperThreshold, r.lowerThreshold])).toEqual([[0, 0], [20, 0], [20, 0]]);
  });

  it('httpmethod is case-insensitive; virtualhost may be unquoted', () => {
    const v = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\thttpmethod=get', '\tvirtualhost=example.org')).virtuals[0]!;
    expect([v.httpmethod, v.virtualhost]).toEqual(['GET', 'example.org']);
  });
});

describe('layout: quoting, comments, indentation, line ends', () => {
  it('# inside quotes is text, outside it starts a comment', () => {
    const v = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\treceive="#1 ok" # trailing', '\t#request="nope"')).virtuals[0]!;
    expect(v.receive).toBe('#1 ok');
    expect(v.request).toBe('/');
  });

  it('quotes are optional where ldirectord demands them, and kept inside greedily', () => {
    const v = parse(cf('virtual=10.0.0.1:80', '\treal=10.0.0.2 gate', '\trequest=/a b', '\treceive="say "hi""')).virtuals[0]!;
    expect([v.request, v.receive]).toEqual(['/a b', 'say "hi"']);
  });

  it('spaces, tabs, blank and comment lines inside a section', () => {
    const v = parse(cf(
      'virtual=10.0.0.1:80',
      '  real=10.0.0.2 gate',
      '',
      '# a comment in column 0',
      '\t\treal=10.0.0.3 gate',
      '        scheduler=rr',
      'checkinterval=7',
      'virtual=10.0.0.1:81',
      ' real=10.0.0.4 gate',
    ));
    expect(v.virtuals.map((x) => x.reals.length)).toEqual([2, 1]);
    expect(v.virtuals[0]!.scheduler).toBe('rr');
    expect(v.globals.checkinterval).toBe(7);
  });

  it('CRLF line ends and a byte order mark', () => {
    const v = parse('\ufeffchecktimeout=3\r\nvirtual=10.0.0.1:80\r\n\treal=10.0.0.2 gate\r\n');
    expect(v.globals.checktimeout).toBe(3);
    expect(v.virtuals[0]!.reals).toHaveLength(1);
  });

  it('a repeated directive: the last one wins, with a warning', () => {
    const c = parse(cf('checkinterval=3', 'checkinterval=4'));
    expect(c.globals.checkinterval).toBe(4);
    expect(c.warnings.map((w) => `${w.line} ${w.code}`)).toEqual(['2 W_CONFIG_REPEATED']);
  });
});

describe('warnings', () => {
  it('names what dsrlb parses but does not act on, or what has no effect', () => {
    expect(warningsOf(cf(
      'virtual=10.0.0.1:80',
      '\treal=10.0.0.2:80 masq',
      '\treal=10.0.0.3:8080 gate',
      '\tnetmask=255.255.0.0',
      '\tops=yes',
      '\tcheckinterval=3',
      'virtual=9',
      '\treal=10.0.0.2 gate',
      'virtual=10.0.0.1:81',
    ))).toEqual([
      '2 W_CONFIG_UNSUPPORTED', '3 W_CONFIG_IGNORED', '4 W_CONFIG_IGNORED', '5 W_CONFIG_IGNORED',
      '6 W_CONFIG_IGNORED', '7 W_CONFIG_UNSUPPORTED', '9 W_CONFIG_EMPTY',
    ]);
  });
});
