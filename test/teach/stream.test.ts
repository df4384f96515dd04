/**
 * `dsrlb explain` reads its captures as streams: memory bounded by its settings (the window, the
 * flows kept in detail, the samples kept per finding), not by the captures. Checked on a synthetic
 * DSR capture set taken at five points (bench/lib/synthetic-dsr.ts): the streamed explanation is the
 * in-memory one while the set fits the bounds, names the same flows and findings when it does not,
 * and its peak memory stays flat when the set grows fourfold.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFiles, fileSource } from '../../src/cli/capture-sources.ts';
import { loadCaptures, testbedNames } from '../../src/cli/commands/explain.ts';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { tcpFrame } from '../../src/packet/index.ts';
import { explainCaptures, explainSources, FrameMerger, memorySources, renderFlowText, renderText, wireFrames, type Explanation } from '../../src/teach/index.ts';
import { DSR, writeSyntheticDsr } from '../../bench/lib/synthetic-dsr.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-explainstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DSRLB = fileURLToPath(new URL('../../src/cli/dsrlb.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../../bench/lib/explain-child.ts', import.meta.url));

/** The capture set `name` (made on first use). */
function set(name: string, flows: number, bigEvery = 1000): string {
  const d = join(dir, name);
  if (existsSync(d)) return d;
  mkdirSync(d);
  writeSyntheticDsr({ dir: d, flows, bigEvery });
  return d;
}

describe('streamed explain', () => {
  it('is the in-memory explanation, byte for byte, while the captures fit the bounds', () => {
    const d = set('small', 60, 10);
    const files = captureFiles([d]);
    const streamed = explainSources(files.map(fileSource), { maxFlows: 100 });
    const whole = explainCaptures(loadCaptures([d]));
    expect(streamed.flows).toHaveLength(60);
    expect(renderText(streamed)).toBe(renderText(whole));
    expect(streamed.findings).toEqual(whole.findings);
    expect(streamed.findings.map((f) => f.code)).toEqual(['arp-multiple-macs', 'frame-over-mtu']);
  });

  it('beyond --max-flows: the first flows drawn the same, the others counted, the findings counted over every frame', () => {
    const d = set('small', 60, 10);
    const whole = explainCaptures(loadCaptures([d]));
    const ex = explainSources(captureFiles([d]).map(fileSource), { maxFlows: 10, maxSamples: 2 });
    expect(ex.flows.map((f) => f.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ex.totalFlows).toBe(60);
    expect(ex.distinctFrames).toBe(whole.frames.length);
    for (let i = 0; i < 10; i++) expect(renderFlowText(ex.flows[i]!, ex)).toEqual(renderFlowText(whole.flows[i]!, whole));
    const big = ex.findings.find((f) => f.code === 'frame-over-mtu')!;
    expect(big.title).toMatch(/^6 frame\(s\) larger than the MTU \(1500\): up to 2000 bytes/);
    expect(big.frames.length).toBeLessThan(6); // a bounded sample (2, and one per new capture point set)
    expect(renderText(ex).split('\n')[0]).toMatch(/665 distinct frames on the wire, 60 connection\(s\) to a virtual service \(the first 10 in detail\)$/);
  });

  it('joins the sightings of a frame and finds forwards with a window far smaller than the captures', () => {
    const d = set('small', 60, 10);
    const m = new FrameMerger({ windowFrames: 8 });
    let forwards = 0;
    let frames = 0;
    for (const { fwdOf } of wireFrames(captureFiles([d]).map(fileSource), {}, m)) {
      frames++;
      if (fwdOf) forwards++;
    }
    expect(frames).toBe(660 + 5);
    expect(forwards).toBe(60 * 4);
    expect(m.held).toBeLessThanOrEqual(8);
  });

  it('reads in-memory captures through the same merge (memorySources)', () => {
    const caps = loadCaptures([set('small', 60, 10)]);
    const n = [...wireFrames(memorySources(caps))].length;
    expect(n).toBe(665);
  });
});

describe('flows not kept in detail', () => {
  const C = { mac: '02:aa:00:00:00:64', ip: '10.1.0.100' };
  const D = '02:aa:00:00:00:01';
  const R1 = '02:aa:00:00:00:11';
  const R2 = '02:aa:00:00:00:12';
  const VIP = '10.1.0.10';
  const config = parseLdirectordConfig(`virtual=${VIP}:80\n\treal=10.1.0.11:80 gate\n\treal=10.1.0.12:80 gate\n\tchecktype=on\n`, 'test.cf');
  const up = (sport: number, flags: string, from: string, to: string, ttl = 64) =>
    tcpFrame({ srcMac: from, dstMac: to, src: C.ip, dst: VIP, sport, dport: 80, flags, ttl, seq: sport, ipId: sport });
  const down = (sport: number, real: string) => tcpFrame({ srcMac: real, dstMac: C.mac, src: VIP, dst: C.ip, sport: 80, dport: sport, flags: 'SYN,ACK', seq: 9, ipId: sport });
  const frames = [
    up(40001, 'SYN', C.mac, D), up(40001, 'SYN', D, R1, 63), down(40001, R1), // fine
    up(40002, 'SYN', C.mac, D), up(40002, 'SYN', D, R1, 63), down(40002, R1), up(40002, 'ACK', C.mac, D), up(40002, 'ACK', D, R2, 63), // split
    up(40003, 'SYN', C.mac, R1), down(40003, R1), // straight to a real
    up(40004, 'SYN', C.mac, D), up(40004, 'SYN', D, R2, 63), // never answered
  ];
  const caps = [{ name: 'wire', linkType: 1, records: frames.map((data, i) => ({ timeMs: 1000 + i, data, origLen: data.length })) }];

  it('still count in flow-split, bypass-director and handshake-incomplete', () => {
    const title = (ex: Explanation, code: string) => ex.findings.find((f) => f.code === code)?.title;
    const whole = explainCaptures(caps, { config });
    const one = explainSources(memorySources(caps), { config, maxFlows: 1 });
    expect(whole.flows).toHaveLength(4);
    expect(one.flows).toHaveLength(1);
    expect(one.totalFlows).toBe(4);
    expect(title(whole, 'flow-split')).toMatch(/^1 connection\(s\) forwarded to more than one real server/);
    expect(title(one, 'flow-split')).toBe(title(whole, 'flow-split'));
    expect(title(whole, 'bypass-director')).toMatch(new RegExp(`^1 connection\\(s\\) went straight to ${R1}`));
    expect(title(one, 'bypass-director')).toMatch(/^1 connection\(s\) went straight to a real server, never through the director/);
    expect(title(whole, 'handshake-incomplete')).toMatch(/^1 connection\(s\) never got a SYN-ACK \(1 SYN\(s\) sent\)/);
    expect(title(one, 'handshake-incomplete')).toBe(title(whole, 'handshake-incomplete'));
    expect(one.findings.map((f) => f.code).sort()).toEqual(whole.findings.map((f) => f.code).sort());
  });

  it('a flow in detail stays one flow however many others pass while it runs (the open-flow table forgets only counted ones)', () => {
    const long = [up(40001, 'SYN', C.mac, D), up(40001, 'SYN', D, R1, 63), down(40001, R1)];
    const others = [40002, 40003, 40004, 40005].flatMap((p) => [up(p, 'SYN', C.mac, D), up(p, 'SYN', D, R1, 63), down(p, R1)]);
    const later = [up(40001, 'ACK', C.mac, D), up(40001, 'ACK', D, R1, 63)];
    const recs = [...long, ...others, ...later].map((data, i) => ({ timeMs: 1000 + i, data, origLen: data.length }));
    const ex = explainSources(memorySources([{ name: 'wire', linkType: 1, records: recs }]), { config, maxFlows: 1, maxOpenFlows: 2 });
    expect(ex.totalFlows).toBe(5);
    expect(ex.flows[0]!.frames.map((f) => f.n)).toEqual([1, 2, 3, 16, 17]);
  });
});

describe('a pcapng with several interfaces', () => {
  /** pcapng, little-endian: one section, an interface per capture (if_name), its records in time order. */
  function pcapng(ifaces: Array<{ name: string; records: ReadonlyArray<{ timeMs: number; data: Uint8Array }> }>): Buffer {
    const block = (type: number, body: Buffer) => {
      const padded = Buffer.alloc((body.length + 3) & ~3);
      body.copy(padded);
      const b = Buffer.alloc(12 + padded.length);
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(b.length, 4);
      padded.copy(b, 8);
      b.writeUInt32LE(b.length, 8 + padded.length);
      return b;
    };
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0);
    shb.writeUInt16LE(1, 4);
    shb.writeInt32LE(-1, 8);
    shb.writeInt32LE(-1, 12);
    const parts = [block(0x0a0d0d0a, shb)];
    for (const i of ifaces) {
      const name = Buffer.from(i.name);
      const opt = Buffer.alloc(4 + ((name.length + 3) & ~3) + 4);
      opt.writeUInt16LE(2, 0);
      opt.writeUInt16LE(name.length, 2);
      name.copy(opt, 4);
      const head = Buffer.alloc(8);
      head.writeUInt16LE(1, 0);
      head.writeUInt32LE(65535, 4);
      parts.push(block(1, Buffer.concat([head, opt])));
    }
    const all = ifaces.flatMap((i, n) => i.records.map((r) => ({ n, ...r }))).sort((a, b) => a.timeMs - b.timeMs);
    for (const r of all) {
      const head = Buffer.alloc(20);
      const ticks = BigInt(Math.round(r.timeMs * 1000));
      head.writeUInt32LE(r.n, 0);
      head.writeUInt32LE(Number(ticks >> 32n), 4);
      head.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
      head.writeUInt32LE(r.data.length, 12);
      head.writeUInt32LE(r.data.length, 16);
      parts.push(block(6, Buffer.concat([head, Buffer.from(r.data)])));
    }
    return Buffer.concat(parts);
  }

  it('gives one capture point per interface, named after it, and the same explanation as in memory', () => {
    const fx = fileURLToPath(new URL('../fixtures/captures/healthy/', import.meta.url));
    const [client, www1] = loadCaptures([`${fx}client.pcap`, `${fx}www1.pcap`]);
    const file = join(dir, 'both.pcapng');
    writeFileSync(file, pcapng([{ name: 'eth0', records: client!.records }, { name: 'eth1', records: www1!.records }]));
    const r = spawnSync('bash', ['-c', `node ${DSRLB} explain ${file}`], { encoding: 'utf8' });
    expect(r.stdout.split('\n')[0]).toMatch(/^2 capture\(s\): both\.eth0 \(\d+ frames\), both\.eth1 \(\d+ frames\);/);
    expect(r.stdout.trimEnd()).toBe(renderText(explainCaptures(loadCaptures([file]), { names: testbedNames() })));
  }, 60_000);
});

describe('peak memory of dsrlb explain', () => {
  const run = (d: string) => {
    const out = join(d, 'out.txt');
    // A 64 MiB old-generation heap: the whole-capture way needs several hundred MiB for these sets.
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD, out, 'explain', d], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => l.startsWith('@@stats '));
    expect(line, r.stderr).toBeDefined();
    const s = JSON.parse(line!.slice(8)) as { code: number; maxRssMiB: number; ms: number };
    return { ...s, text: readFileSync(out, 'utf8') };
  };

  it('does not grow with the captures (4x the frames, the same peak within a few MiB), and still names the flows and findings', () => {
    const small = run(set('s2000', 2000));
    const big = run(set('s8000', 8000));
    expect(small.code).toBe(1);
    expect(big.code).toBe(1);
    expect(big.maxRssMiB - small.maxRssMiB).toBeLessThan(24);
    const t = big.text;
    expect(t).toMatch(/^5 capture\(s\): client \(55957 frames\), director \(63956 frames\), real1 \(18653 frames\), real2 \(18659 frames\), real3 \(18647 frames\); 87933 distinct frames on the wire, 8000 connection\(s\) to a virtual service \(the first 100 in detail\)/);
    expect(t).toMatch(new RegExp(`client +${DSR.clientIp.replace(/\./g, '\\.')} +${DSR.client}`));
    expect(t).toMatch(new RegExp(`director +\\? +${DSR.director}`));
    for (const r of DSR.reals) expect(t).toMatch(new RegExp(`real +\\? +${r.mac}`));
    expect(t).toMatch(/Flow 2: 10\.100\.0\.1:10001 → 10\.200\.0\.100:80 \(tcp\) served by 02:00:00:00:02:02 — OK: DSR as it should be/);
    expect(t).toMatch(/Flow 100: .* served by 02:00:00:00:02:01 — /);
    expect(t).not.toMatch(/Flow 101:/);
    expect(t).toMatch(/\[problem\] arp-multiple-macs: 2 MACs answer ARP for the VIP 10\.200\.0\.100: 02:00:00:00:00:64 .*; 02:00:00:00:02:03/);
    expect(t).toMatch(/\[problem\] frame-over-mtu: 8 frame\(s\) larger than the MTU \(1500\)/);
    // Flows 501, 1501, … 7501 are not drawn (--max-flows 100): their findings are counted all the same.
    expect(t).toMatch(/\[problem\] handshake-incomplete: 8 connection\(s\) never got a SYN-ACK \(8 SYN\(s\) sent\)/);
  }, 300_000);
});

describe('explain as a Unix filter', () => {
  it('ends quietly, status 0, when the reader of its output goes away (| head -3)', () => {
    const d = set('s2000', 2000);
    const r = spawnSync('bash', ['-c', `node ${DSRLB} explain ${d} --max-flows 2000 | head -3; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 3).join('\n')).toMatch(/^5 capture\(s\): .*\n\nRoles \(inferred from ARP and MACs\):$/);
    expect(r.stdout).toMatch(/status 0\n$/);
  }, 120_000);
});

describe('--max-flows', () => {
  const sh = (args: string) => spawnSync('bash', ['-c', `node ${DSRLB} explain ${args}`], { encoding: 'utf8' });
  it('draws the first N flows, counts the others, and says so when asked for one it did not keep', () => {
    const d = set('opts', 30);
    const r = sh(`${d} --max-flows 5`);
    expect(r.stdout.split('\n')[0]).toMatch(/30 connection\(s\) to a virtual service \(the first 5 in detail\)$/);
    expect(r.stdout.match(/^Flow \d+:/gm)).toEqual(['Flow 1:', 'Flow 2:', 'Flow 3:', 'Flow 4:', 'Flow 5:']);
    expect(sh(`${d} --max-flows 5 --flow 7`).stderr).toMatch(/E_USAGE: flow 7 is not kept in detail: only the first 5 are \(--max-flows\)/);
    expect(sh(`${d} --max-flows 5 --flow 70`).stderr).toMatch(/E_USAGE: no flow 70 \(the captures have 30\)/);
    expect(sh(`${d} --max-flows 0`).stderr).toMatch(/E_USAGE: --max-flows must be a positive integer/);
    const json = JSON.parse(sh(`${d} --max-flows 5 --json`).stdout) as { totalFlows: number; flows: unknown[] };
    expect(json.totalFlows).toBe(30);
    expect(json.flows).toHaveLength(5);
  }, 60_000);
});
