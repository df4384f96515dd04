/**
 * The streaming capture reader and writer: pcapng as Wireshark/dumpcap write it (checked against
 * libpcap's own pcapng reader through tcpdump), records that straddle the reader's buffer, damaged
 * files (precise errors, never a crash), and replay/explain as Unix filters (pcapng in and out,
 * standard input and output, a reader that goes away).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isDsrlbError } from '../../src/errors/index.ts';
import { bufferSource, CaptureReader, CaptureWriter, parsePcap, PcapWriter, readPcapFile } from '../../src/io/index.ts';
import { tcpFrame } from '../../src/packet/index.ts';
import { syntheticConfig, writeSyntheticCapture } from '../../bench/lib/synthetic-capture.ts';
import { ldirectordFor, pcapOf, specOf } from './oracle.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DSRLB = fileURLToPath(new URL('../../src/cli/dsrlb.mjs', import.meta.url));

/** A pcapng block: type, total length, body padded to 4, total length again. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const b = new Uint8Array(12 + padded);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, b.length, le);
  b.set(body, 8);
  dv.setUint32(8 + padded, b.length, le);
  return b;
}
function bytes(le: boolean, parts: Array<['u8' | 'u16' | 'u32', number] | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out.push(...p);
      continue;
    }
    const [kind, v] = p;
    const n = kind === 'u8' ? 1 : kind === 'u16' ? 2 : 4;
    const b = new Uint8Array(n);
    const dv = new DataView(b.buffer);
    if (n === 1) dv.setUint8(0, v);
    else if (n === 2) dv.setUint16(0, v, le);
    else dv.setUint32(0, v, le);
    out.push(...b);
  }
  return Uint8Array.from(out);
}
function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  const padded = new Uint8Array((value.length + 3) & ~3);
  padded.set(value);
  return bytes(le, [['u16', code], ['u16', value.length], padded]);
}
const shb = (le: boolean) => block(le, 0x0a0d0d0a, bytes(le, [['u32', 0x1a2b3c4d], ['u16', 1], ['u16', 0], ['u32', 0xffffffff], ['u32', 0xffffffff]]));
function idb(le: boolean, linkType: number, opts: Uint8Array[] = []): Uint8Array {
  const end = opts.length ? [bytes(le, [['u16', 0], ['u16', 0]])] : [];
  return block(le, 1, bytes(le, [['u16', linkType], ['u16', 0], ['u32', 65535], ...opts, ...end]));
}
function epb(le: boolean, iface: number, ticks: bigint, frame: Uint8Array): Uint8Array {
  const padded = new Uint8Array((frame.length + 3) & ~3);
  padded.set(frame);
  return block(le, 6, bytes(le, [['u32', iface], ['u32', Number(ticks >> 32n)], ['u32', Number(ticks & 0xffffffffn)], ['u32', frame.length], ['u32', frame.length], padded]));
}
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

const f1 = tcpFrame({ src: '10.0.0.1', sport: 1111, flags: 'SYN', pad: true });
const f2 = tcpFrame({ src: '10.0.0.2', sport: 2222, flags: 'SYN', pad: true });
const f3 = tcpFrame({ src: '10.0.0.3', sport: 3333, flags: 'SYN', pad: true });
const f4 = tcpFrame({ src: '10.0.0.4', sport: 4444, flags: 'SYN', pad: true });

/**
 * Two sections: a big-endian one with two Ethernet interfaces (nanosecond "eth0" and the default
 * microsecond one), an unknown block and a simple packet block; then a second section (little-endian,
 * or big-endian again for libpcap, whose reader stops at a section of the other byte order) whose
 * interface counts time in 2^-10 s.
 */
function sampleNg(secondLittleEndian = true): Uint8Array {
  const be = false;
  const le = secondLittleEndian;
  return concat([
    shb(be),
    idb(be, 1, [option(be, 2, new TextEncoder().encode('eth0')), option(be, 9, Uint8Array.of(9))]),
    idb(be, 1),
    epb(be, 0, 1_767_225_600_123_456_789n, f1), // ns: 2026-01-01T00:00:00.123456789Z
    block(be, 0x00000bad, Uint8Array.of(1, 2, 3, 4, 5)),
    epb(be, 1, 1_767_225_601_000_002n, f2), // µs
    block(be, 3, bytes(be, [['u32', f3.length], f3])),
    shb(le),
    idb(le, 1, [option(le, 9, Uint8Array.of(0x8a))]),
    epb(le, 0, 1_767_225_602n * 1024n + 512n, f4), // 2^-10 s: + 0.5 s
  ]);
}

describe('pcapng', () => {
  it('reads sections of both byte orders, several interfaces, if_tsresol, unknown and simple blocks — the frames and times libpcap reads', () => {
    const mixed = parsePcap(sampleNg(true), 'mixed');
    const path = join(dir, 'sample.pcapng');
    writeFileSync(path, sampleNg(false));
    const p = readPcapFile(path);
    expect(mixed.records.map((r) => [r.timeMs, r.iface, Buffer.from(r.data).toString('hex')])).toEqual(p.records.map((r) => [r.timeMs, r.iface, Buffer.from(r.data).toString('hex')]));
    expect(p.format).toBe('pcapng');
    expect(p.interfaces.map((i) => [i.name, i.unitsPerSecond])).toEqual([['eth0', 1e9], [undefined, 1e6], [undefined, 1024]]);
    expect(p.records.map((r) => r.iface)).toEqual([0, 1, 0, 2]);
    expect(p.records.map((r) => Buffer.from(r.data).toString('hex'))).toEqual([f1, f2, f3, f4].map((f) => Buffer.from(f).toString('hex')));
    // tcpdump (libpcap's pcapng reader) as the independent reading: the same frames, the same times.
    const text = execFileSync('tcpdump', ['-nn', '-tt', '--time-stamp-precision=nano', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(4);
    const theirs = lines.map((l) => Number(l.split(' ')[0]));
    const ours = p.records.map((r) => r.timeMs / 1000);
    // The simple packet block has no time: libpcap says 0 as well.
    for (let i = 0; i < 4; i++) expect(Math.abs(ours[i]! - theirs[i]!)).toBeLessThan(1e-6);
    expect(lines.map((l) => / 10\.0\.0\.(\d)\.\d+ > /.exec(l)?.[1])).toEqual(['1', '2', '3', '4']);
  });

  it('writes pcapng that tcpdump reads back frame for frame, and reads it itself', () => {
    const w = new PcapWriter(262144, 'pcapng');
    w.add(1_000_000.5, f1);
    w.add(1_000_001.25, f2);
    const path = join(dir, 'ours.pcapng');
    writeFileSync(path, w.toBuffer());
    const text = execFileSync('tcpdump', ['-nn', '-tt', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(text.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['1000.000500', '1000.001250']);
    const back = readPcapFile(path);
    expect(back.records.map((r) => r.timeMs)).toEqual([1_000_000.5, 1_000_001.25]);
  });

  it('names every kind of damage with its block and byte offset', () => {
    const good = sampleNg();
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 100), /x: block at byte \d+ \(type 0x6\): \d+ bytes announced, \d+ present/],
      [concat([shb(true), epb(true, 0, 0n, f1)]), /x: packet block at byte 28: interface 0 was not described before it/],
      [concat([shb(true), idb(true, 1, [option(true, 9, Uint8Array.of(0x7f))])]), /if_tsresol 0x7f is out of range/],
      [(() => { const b = concat([shb(true), idb(true, 1)]); b[b.length - 4] = 99; return b; })(), /x: block at byte 28 \(type 0x1\): trailing length 99 differs from 20/],
      [(() => { const b = concat([shb(true)]); new DataView(b.buffer).setUint32(4, 13, true); return b; })(), /x: block at byte 0 \(type 0xa0d0d0a\): bad block length 13/],
    ];
    for (const [b, re] of cases) expect(() => parsePcap(b, 'x')).toThrow(re);
  });

  it('never crashes on a mutated capture: every failure is a DsrlbError (fuzz)', () => {
    const seeds = [sampleNg(), (() => { const w = new PcapWriter(); w.add(1, f1); w.add(2, f2); return new Uint8Array(w.toBuffer()); })()];
    fc.assert(fc.property(fc.nat(1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), fc.nat(), (which, muts, cut) => {
      const b = seeds[which]!.slice(0, Math.max(4, seeds[which]!.length - (cut % 40)));
      for (const [at, v] of muts) b[at % b.length] = v;
      try {
        const r = new CaptureReader(bufferSource(b), 'fuzz', 1024);
        let n = 0;
        for (let x = r.next(); x && n < 10_000; x = r.next()) n++;
      } catch (e) {
        if (!isDsrlbError(e)) throw e;
      }
    }), { numRuns: 3000 });
  });
});

describe('streaming', () => {
  it('hands out records that straddle the reader buffer whole and in order, whatever the buffer size', () => {
    const w = new PcapWriter();
    const frames = Array.from({ length: 500 }, (_, i) => tcpFrame({ sport: 1000 + i, pad: 60 + (i * 37) % 1400 }));
    frames.forEach((f, i) => w.add(i, f));
    const img = new Uint8Array(w.toBuffer());
    for (const size of [1, 4096, 70_000]) {
      const r = new CaptureReader(bufferSource(img), 'x', size);
      const got: string[] = [];
      for (let x = r.next(); x; x = r.next()) got.push(Buffer.from(x.data).toString('hex'));
      expect(got).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
    }
  });

  it('the writer flushes as it goes: the file grows while frames are added', () => {
    const path = join(dir, 'grow.pcap');
    const w = CaptureWriter.open(path);
    for (let i = 0; i < 40_000; i++) w.add(i, f1); // 40k x 76 B > the 1 MiB buffer
    const mid = readFileSync(path).length;
    w.close();
    expect(mid).toBeGreaterThan(1 << 19);
    expect(readFileSync(path).length).toBe(24 + 40_000 * (16 + f1.length));
  });

  it('replay keeps its peak memory flat when the capture grows fourfold (the whole-file reader did not)', () => {
    const { config, neigh } = syntheticConfig('10.200.0.100', 80);
    const cf = join(dir, 's.cf');
    writeFileSync(cf, config);
    const rss = (frames: number) => {
      const input = join(dir, `s${frames}.pcap`);
      writeSyntheticCapture({ path: input, frames, flows: 4096, vip: '10.200.0.100', port: 80, selfMac: '02:00:00:00:00:64' });
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../bench/lib/replay-child.ts', import.meta.url)),
        'replay', '--config', cf, '--in', input, '--out', join(dir, 'o.pcap'), '--self-mac', '02:00:00:00:00:64', ...neigh.flatMap((n) => ['--neigh', n]),
      ], { encoding: 'utf8' });
      const line = r.stdout.split('\n').find((l) => l.startsWith('@@stats '));
      expect(line, r.stderr).toBeDefined();
      const s = JSON.parse(line!.slice(8)) as { code: number; maxRssMiB: number };
      expect(s.code).toBe(0);
      rmSync(input);
      return s.maxRssMiB;
    };
    const small = rss(100_000);
    const big = rss(400_000); // +300k frames: the whole-file way held ~250 bytes more per frame (≈ +70 MiB)
    expect(big - small).toBeLessThan(25);
  }, 120_000);
});

describe('Unix filters', () => {
  const spec = specOf('wrr123');
  const cf = join(dir, 'wrr123.cf');
  writeFileSync(cf, ldirectordFor(spec));
  const neigh = spec.reals.flatMap((r) => ['--neigh', `${r.ip}=${r.mac}`]);
  const base = ['replay', '--config', cf, '--self-mac', spec.director_mac, ...neigh];
  const sh = (cmd: string) => spawnSync('bash', ['-c', `set -o pipefail; ${cmd}`], { encoding: 'utf8' });

  it('replays pcapng in and writes pcapng out with the same summary as pcap', () => {
    const ng = new PcapWriter(262144, 'pcapng');
    for (const r of readPcapFile(pcapOf(spec)).records) ng.add(r.timeMs, r.data);
    writeFileSync(join(dir, 'in.pcapng'), ng.toBuffer());
    const a = sh(`node ${DSRLB} ${base.join(' ')} --in ${pcapOf(spec)} --out ${join(dir, 'a.pcap')}`);
    const b = sh(`node ${DSRLB} ${base.join(' ')} --in ${join(dir, 'in.pcapng')} --out ${join(dir, 'b.pcapng')} --out-format pcapng`);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout.replace(/b\.pcapng/, 'X')).toBe(a.stdout.replace(/a\.pcap/, 'X'));
    const pa = readPcapFile(join(dir, 'a.pcap')).records.map((r) => Buffer.from(r.data).toString('hex'));
    const pb = readPcapFile(join(dir, 'b.pcapng')).records.map((r) => Buffer.from(r.data).toString('hex'));
    expect(pb).toEqual(pa);
  });

  it('reads standard input and writes the capture to standard output (the summary to standard error)', () => {
    const r = spawnSync('bash', ['-c', `node ${DSRLB} ${base.join(' ')} --in - --out - < ${pcapOf(spec)} | tcpdump -nn -r - 2>/dev/null | wc -l`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('502');
    expect(r.stderr).toMatch(/506 frames in, 501 forwarded/);
  });

  it('ends quietly, status 0, when the reader of its output goes away (| head)', () => {
    const big = join(dir, 'big.pcap');
    writeSyntheticCapture({ path: big, frames: 30_000, flows: 20_000, vip: '10.200.0.100', port: 80, selfMac: '02:00:00:00:00:64' });
    const { config, neigh: n2 } = syntheticConfig('10.200.0.100', 80);
    writeFileSync(join(dir, 'syn.cf'), config);
    const args = ['replay', '--config', join(dir, 'syn.cf'), '--self-mac', '02:00:00:00:00:64', ...n2.flatMap((n) => ['--neigh', n]), '--in', big].join(' ');
    // 20,000 "client > real" lines (far more than a pipe holds) into head -3.
    const text = sh(`node ${DSRLB} ${args} --out ${join(dir, 'c.pcap')} --choices | head -3; echo "status \${PIPESTATUS[0]}"`);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/status 0/);
    // The capture itself on standard output into head -c.
    const bin = sh(`node ${DSRLB} ${args} --out - 2>/dev/null | head -c 100 | wc -c; echo "status \${PIPESTATUS[0]}"`);
    expect(bin.stdout).toMatch(/^100\nstatus 0/);
    const err = sh(`node ${DSRLB} ${args} --out - 2>&1 >/dev/null | head -c 0; node ${DSRLB} ${args} --out - | head -c 10 >/dev/null`);
    expect(err.stderr).not.toMatch(/EPIPE|Error|at /);
  }, 60_000);
});
