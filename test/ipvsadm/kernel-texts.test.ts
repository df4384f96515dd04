/**
 * `dsrlb ipvsadm` against the kernel's ipvsadm, line by line: the director is set up with the very
 * ipvsadm commands the oracle ran, the same pcap is replayed through the real packet path, and
 * `-L -n`, `--stats`, `--rate`, `--thresholds`, `--persistent-conn`, `-c` and `-S` must print what
 * Linux 6.1's ipvsadm 1.31 printed (test/fixtures/ipvs-oracle and test/ipvsadm/fixtures/oracle).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directorFor, HERE, ipvsadm, pcapFrames, readJson, REPO, type FakeDirector, type OracleSpec } from './harness.ts';

const ORACLE = join(REPO, 'test/fixtures/ipvs-oracle');

interface RefRun {
  spec: OracleSpec;
  ipvsadm_L_n: string;
  ipvsadm_L_n_stats: string;
}
const reference = readJson<Record<string, RefRun>>(join(ORACLE, 'reference.json'));

interface KernelTexts {
  spec: string;
  pcap: string;
  ipvsadm_L_n_before_replay: string;
  ipvsadm_L_n: string;
  ipvsadm_L_n_stats: string;
  ipvsadm_L_n_rate: string;
  ipvsadm_L_n_c: string;
  ipvsadm_L_n_thresholds: string;
  ipvsadm_L_n_persistent_conn: string;
  ipvsadm_S_n: string;
}
const texts = readJson<Record<string, KernelTexts>>(join(HERE, 'fixtures/oracle/kernel-texts.json'));

/** The oracle dumps about 3.5 s after the last frame (its 3 s wait plus the dump itself). */
const DUMP_DELAY_MS = 3500;

function lines(s: string): string[] {
  return s.split('\n');
}

describe.each(Object.keys(reference).sort())('reference run %s', (name) => {
  const ref = reference[name]!;
  const spec = readJson<OracleSpec>(join(ORACLE, 'specs', `${name}.json`));
  let fd: FakeDirector;

  beforeAll(async () => {
    fd = await directorFor(spec);
    const frames = pcapFrames(join(ORACLE, 'pcap', `flows100-clients${spec.clients ?? 5}.pcap`));
    fd.feed(frames);
    fd.advance(frames.at(-1)!.timeMs + DUMP_DELAY_MS);
  });
  afterAll(async () => fd?.close());

  it('ipvsadm -L -n prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n']);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual(lines(ref.ipvsadm_L_n));
  });

  it('ipvsadm -L -n --stats prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '--stats']);
    expect(lines(r.out)).toEqual(lines(ref.ipvsadm_L_n_stats));
  });

  it('ipvsadm -Ln --stats (bundled short options) prints the same', async () => {
    const r = await ipvsadm(fd.control, ['-Ln', '--stats']);
    expect(r.out).toBe(ref.ipvsadm_L_n_stats);
  });
});

describe.each(['persist-mask-thresh', 'udp-sh-flags'])('recorded run %s (every listing)', (name) => {
  const k = texts[name]!;
  const spec = readJson<OracleSpec>(join(REPO, k.spec));
  let fd: FakeDirector;
  let before = '';

  beforeAll(async () => {
    fd = await directorFor(spec);
    before = (await ipvsadm(fd.control, ['-L', '-n'])).out;
    const frames = pcapFrames(join(REPO, k.pcap));
    // The director samples counters every 2 s; here the whole replay falls in one 2 s period,
    // followed by one empty period before the dump, as it did in the kernel's run.
    const t0 = frames[0]!.timeMs - 1;
    fd.advance(t0);
    fd.sampleRates();
    fd.feed(frames);
    fd.advance(t0 + 2000);
    fd.sampleRates();
    fd.advance(t0 + 4000);
    fd.sampleRates();
    fd.advance(frames.at(-1)!.timeMs + DUMP_DELAY_MS);
  });
  afterAll(async () => fd?.close());

  it('-L -n before any traffic', () => {
    expect(lines(before)).toEqual(lines(k.ipvsadm_L_n_before_replay));
  });

  for (const [args, key] of [
    [['-L', '-n'], 'ipvsadm_L_n'],
    [['-L', '-n', '--stats'], 'ipvsadm_L_n_stats'],
    [['-L', '-n', '--rate'], 'ipvsadm_L_n_rate'],
    [['-L', '-n', '--thresholds'], 'ipvsadm_L_n_thresholds'],
    [['-L', '-n', '--persistent-conn'], 'ipvsadm_L_n_persistent_conn'],
    [['-S', '-n'], 'ipvsadm_S_n'],
  ] as const) {
    it(`ipvsadm ${args.join(' ')}`, async () => {
      const r = await ipvsadm(fd.control, [...args]);
      expect(r.err).toBe('');
      expect(lines(r.out)).toEqual(lines(k[key]));
    });
  }

  it('ipvsadm -L -n -c: the same rows (the kernel lists them in its random hash order)', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '-c']);
    const ours = lines(r.out);
    const theirs = lines(k.ipvsadm_L_n_c);
    expect(ours.slice(0, 2)).toEqual(theirs.slice(0, 2));
    expect(ours.slice(2).sort()).toEqual(theirs.slice(2).sort());
  });
});

describe('recorded run local-real-mh (a real on the director\'s own address)', () => {
  const k = texts['local-real-mh']!;
  const spec = readJson<OracleSpec>(join(REPO, k.spec));
  let fd: FakeDirector;
  beforeAll(async () => {
    fd = await directorFor(spec);
  });
  afterAll(async () => fd?.close());

  it('lists the local real as Route, the flags as (mh-fallback,mh-port), as the kernel does', async () => {
    expect((await ipvsadm(fd.control, ['-L', '-n'])).out).toBe(k.ipvsadm_L_n_before_replay);
  });

  it('-S -n gives the kernel\'s rules', async () => {
    expect((await ipvsadm(fd.control, ['-S', '-n'])).out).toBe(k.ipvsadm_S_n);
  });
});

describe('recorded run sort-wrap (reals 2^31 or more apart)', () => {
  const k = texts['sort-wrap']!;
  const spec = readJson<OracleSpec>(join(REPO, k.spec));
  let fd: FakeDirector;
  beforeAll(async () => {
    fd = await directorFor(spec);
  });
  afterAll(async () => fd?.close());

  it('lists the reals in the order ipvsadm\'s wrapping comparator and glibc\'s merge sort give', async () => {
    expect((await ipvsadm(fd.control, ['-L', '-n'])).out).toBe(k.ipvsadm_L_n_before_replay);
    expect((await ipvsadm(fd.control, ['-S', '-n'])).out).toBe(k.ipvsadm_S_n);
  });

  it('--nosort lists them newest first, as the kernel keeps them', async () => {
    const rows = (await ipvsadm(fd.control, ['-L', '-n', '--nosort'])).out.split('\n').filter((l) => l.startsWith('  -> ') && /\d+\.\d/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[2])).toEqual(['150.1.1.1:80', '200.1.1.1:80', '100.1.1.1:80', '10.123.0.21:80']);
  });
});
