/** The console's wiring helpers: a sampled flow's ladder, the HA view, the check line. */
import { describe, expect, it } from 'vitest';
import { sampleLadder } from '../../src/cli/console-ladder.ts';
import { haConsoleView } from '../../src/cli/console.ts';
import type { HaStatus } from '../../src/engine/index.ts';
import { describeCheck } from '../../src/obs/index.ts';
import { ethernet, ipv4, tcp } from '../../src/packet/index.ts';

const seg = tcp({ src: '192.168.0.100', dst: '192.168.0.10', sport: 40000, dport: 80, flags: ['SYN'] as never });
const hex = (dst: string, src: string, ttl: number) =>
  Buffer.from(ethernet(dst, src, 0x0800, ipv4({ src: '192.168.0.100', dst: '192.168.0.10', proto: 'tcp', ttl, payload: seg }))).toString('hex');

describe('console ladder', () => {
  it('draws a sampled flow as the explain ladder: client → director → real, the reply unseen', () => {
    const l = sampleLadder(
      { inHex: hex('02:d5:00:00:00:07', '02:d5:00:00:00:64', 64), outHex: hex('02:d5:00:00:00:09', '02:d5:00:00:00:07', 63), local: false },
      { names: { '02:d5:00:00:00:09': '192.168.0.9' } },
    )!;
    expect(l.title).toBe('192.168.0.100:40000 → 192.168.0.10:80 → 192.168.0.9');
    expect(l.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(l.svg).toContain('>this director</text>');
    expect(l.svg).toContain('the director never sees the reply (DSR)');
    expect(l.svg).not.toMatch(/PROBLEM|<script/);
    expect(l.svg.match(/marker-end=/g)).toHaveLength(2);
  });

  it('refuses frames that make no flow', () => {
    expect(sampleLadder({ inHex: '00', outHex: '00', local: false })).toBeNull();
  });
});

describe('console HA view and check line', () => {
  const st = (role: string, peerState: string | null, peerDead: boolean) => ({
    self: 'www2', peer: 'www1', preferred: 'www1', role, peerState, peerHeard: peerState !== null, peerDead, lastHeartbeatAgoMs: 5,
  }) as unknown as HaStatus;

  it('says who holds the VIP', () => {
    expect(haConsoleView(st('standby', 'active', false), []).vipHolder).toBe('www1');
    expect(haConsoleView(st('active', 'active', true), []).vipHolder).toBe('www2');
    expect(haConsoleView(st('standby', 'standby', false), []).vipHolder).toBe('nobody');
    expect(haConsoleView(st('standby', 'active', true), []).peer.state).toBe('dead');
  });

  it('describes the check as configured, hostile text kept as text', () => {
    expect(describeCheck({ checktype: 'negotiate', service: 'http', request: "/ping.cgi?<script>alert('x')</script>", receive: 'ok', checkcommand: '' }))
      .toBe(`negotiate http GET /ping.cgi?<script>alert('x')</script> expect "ok"`);
    expect(describeCheck({ checktype: 'external', service: 'none', request: '', receive: '', checkcommand: '/bin/check <b>' })).toBe('external /bin/check <b>');
    expect(describeCheck({ checktype: 'connect', service: 'http', request: '/', receive: '', checkcommand: '' })).toBe('connect');
  });
});
