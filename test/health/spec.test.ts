import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig, type VirtualService } from '../../src/config/index.ts';
import { specFor, validateChecks } from '../../src/health/index.ts';

function virtual(body: string, globals = ''): VirtualService {
  return parseLdirectordConfig(`${globals}virtual=10.0.0.1:80\n${body.split('\n').filter(Boolean).map((l) => `\t${l}`).join('\n')}\n`, 't.cf').virtuals[0]!;
}

function spec(vs: VirtualService, kind: Parameters<typeof specFor>[2], real = 0) {
  const r = specFor(vs, vs.reals[real]!, kind);
  if (!r.ok) throw new Error(r.problem.message);
  return r.spec;
}

describe('specFor: the check ldirectord would run', () => {
  it('http: URL from the real address, check port and request (ld_setup), Host = real address, negotiatetimeout', () => {
    const vs = virtual('real=10.0.0.2:80 gate\nservice=http\nrequest="ping.cgi"\nreceive="ok"\nnegotiatetimeout=7');
    expect(spec(vs, 'negotiate')).toEqual({
      checker: 'http', url: 'http://10.0.0.2:80/ping.cgi', method: 'GET', hostHeader: '10.0.0.2', receive: 'ok', timeoutMs: 7000, maxRedirects: 7,
    });
  });

  it('https with checkport, virtualhost and HEAD', () => {
    const vs = virtual('real=10.0.0.2:443 gate\nservice=https\ncheckport=8443\nvirtualhost=www.example.org\nhttpmethod=head');
    expect(spec(vs, 'negotiate')).toMatchObject({ url: 'https://10.0.0.2:8443/', hostHeader: 'www.example.org', method: 'HEAD' });
  });

  it('a real without a port is checked on the service port', () => {
    const vs = virtual('real=10.0.0.2 gate\nservice=http');
    expect(spec(vs, 'negotiate')).toMatchObject({ url: 'http://10.0.0.2:80/' });
  });

  it('a per-real request that is a full URL is the URL; a virtual request never is (as ldirectord)', () => {
    const vs = virtual('real=10.0.0.2:80 gate 1 "http://status.example.org/up", "yes"\nreal=10.0.0.3:80 gate\nservice=http\nrequest="http://x/y"');
    expect(spec(vs, 'negotiate', 0)).toMatchObject({ url: 'http://status.example.org/up', receive: 'yes', hostHeader: '10.0.0.2' });
    expect(spec(vs, 'negotiate', 1)).toMatchObject({ url: 'http://10.0.0.3:80/http://x/y' });
  });

  it('a per-real request that is a path stays on the real', () => {
    const vs = virtual('real=10.0.0.2:80 gate 1 "alive.html", "up"\nservice=http');
    expect(spec(vs, 'negotiate')).toMatchObject({ url: 'http://10.0.0.2:80/alive.html', receive: 'up' });
  });

  it('simpletcp: the request without its leading "/", \\n as a newline', () => {
    const vs = virtual('real=10.0.0.2:6379 gate\nservice=simpletcp\nrequest="PING\\n"\nreceive="PONG"');
    expect(spec(vs, 'negotiate')).toEqual({
      checker: 'simpletcp', address: '10.0.0.2', port: 6379, payload: 'PING\n', receive: 'PONG', timeoutMs: 30000,
    });
  });

  it('dns: an A query for a name, a PTR query for an address, UDP unless the service is TCP', () => {
    const vs = parseLdirectordConfig('virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\trequest="www.example.org"\n\treceive="192.0.2.1"\n', 't.cf').virtuals[0]!;
    expect(vs.service).toBe('dns');
    expect(spec(vs, 'negotiate')).toEqual({
      checker: 'dns', address: '10.0.0.2', port: 53, transport: 'udp', name: 'www.example.org', qtype: 'A', receive: '192.0.2.1', timeoutMs: 30000,
    });
    const ptr = parseLdirectordConfig('virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\tprotocol=tcp\n\trequest="192.0.2.1"\n', 't.cf').virtuals[0]!;
    expect(spec(ptr, 'negotiate')).toMatchObject({ transport: 'tcp', name: '1.2.0.192.in-addr.arpa', qtype: 'PTR' });
  });

  it('connect: checktimeout on the check port; a UDP service is pinged instead (ldirectord _check_real)', () => {
    const vs = virtual('real=10.0.0.2:80 gate\nchecktype=connect\nchecktimeout=2');
    expect(spec(vs, 'connect')).toEqual({ checker: 'connect', address: '10.0.0.2', port: 80, timeoutMs: 2000 });
    const udp = parseLdirectordConfig('virtual=10.0.0.1:53\n\treal=10.0.0.2:53 gate\n\tchecktype=connect\n', 't.cf').virtuals[0]!;
    expect(spec(udp, 'connect')).toEqual({ checker: 'ping', address: '10.0.0.2', count: 1, timeoutMs: 5000 });
  });

  it('ping: checkcount attempts of checktimeout', () => {
    const vs = virtual('real=10.0.0.2:80 gate\nchecktype=ping\nchecktimeout=1\ncheckcount=3');
    expect(spec(vs, 'ping')).toEqual({ checker: 'ping', address: '10.0.0.2', count: 3, timeoutMs: 1000 });
  });

  it('external: checkcommand VIP VPORT RIP RPORT (the real port as written)', () => {
    const vs = virtual('real=10.0.0.2 gate\nchecktype=external\ncheckcommand="/usr/local/bin/check"\nchecktimeout=4');
    expect(spec(vs, 'external')).toEqual({
      checker: 'external', command: '/usr/local/bin/check', args: ['10.0.0.1', '80', '10.0.0.2', '0'], perl: false, timeoutMs: 4000,
    });
    const perl = virtual('real=10.0.0.2:80 gate\nchecktype=external-perl\ncheckcommand=/x.pl');
    expect(spec(perl, 'external')).toMatchObject({ perl: true, args: ['10.0.0.1', '80', '10.0.0.2', '80'] });
  });

  it('service none: no check (check_none)', () => {
    const vs = parseLdirectordConfig('virtual=10.0.0.1:8080\n\treal=10.0.0.2:8080 gate\n', 't.cf').virtuals[0]!;
    expect(vs.service).toBe('none');
    expect(spec(vs, 'negotiate')).toEqual({ checker: 'none' });
  });
});

describe('validateChecks', () => {
  const cfg = (text: string) => parseLdirectordConfig(text, 'lb.cf');

  it('accepts the seed configuration and every supported combination', () => {
    const text = [
      'virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate', '\tservice=http', '\treceive="ok|fine"',
      'virtual=10.0.0.1:443', '\treal=10.0.0.2:443 gate', '\tchecktype=5',
      'virtual=10.0.0.1:53', '\treal=10.0.0.2:53 gate', '\trequest="x.example"',
      'virtual=10.0.0.1:7000', '\treal=10.0.0.2:7000 gate', '\tservice=simpletcp', '\trequest="hi"', '\treceive="^hello"',
      'virtual=10.0.0.1:21', '\treal=10.0.0.2:21 gate', '\tchecktype=connect',
      'virtual=10.0.0.1:25', '\treal=10.0.0.2:25 gate', '\tchecktype=external',
      'virtual=10.0.0.1:3306', '\treal=10.0.0.2:3306 gate', '\tchecktype=off',
      'virtual=10.0.0.1:389', '\treal=10.0.0.2:389 gate', '\tchecktype=on',
      'virtual=10.0.0.1:110', '\treal=10.0.0.2:110 gate', '\tchecktype=ping',
    ].join('\n');
    expect(validateChecks(cfg(text))).toEqual([]);
  });

  it('refuses services it cannot negotiate with, at the service line, code E_CHECK_UNSUPPORTED', () => {
    const errs = validateChecks(cfg('virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\treal=10.0.0.3:80 gate\n\tservice=mysql\n'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ code: 'E_CHECK_UNSUPPORTED', file: 'lb.cf', line: 4 });
    expect(errs[0]!.message).toMatch(/^lb\.cf:4: .*service=mysql .*not supported yet/);
  });

  it('says when the service came from the port (virtual=...:21 is ftp, negotiate by default)', () => {
    const errs = validateChecks(cfg('virtual=10.0.0.1:21\n\treal=10.0.0.2:21 gate\n'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ code: 'E_CHECK_UNSUPPORTED', line: 1 });
    expect(errs[0]!.message).toMatch(/derived from the virtual port 21/);
  });

  it('refuses checktype=N with an unsupported service too', () => {
    expect(validateChecks(cfg('virtual=10.0.0.1:25\n\treal=10.0.0.2:25 gate\n\tchecktype=2\n'))[0]).toMatchObject({ code: 'E_CHECK_UNSUPPORTED', line: 3 });
  });

  it('E_CHECK_NO_PORT for a check with no port to use, at the real line', () => {
    const errs = validateChecks(cfg('virtual=10.0.0.1:80\n\treal=10.0.0.2 gate\n\tservice=simpletcp\n'));
    expect(errs.map((e) => [e.code, e.line])).toEqual([['E_CHECK_NO_PORT', 2]]);
  });

  it('E_CHECK_BAD_RECEIVE for a receive that is not a regular expression, per virtual and per real', () => {
    const errs = validateChecks(cfg('virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 1 "/", "(x"\n\treal=10.0.0.3:80 gate\n\treceive="a[b"\n'));
    expect(errs.map((e) => [e.code, e.line])).toEqual([['E_CHECK_BAD_RECEIVE', 2], ['E_CHECK_BAD_RECEIVE', 4]]);
  });
});
