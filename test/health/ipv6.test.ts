/**
 * Health checks of IPv6 reals (real6= in a virtual6= section): the check ldirectord would run, with
 * the address in brackets where a URL or a Host header needs them, the refs the director keys the
 * table by (the folds plus the addresses), and the checkers against servers on ::1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLdirectordConfig, type VirtualService } from '../../src/config/index.ts';
import { buildEchoRequest, connectCheck, dnsCheck, httpCheck, parseEchoReply6, pingCheck } from '../../src/health/checks/index.ts';
import { realKey, realRef, specFor, virtualKey, virtualRef } from '../../src/health/index.ts';
import { foldIPv6, parseIPv6 } from '../../src/model/index.ts';
import { itAsRoot } from '../helpers/root.ts';

function virtual6(body: string): VirtualService {
  return parseLdirectordConfig(`virtual6=[2001:db8::10]:80\n${body.split('\n').filter(Boolean).map((l) => `\t${l}`).join('\n')}\n`, 't6.cf').virtuals[0]!;
}

function spec(vs: VirtualService, kind: Parameters<typeof specFor>[2], real = 0) {
  const r = specFor(vs, vs.reals[real]!, kind);
  if (!r.ok) throw new Error(r.problem.message);
  return r.spec;
}

const never = new AbortController().signal;

describe('specFor with an IPv6 real', () => {
  it('http: the URL and the Host header carry the address in brackets', () => {
    const vs = virtual6('real6=[2001:db8::21]:8080 gate\nservice=http\nrequest="alive"\nreceive="ok"');
    expect(spec(vs, 'negotiate')).toMatchObject({ url: 'http://[2001:db8::21]:8080/alive', hostHeader: '[2001:db8::21]' });
  });

  it('connect, ping and dns take the bare address; external gets the VIP6 and the real as text', () => {
    expect(spec(virtual6('real6=[2001:db8::21]:80 gate\nchecktype=connect'), 'connect')).toMatchObject({ checker: 'connect', address: '2001:db8::21', port: 80 });
    expect(spec(virtual6('real6=[2001:db8::21]:80 gate\nchecktype=ping'), 'ping')).toMatchObject({ checker: 'ping', address: '2001:db8::21' });
    expect(spec(virtual6('real6=[2001:db8::21]:53 gate\nservice=dns\nprotocol=udp\nrequest="a.example"\nreceive="."'), 'negotiate'))
      .toMatchObject({ checker: 'dns', address: '2001:db8::21', port: 53 });
    expect(spec(virtual6('real6=[2001:db8::21]:80 gate\nchecktype=external\ncheckcommand=/bin/true'), 'external'))
      .toMatchObject({ args: ['2001:db8::10', '80', '2001:db8::21', '80'] });
  });

  it('the refs carry the fold in the u32 fields and the addresses beside them; the keys name the addresses', () => {
    const vs = virtual6('real6=[2001:db8::21]:80 gate');
    const fold = (s: string) => foldIPv6(parseIPv6(s)!);
    expect(virtualRef(vs)).toEqual({ proto: 'tcp', vip: fold('2001:db8::10'), port: 80, vip6: '2001:db8::10' });
    expect(realRef(vs, vs.reals[0]!)).toEqual({ addr: fold('2001:db8::21'), addr6: '2001:db8::21', port: 80, configPort: 80 });
    expect(virtualKey(vs)).toBe('tcp:[2001:db8::10]:80');
    expect(realKey(vs.reals[0]!)).toBe('[2001:db8::21]:80');
  });
});

describe('the checkers on ::1', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((_q, s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '::1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('http and connect reach an IPv6 real; a closed port is down', async () => {
    const vs = virtual6(`real6=[::1]:${port} gate\nservice=http\nrequest="/"\nreceive="ok"`);
    expect(await httpCheck(spec(vs, 'negotiate') as Parameters<typeof httpCheck>[0], never)).toMatchObject({ ok: true });
    expect(await connectCheck({ checker: 'connect', address: '::1', port, timeoutMs: 1000 }, never)).toMatchObject({ ok: true });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '::1', r));
    const cport = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect((await connectCheck({ checker: 'connect', address: '::1', port: cport, timeoutMs: 1000 }, never)).ok).toBe(false);
  });

  it('dns over UDP to an IPv6 address opens an IPv6 socket (no EINVAL from a udp4 one)', async () => {
    const r = await dnsCheck({ checker: 'dns', address: '::1', port: 9, transport: 'udp', name: 'a.example', qtype: 'A', receive: '.', timeoutMs: 300 }, never);
    expect(r.ok).toBe(false);
    expect(r.detail).not.toMatch(/EINVAL|ERR_SOCKET_BAD_TYPE|Invalid/i);
  });

  it('an ICMPv6 echo request has type 128 and no checksum of ours (the kernel fills it); a reply is type 129', () => {
    const req = buildEchoRequest(0x1234, 9, true);
    expect([req[0], req[2], req[3]]).toEqual([128, 0, 0]);
    const reply = Buffer.from(req);
    reply[0] = 129;
    expect(parseEchoReply6(reply)).toEqual({ id: 0x1234, seq: 9 });
    expect(parseEchoReply6(req)).toBeNull();
  });

  itAsRoot('ping ::1 over a raw ICMPv6 socket', async () => {
    const r = await pingCheck({ checker: 'ping', address: '::1', count: 1, timeoutMs: 1000 }, never);
    expect(r).toMatchObject({ ok: true, detail: expect.stringMatching(/^echo reply from ::1/) });
  });
});
