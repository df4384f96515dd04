/**
 * A text-mode tcpdump (-nn -e -l, --immediate-mode: each frame delivered at once, none held in a ring
 * block at stop) inside a testbed namespace, for the demo and the tests: resolves
 * once tcpdump says it listens (so nothing sent afterwards is missed), and stop() returns what it
 * printed. Started through spawnInNs, which checks the namespace exists first.
 */
import type { ChildProcess } from 'node:child_process';
import { DsrlbError } from '../errors/index.ts';
import { spawnInNs } from './ns.ts';

export interface TextCapture {
  /** SIGTERM after a short grace (frames in flight are printed), then tcpdump's whole output. */
  stop(): Promise<string>;
  /** What tcpdump has printed so far (for waiting on a condition before stop()). */
  text(): string;
}

export async function startTextCapture(ns: string, args: readonly string[], timeoutMs = 5000): Promise<TextCapture> {
  const p: ChildProcess = spawnInNs(ns, ['tcpdump', '-nn', '-e', '-l', '--immediate-mode', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGTERM');
      reject(new DsrlbError('E_CAPTURE_START', `tcpdump in ${ns} did not start in ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    p.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new DsrlbError('E_CAPTURE_START', `tcpdump in ${ns} exited (code ${code}): ${err.trim()}`));
    });
  });
  let stopped: Promise<string> | null = null;
  return {
    text: () => out,
    stop() {
      stopped ??= (async () => {
        await new Promise((r) => setTimeout(r, 200));
        p.kill('SIGTERM');
        await exited;
        return out;
      })();
      return stopped;
    },
  };
}
