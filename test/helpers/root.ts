/**
 * The one way a test depends on running as root (namespaces, raw sockets, nft). As root the suite
 * runs. Not root on a developer machine: it is skipped, and its title says why. Not root under CI
 * (`CI` set, as CI services do): it FAILS — CI runs as root, so a root suite that does not run
 * there is a broken set-up, not a skip. test/arch/honesty.test.ts allows skip/runIf/skipIf only in
 * this file (and the few named exceptions it lists).
 */
import { describe, it } from 'vitest';

export type RootGate = 'run' | 'skip' | 'fail';

/** True when `CI` is set to anything but "", "0" or "false". */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** What a root-only suite does for this uid and environment. */
export function rootGate(uid: number | undefined, env: NodeJS.ProcessEnv = process.env): RootGate {
  if (uid === 0) return 'run';
  return inCi(env) ? 'fail' : 'skip';
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

const gateHere = (): RootGate => rootGate(typeof process.getuid === 'function' ? process.getuid() : undefined);

export function notRootError(name: string): Error {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'unknown';
  return new Error(`"${name}" needs root and CI is set, but this runs as uid ${uid}: CI must run the root tests as root`);
}

/** A describe() for a suite that needs root; see the file comment for what happens without it. */
export function describeAsRoot(name: string, fn: () => void, gate: RootGate = gateHere()): void {
  if (gate === 'run') describe(name, fn);
  else if (gate === 'fail') describe(name, () => it('runs as root', () => { throw notRootError(name); }));
  else describe.skip(`${name} [skipped: needs root, not root, not CI]`, fn);
}

/** An it() for a single test that needs root; same three cases as describeAsRoot. */
export function itAsRoot(name: string, fn: () => unknown, timeoutMs?: number, gate: RootGate = gateHere()): void {
  if (gate === 'run') it(name, fn, timeoutMs);
  else if (gate === 'fail') it(name, () => { throw notRootError(name); });
  else it.skip(`${name} [skipped: needs root, not root, not CI]`, fn);
}
