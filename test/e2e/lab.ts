/** Helpers for the end-to-end tests on the namespace testbed. */
import type { ChildProcess } from 'node:child_process';
import { nsExec, spawnInNs } from '../../src/testbed/index.ts';

export const vipNum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/** curl from a namespace; the body (trimmed) or null when it failed. */
export async function curl(ns: string, url: string, timeoutS = 3): Promise<string | null> {
  const r = await nsExec(ns, ['curl', '-s', '-k', '-m', String(timeoutS), url], { timeoutMs: (timeoutS + 2) * 1000 });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** A tcpdump running in a namespace until stop(); resolves its text output (-nn -e). */
export async function startTcpdump(ns: string, args: string[]): Promise<{ stop: () => Promise<string> }> {
  const p: ChildProcess = spawnInNs(ns, ['tcpdump', '-nn', '-e', '-l', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 5000);
    p.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      p.kill('SIGTERM');
      await exited;
      return out;
    },
  };
}

export function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
