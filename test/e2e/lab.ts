/** Helpers for the end-to-end tests on the namespace testbed. */
import { afterAll, beforeAll, describe } from 'vitest';
import {
  labIoFromEnv, nsExec, startLabDirector, startTextCapture, testbedDown, testbedUp, type LabDirector, type LabDirectorOptions,
} from '../../src/testbed/index.ts';
import { poll } from '../helpers/wait.ts';

/**
 * The frame I/O backends every end-to-end suite runs on: both (the packet ring, then libpcap), or
 * only the one DSRLB_IO names. Whatever the suite starts (`dsrlb run`, `dsrlb ha`, ldirectord calling
 * `dsrlb ipvsadm`) inherits DSRLB_IO, which sets dsrlb's default backend (cli/packet-path.ts).
 */
export const IO_BACKENDS: ReadonlyArray<'ring' | 'pcap'> = labIoFromEnv() ? [labIoFromEnv()!] : ['ring', 'pcap'];

/** Runs `body` once per backend, inside a describe whose hooks set DSRLB_IO (and restore it after). */
export function forEachIoBackend(body: (io: 'ring' | 'pcap') => void): void {
  describe.each(IO_BACKENDS)('--io %s', (io) => {
    const before = process.env.DSRLB_IO;
    beforeAll(() => {
      process.env.DSRLB_IO = io;
    });
    afterAll(() => {
      if (before === undefined) delete process.env.DSRLB_IO;
      else process.env.DSRLB_IO = before;
    });
    body(io);
  });
}

export const vipNum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/** curl from a namespace; the body (trimmed) or null when it failed. */
export async function curl(ns: string, url: string, timeoutS = 3): Promise<string | null> {
  const r = await nsExec(ns, ['curl', '-s', '-k', '-m', String(timeoutS), url], { timeoutMs: (timeoutS + 2) * 1000 });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** A tcpdump running in a namespace until stop(); resolves its text output (-nn -e). */
export const startTcpdump = (ns: string, args: string[]) => startTextCapture(ns, args);

/** Polls `pred` every 100 ms for up to `ms`: the time it took, or -1 (test/helpers/wait.ts's poll). */
export const waitFor = (pred: () => Promise<boolean>, ms: number): Promise<number> => poll(pred, { timeoutMs: ms, intervalMs: 100 });

/**
 * A testbed with its own prefix and a dsrlb director on www1, made before the file's tests and
 * removed after them (also when one fails). `lab.director` is the running director.
 */
export function useLab(
  prefix: string, config: string, opts: Omit<LabDirectorOptions, 'prefix' | 'config'> = {}, up: { ipv6?: boolean } = {},
): { director: LabDirector } {
  const lab = {} as { director: LabDirector };
  beforeAll(async () => {
    await testbedUp({ prefix, ...up });
    lab.director = await startLabDirector({ prefix, config, ...opts });
  }, 60_000);
  afterAll(async () => {
    await lab.director?.stop();
    await testbedDown({ prefix });
  }, 60_000);
  return lab;
}

export function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
