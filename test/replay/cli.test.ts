/** `dsrlb replay` and `dsrlb config check` as a user runs them: files in, files and text out, exit codes. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { parsePcap } from '../../src/io/index.ts';
import { ldirectordFor, pcapOf, reference, specOf } from './oracle.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('dsrlb replay', () => {
  const spec = specOf('wrr123');
  const cf = join(dir, 'wrr123.cf');
  writeFileSync(cf, ldirectordFor(spec));
  const neigh = spec.reals.flatMap((r) => ['--neigh', `${r.ip}=${r.mac}`]);

  it('writes the forwarded frames to a pcap tcpdump reads, and prints per-real and per-reason figures', async () => {
    const outPcap = join(dir, 'out.pcap');
    const r = await cli(['replay', '--config', cf, '--in', pcapOf(spec), '--out', outPcap, '--self-mac', spec.director_mac, ...neigh, '--choices']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 506 frames: 1 ARP (answered), 100 flows x 5 frames + the options SYN forwarded, 4 noise frames not.
    expect(r.out).toMatch(/506 frames in, 501 forwarded, 1 ARP replies, 4 dropped, 0 left to the host; 502 frames written/);
    expect(r.out).toMatch(/10\.123\.0\.21:80\s+17\s/);
    expect(r.out).toMatch(/10\.123\.0\.22:80\s+33\s/);
    expect(r.out).toMatch(/10\.123\.0\.23:80\s+51\s/);
    expect(r.out).toMatch(/not-a-service\s+2/);
    expect(r.out).toMatch(/no-connection\s+1/);
    expect(r.out).toMatch(/malformed\s+1/);
    const choices = r.out.split('\n').filter((l) => / > /.test(l)).map((l) => l.replace(' > ', '>'));
    expect(choices).toEqual(reference.wrr123!.choices);
    const pcap = parsePcap(readFileSync(outPcap));
    expect(pcap.records).toHaveLength(502);
    const text = execFileSync('tcpdump', ['-nn', '-r', outPcap], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(text.trim().split('\n')).toHaveLength(502);
    expect(text).toMatch(/ARP, Reply 10\.123\.0\.100 is-at 02:ce:00:00:00:02/);
  });

  it('JSON summary carries the choices and the frames left alone', async () => {
    const r = await cli(['replay', '--config', cf, '--in', pcapOf(spec), '--out', join(dir, 'o2.pcap'), '--self-mac', spec.director_mac, ...neigh, '--json']);
    const s = JSON.parse(r.out);
    expect(s.choices.map((c: { client: string; real: string }) => `${c.client}>${c.real}`)).toEqual(reference.wrr123!.choices);
    expect(s.notForwarded).toEqual(reference.wrr123!.not_forwarded_in_frames);
  });

  it('refuses to run without a MAC for every real, naming the missing ones', async () => {
    const r = await cli(['replay', '--config', cf, '--in', pcapOf(spec), '--out', join(dir, 'x.pcap'), '--self-mac', spec.director_mac, '--neigh', `${spec.reals[0]!.ip}=${spec.reals[0]!.mac}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no MAC for real server\(s\) 10\.123\.0\.22, 10\.123\.0\.23/);
  });

  it('reports a damaged pcap with its record and offset, not a crash', async () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, readFileSync(pcapOf(spec)).subarray(0, 24 + 16 + 30));
    const r = await cli(['replay', '--config', cf, '--in', bad, '--out', join(dir, 'y.pcap'), '--self-mac', spec.director_mac, ...neigh]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/E_PCAP_TRUNCATED: .*bad\.pcap: record 1 at byte 24: 42 bytes announced, 30 present/);
  });

  it('rejects a malformed --self-mac and unknown options with a usage error', async () => {
    expect((await cli(['replay', '--config', cf, '--in', 'a', '--out', 'b', '--self-mac', 'zz'])).err).toMatch(/E_USAGE: --self-mac/);
    expect((await cli(['replay', '--bogus'])).err).toMatch(/E_USAGE/);
  });
});

describe('dsrlb (no command / unknown command)', () => {
  it('prints usage and exits 2', async () => {
    expect((await cli([])).code).toBe(2);
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "frobnicate"/);
  });
});
