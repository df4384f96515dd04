/**
 * The testbed's state directory, /run/dsrlb-testbed/<prefix>/: what `up` built (state.json), the web
 * servers' PIDs, logs, certificates and keys. `down` removes it.
 */

import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import type { ArpStyle } from './topology.ts';

export const DEFAULT_STATE_ROOT = '/run/dsrlb-testbed';
export const STATE_FILE = 'state.json';

export interface TestbedState {
  version: 1;
  prefix: string;
  arpStyle: ArpStyle;
  /** 'building' while `up` runs (a crash leaves it so, and the next `up`/`down` cleans up), then 'up'. */
  phase: 'building' | 'up';
  createdAt: string;
  namespaces: string[];
  /** True when built dual-stack (`up --ipv6`); absent or false: IPv4 only. */
  ipv6?: boolean;
  /** Absent for the reference topology; 'ecmp' with its director count (ecmp.ts). */
  topology?: 'ecmp';
  directors?: number;
}

export function stateDirFor(prefix: string, root: string = DEFAULT_STATE_ROOT): string {
  return `${root}/${prefix}`;
}

export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function readState(dir: string): TestbedState | null {
  try {
    const s = JSON.parse(readFileSync(`${dir}/${STATE_FILE}`, 'utf8')) as TestbedState;
    return s && s.version === 1 ? s : null;
  } catch {
    return null;
  }
}

export function writeState(dir: string, s: TestbedState): void {
  ensureStateDir(dir);
  const tmp = `${dir}/${STATE_FILE}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, `${dir}/${STATE_FILE}`);
}

export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function pidPath(dir: string, host: string): string {
  return `${dir}/${host}.pid`;
}

export function logPath(dir: string, host: string): string {
  return `${dir}/${host}.log`;
}

export function readPid(dir: string, host: string): number | null {
  try {
    const n = Number(readFileSync(pidPath(dir, host), 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

export function writePid(dir: string, host: string, pid: number): void {
  writeFileSync(pidPath(dir, host), `${pid}\n`, { mode: 0o600 });
}

export function removePid(dir: string, host: string): void {
  rmSync(pidPath(dir, host), { force: true });
}
