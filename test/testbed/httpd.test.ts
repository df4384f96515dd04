import { describe, expect, it } from 'vitest';
import { httpdReply, parseHttpdArgs } from '../../src/testbed/httpd.ts';

describe('testbed web server (pure parts)', () => {
  it('answers /ping.cgi with ok and / with its name', () => {
    expect(httpdReply('www2', 'GET', '/ping.cgi')).toEqual({ status: 200, body: 'ok\n' });
    expect(httpdReply('www2', 'GET', '/ping.cgi?x=1')).toEqual({ status: 200, body: 'ok\n' });
    expect(httpdReply('www2', 'GET', '/')).toEqual({ status: 200, body: 'www2\n' });
    expect(httpdReply('www2', 'HEAD', '/')).toEqual({ status: 200, body: 'www2\n' });
    expect(httpdReply('www2', 'GET', '/nope').status).toBe(404);
    expect(httpdReply('www2', 'POST', '/').status).toBe(405);
  });

  it('parses its options', () => {
    expect(parseHttpdArgs(['--name', 'www1', '--tag', 'dsr', '--http-port', '8080', '--https-port', '8443', '--cert', 'c', '--key', 'k'])).toEqual({
      name: 'www1', tag: 'dsr', httpPort: 8080, httpsPort: 8443, cert: 'c', key: 'k',
    });
    expect(() => parseHttpdArgs(['--tag', 'x'])).toThrow(/--name/);
    expect(() => parseHttpdArgs(['--name'])).toThrow(/missing value/);
    expect(() => parseHttpdArgs(['--name', 'a', '--bogus', '1'])).toThrow(/unknown option/);
  });
});
