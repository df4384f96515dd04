import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BGP_KEYS, parseBgpFile, parseBgpOption, renderDirectorBird, renderRouterBird } from '../../src/bgp/index.ts';
import { thrown } from '../helpers/thrown.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrg-bird-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** BIRD's own parser (`bird -p`): exit 0 when the file is a valid configuration. */
function birdParses(text: string): { ok: boolean; out: string } {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(f, text);
  try {
    const out = execFileSync('bird', ['-p', '-c', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, out };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: string }).stderr ?? e) };
  }
}

describe('--bgp options', () => {
  it('parses the keys with their defaults', () => {
    const o = parseBgpOption('local-as=65001,peer=192.168.0.1,peer-as=65000');
    expect(o).toEqual({ localAs: 65001, peerAs: 65000, peers: ['192.168.0.1'], local: null, holdTime: 3, bfd: { intervalMs: 100, multiplier: 3 }, communities: [] });
    const f = parseBgpFile('# router\nlocal-as = 4200000001\npeer=10.0.0.1\npeer=10.0.0.2\npeer-as=65000\nhold=9\nbfd=off\ncommunity=65001:100\ncommunity=0:7\nlocal=10.0.0.5\n');
    expect(f).toMatchObject({ localAs: 4200000001, peers: ['10.0.0.1', '10.0.0.2'], holdTime: 9, bfd: null, communities: [[65001, 100], [0, 7]], local: '10.0.0.5' });
  });

  it.each([
    ['peer=192.168.0.1,peer-as=65000', 'local-as= is required'],
    ['local-as=65001,peer-as=65000', 'peer= is required'],
    ['local-as=0,peer=1.2.3.4,peer-as=1', 'AS number'],
    ['local-as=1,peer=1.2.3.256,peer-as=1', 'not an IPv4'],
    ['local-as=1,peer=1.2.3.4,peer-as=1,hold=2', 'at least 3'],
    ['local-as=1,peer=1.2.3.4,peer-as=1,community=70000:1', 'community'],
    ['local-as=1,peer=1.2.3.4,peer-as=1,bfd=yes', 'on or off'],
    ['local-as=1,peer=1.2.3.4,peer-as=1,color=red', 'unknown key'],
  ])('refuses %s', (s, msg) => {
    const e = thrown(() => parseBgpOption(s));
    expect(e).toMatchObject({ code: 'E_BGP_OPTION' });
    expect(String((e as Error).message)).toContain(msg);
  });
});

describe('docs/scale-out.md', () => {
  it('lists exactly the keys --bgp takes, and each one parses', () => {
    const doc = readFileSync(new URL('../../docs/scale-out.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('<!-- bgp-keys:begin -->'), doc.indexOf('<!-- bgp-keys:end -->'));
    const listed = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...BGP_KEYS]);
    const sample: Record<string, string> = { 'local-as': '65001', peer: '10.0.0.1', 'peer-as': '65000', local: '10.0.0.2', hold: '9', bfd: 'off', 'bfd-interval': '50', 'bfd-multiplier': '5', community: '1:2' };
    expect(Object.keys(sample)).toEqual([...BGP_KEYS]);
    expect(parseBgpOption(BGP_KEYS.map((k) => `${k}=${sample[k]}`).join(','))).toEqual({
      localAs: 65001, peers: ['10.0.0.1'], peerAs: 65000, local: '10.0.0.2', holdTime: 9, bfd: null, communities: [[1, 2]],
    });
  });
});

describe('BIRD configurations', () => {
  const bgp = parseBgpOption('local-as=65001,peer=192.168.0.1,peer-as=65000,community=65001:100');

  it('director: the announced VIPs as /32 static routes, exported with the communities; BFD and short timers', () => {
    const text = renderDirectorBird({ routerId: '192.168.0.21', local: '192.168.0.21', bgp, announced: ['192.168.0.10', '192.168.0.11'] });
    expect(text).toContain('route 192.168.0.10/32 blackhole;');
    expect(text).toContain('route 192.168.0.11/32 blackhole;');
    expect(text).toContain('bgp_community.add((65001, 100));');
    expect(text).toMatch(/hold time 3;[\s\S]*keepalive time 1;/);
    expect(text).toContain('bfd on;');
    expect(text).toContain('graceful restart off;');
    expect(text).not.toContain('protocol kernel'); // nothing in the director's own routing table
    expect(birdParses(text)).toMatchObject({ ok: true });
  });

  it('director with nothing announced and BFD off is still a valid configuration', () => {
    const text = renderDirectorBird({ routerId: '10.0.0.5', local: '10.0.0.5', bgp: { ...bgp, bfd: null, holdTime: 0 }, announced: [] });
    expect(text).not.toContain('route ');
    expect(text).not.toContain('protocol bfd');
    expect(text).toContain('bfd off;');
    expect(birdParses(text)).toMatchObject({ ok: true });
  });

  it('router: one session per director, merge paths on, /32s only', () => {
    const text = renderRouterBird({
      routerId: '192.168.0.1', local: '192.168.0.1', localAs: 65000, holdTime: 3, bfd: { intervalMs: 100, multiplier: 3 },
      directors: [1, 2, 3].map((i) => ({ name: `d${i}`, address: `192.168.0.2${i}`, as: 65001 })),
    });
    expect(text.match(/protocol bgp d\d from dsrlb_director/g)).toHaveLength(3);
    expect(text).toContain('merge paths on;');
    expect(text).toContain('import where net.len = 32;');
    expect(birdParses(text)).toMatchObject({ ok: true });
  });

  it('a broken file is refused by bird -p (the check above can fail)', () => {
    expect(birdParses('protocol bgp {').ok).toBe(false);
  });
});
