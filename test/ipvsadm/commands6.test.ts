/**
 * `dsrlb ipvsadm -A/-a` with IPv6 services, as the kernel's ipvsadm 1.31 took them in the IPv6
 * oracle runs. The fake director (harness.ts: the real packet path behind a real control socket)
 * is built with the very ipvsadm commands the oracle ran (its setup_log, `-A -t '[2001:db8::10]:80'`,
 * `-a … -r '[2001:db8::21]:80' -g -w 1`), then fed the run's pcap. The listings must be what the
 * kernel's ipvsadm printed after the same traffic: -L -n, --persistent-conn, one service with
 * -L -n -t [VIP6]:PORT, and the connections with -L -n -c (the kernel lists those in its hash order,
 * so the rows are compared as sets; their expiry column must agree too, listed 3.5 s after the
 * last frame as the oracle did).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadm, pcapFrames, type FakeDirector } from './harness.ts';
import { DIR6, director6, run6, setupCommands } from './harness6.ts';

/** The oracle lists about 3.5 s after the last frame (as in kernel-texts.test.ts). */
const DUMP_DELAY_MS = 3500;

const lines = (s: string): string[] => s.split('\n');

describe.each(['rr3', 'wrr123', 'lc3', 'dh3', 'sh3-port', 'udp-mh3-port', 'mh3b'])('IPv6 oracle run %s, set up by dsrlb ipvsadm', (name) => {
  const { spec, out: k } = run6(name);
  let fd: FakeDirector;

  beforeAll(async () => {
    fd = await director6(spec, k);
    const frames = pcapFrames(join(DIR6, 'pcap', `${name}.pcap`));
    fd.feed(frames);
    fd.advance(frames.at(-1)!.timeMs + DUMP_DELAY_MS);
  });
  afterAll(async () => fd?.close());

  it('ran the oracle\'s own commands (-A and -a with [addr]:port)', () => {
    const cmds = setupCommands(k.setup_log);
    expect(cmds[0]!.slice(0, 3)).toEqual(['-A', spec.protocol === 'tcp' ? '-t' : '-u', `[${spec.vip}]:${spec.port}`]);
    expect(cmds.filter((c) => c[0] === '-a').length).toBe(spec.reals.length);
  });

  it('ipvsadm -L -n prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n']);
    expect(r.err).toBe('');
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n));
  });

  it('ipvsadm -L -n --persistent-conn prints the kernel\'s lines', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '--persistent-conn']);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n_persistent_conn));
  });

  it('ipvsadm -L -n -t|-u [VIP6]:PORT prints that service as in -L -n, without the version line', async () => {
    const p = spec.protocol === 'tcp' ? '-t' : '-u';
    const r = await ipvsadm(fd.control, ['-L', '-n', p, `[${spec.vip}]:${spec.port}`]);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_L_n).slice(1));
    const none = await ipvsadm(fd.control, ['-L', '-n', p, `[${spec.vip}]:${spec.port + 1}`]);
    expect([none.code, none.err]).toEqual([1, 'No such service\n']);
  });

  it('ipvsadm -L -n -c lists the kernel\'s IPv6 connections (rows as a set: the kernel\'s hash order)', async () => {
    const r = await ipvsadm(fd.control, ['-L', '-n', '-c']);
    const ours = lines(r.out);
    const theirs = lines(k.ipvsadm_L_n_c);
    expect(ours.slice(0, 2)).toEqual(theirs.slice(0, 2));
    expect(ours.length).toBeGreaterThan(3);
    expect(ours.slice(2).sort()).toEqual(theirs.slice(2).sort());
  });

  it('ipvsadm -S -n prints the kernel\'s rules', async () => {
    const r = await ipvsadm(fd.control, ['-S', '-n']);
    expect(lines(r.out)).toEqual(lines(k.ipvsadm_S_n));
  });
});
