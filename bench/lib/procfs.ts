/**
 * Director cost from /proc: CPU time (utime + stime) and resident memory of a process, its
 * children (the packet worker is a child of `dsrlb run`), and the load average.
 * The parsers are pure (tested on fixed text); the readers only read files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck: number | null = null;

/** Clock ticks per second of utime/stime (getconf CLK_TCK; 100 on Linux). */
export function ticksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime (ticks) from the text of /proc/PID/stat (the name may hold spaces and parentheses). */
export function parseStatTicks(text: string): number {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/PID/stat line');
  // After ") ": state(3) ppid(4) … utime(14) stime(15): fields 3.. start at index 0 here.
  const f = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('bad /proc/PID/stat line');
  return utime + stime;
}

/** utime and stime (ticks) apart, from the text of /proc/PID/stat. */
export function parseStatUserSys(text: string): { user: number; sys: number } {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/PID/stat line');
  const f = text.slice(close + 2).trim().split(/\s+/);
  const user = Number(f[11]);
  const sys = Number(f[12]);
  if (!Number.isFinite(user) || !Number.isFinite(sys)) throw new Error('bad /proc/PID/stat line');
  return { user, sys };
}

/**
 * voluntary_ctxt_switches of /proc/PID/status: how often the process's main thread went to sleep
 * by itself (in poll/epoll waiting for frames), i.e. its wake-ups.
 */
export function parseVoluntarySwitches(text: string): number {
  const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(text);
  if (!m) throw new Error('no voluntary_ctxt_switches in /proc/PID/status');
  return Number(m[1]);
}

/** VmRSS and VmHWM (KiB) from the text of /proc/PID/status. */
export function parseStatusMem(text: string): { rssKib: number; hwmKib: number } {
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKib: get('VmRSS'), hwmKib: get('VmHWM') };
}

export function cpuTicks(pid: number): number {
  return parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function cpuUserSys(pid: number): { user: number; sys: number } {
  return parseStatUserSys(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function wakeupsOf(pid: number): number {
  return parseVoluntarySwitches(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

export function memOf(pid: number): { rssKib: number; hwmKib: number } {
  return parseStatusMem(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Direct children of a process (from /proc/PID/task/TID/children). */
export function childrenOf(pid: number): number[] {
  const out = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.add(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return [...out];
}

/** The command line of a PID ('' when gone). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** 1, 5 and 15-minute load averages from the text of /proc/loadavg. */
export function parseLoadavg(text: string): number[] {
  return text.trim().split(/\s+/).slice(0, 3).map(Number);
}

export function loadAverage(): number[] {
  try {
    return parseLoadavg(readFileSync('/proc/loadavg', 'utf8'));
  } catch {
    return [];
  }
}
