/**
 * The runner's own I/O, behind small interfaces so tests can replace it: looking for maintenance
 * files, the reverse-DNS name of a real (for maintenance file names), and running fallbackcommand.
 */
import { spawn } from 'node:child_process';
import { lookupService } from 'node:dns/promises';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface MaintenanceProbe {
  /** The first of `names` that exists in `dir`, or null. */
  find(dir: string, names: readonly string[]): Promise<string | null>;
  /** The host name of an IPv4 address, or null (no name, or no answer in time). */
  hostname(ip: string): Promise<string | null>;
}

/** Runs `fallbackcommand start|stop` (the whole line, through /bin/sh, as Perl's system() does). */
export type CommandRunner = (commandLine: string) => Promise<{ code: number | null; signal: string | null; error?: string }>;

const NAME_TTL_MS = 60_000;
const NAME_TIMEOUT_MS = 1000;

/** Files on disk; host names from getnameinfo(), cached for a minute, bounded to a second. */
export function fsMaintenanceProbe(): MaintenanceProbe {
  const names = new Map<string, { name: string | null; at: number }>();
  return {
    async find(dir, candidates) {
      for (const n of candidates) {
        if (n.includes('/') || n === '.' || n === '..') continue;
        try {
          await access(join(dir, n));
          return n;
        } catch {
          /* not there */
        }
      }
      return null;
    },
    async hostname(ip) {
      const now = performance.now();
      const hit = names.get(ip);
      if (hit && now - hit.at < NAME_TTL_MS) return hit.name;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), NAME_TIMEOUT_MS); });
      const lookup = lookupService(ip, 0).then((r) => (r.hostname && r.hostname !== ip ? r.hostname : null), () => null);
      const name = await Promise.race([lookup, timeout]);
      clearTimeout(timer);
      names.set(ip, { name, at: now });
      return name;
    },
  };
}

export const shellCommandRunner: CommandRunner = (commandLine) =>
  new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', commandLine], { stdio: 'ignore' });
    child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
