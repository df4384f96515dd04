/**
 * The director's logger: pino, sent where ldirectord would send its log.
 *
 *   foreground (or supervised=yes)  JSON lines on stdout; a short human line per record when stdout is a TTY
 *   logfile=/a/path                 JSON lines appended to that file (reopen() after rotation)
 *   logfile=local0 (a facility)     real syslog messages to /dev/log: "<PRI>Mmm dd hh:mm:ss dsrlb[PID]: msg k=v …"
 *
 * Node has no unix datagram sockets in core (dgram is UDP only, net is stream only, and /dev/log is
 * a datagram socket), so syslog goes through `logger` from bsdutils (an Essential package on Debian):
 * one long-lived `logger --prio-prefix -u /dev/log` child, one stdin line per message, the priority
 * in the line's <PRI> prefix. logger writes the same header glibc's syslog(3) does. If the socket is
 * missing or logger fails, the records go to stderr instead, after one warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import pino from 'pino';
import { facilityCode, prettyLine, syslogMessage, syslogPri } from '../obs/index.ts';

export type LogDestination = 'stdout-json' | 'stdout-pretty' | 'file' | 'syslog' | 'stderr';

export interface LoggerOptions {
  /** pino level (default info). */
  level?: string;
  /** ldirectord's logfile=: an absolute path or a syslog facility name (a config LogTarget also fits). */
  logfile?: string | { raw: string; kind: 'file' | 'syslog' } | null;
  /** Foreground / supervised: stdout, whatever logfile says (as ldirectord does when supervised). */
  foreground?: boolean;
  /** Human-readable lines on stdout (default: when stdout is a TTY). */
  pretty?: boolean;
  /** Fields on every record besides pid and hostname. */
  base?: Record<string, unknown>;
  /** syslog tag (default "dsrlb"). */
  tag?: string;
  /** The syslog socket (default /dev/log). */
  syslogSocket?: string;
  /** The logger program (default "logger" on PATH). */
  loggerBin?: string;
  /** Where "stdout" and "stderr" are (tests). */
  stdout?: { write(s: string): unknown; isTTY?: boolean };
  stderr?: { write(s: string): unknown };
}

export interface LoggerHandle {
  log: pino.Logger;
  target: LogDestination;
  /** A one-line description of where the log goes, for the start-up message. */
  describe: string;
  /** Reopen the log file (after logrotate moved it); a no-op for other targets. */
  reopen(): void;
  /** Flush and release the target (ends the logger child). */
  close(): Promise<void>;
}

function normalise(l: LoggerOptions['logfile']): { raw: string; kind: 'file' | 'syslog' } | null {
  if (l === undefined || l === null) return null;
  if (typeof l !== 'string') return l;
  return { raw: l, kind: l.startsWith('/') ? 'file' : 'syslog' };
}

/** A pino destination that hands each record, parsed, to `each`. */
function recordStream(each: (rec: Record<string, unknown>, line: string) => void): pino.DestinationStream {
  return {
    write(line: string): void {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        rec = { msg: line.trimEnd() };
      }
      each(rec, line);
    },
  };
}

class SyslogPipe {
  private child: ChildProcess | null;
  private failed = false;
  private exited: Promise<void>;

  constructor(
    private readonly socket: string,
    private readonly facility: number,
    tag: string,
    bin: string,
    private readonly stderr: { write(s: string): unknown },
  ) {
    const argv = ['--prio-prefix', `--id=${process.pid}`, '-t', tag, '-u', socket, '--socket-errors=on', '-S', '8192'];
    const child = spawn(bin, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdin!.on('error', () => this.fail(`logger: ${err.trim() || 'its input closed'}`));
    this.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.fail(`cannot run ${bin}: ${e.message}`);
        resolve();
      });
      child.once('exit', (code) => {
        if (code !== 0 && this.child !== null) this.fail(`logger exited with code ${code}: ${err.trim()}`);
        this.child = null;
        resolve();
      });
    });
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.stderr.write(`dsrlb: syslog via ${this.socket} failed (${why}); logging to stderr from now on\n`);
  }

  write(rec: Record<string, unknown>, line: string): void {
    if (this.failed || this.child === null) {
      this.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
      return;
    }
    this.child.stdin!.write(`<${syslogPri(this.facility, Number(rec.level) || 30)}>${syslogMessage(rec)}\n`);
  }

  async close(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.child = null;
    c.stdin!.end();
    const timer = setTimeout(() => c.kill('SIGTERM'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function createLogger(o: LoggerOptions = {}): LoggerHandle {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const opts: pino.LoggerOptions = { level: o.level ?? 'info' };
  if (o.base) opts.base = { pid: process.pid, hostname: hostname(), ...o.base };
  const file = normalise(o.logfile);

  if (o.foreground || file === null) {
    const pretty = o.pretty ?? !!stdout.isTTY;
    const dest = pretty
      ? recordStream((rec) => stdout.write(`${prettyLine(rec)}\n`))
      : o.stdout
        ? recordStream((_r, line) => stdout.write(line))
        : pino.destination({ dest: 1, sync: true });
    return {
      log: pino(opts, dest),
      target: pretty ? 'stdout-pretty' : 'stdout-json',
      describe: pretty ? 'stdout (human-readable)' : 'stdout (JSON lines)',
      reopen() {},
      async close() {},
    };
  }

  if (file.kind === 'file') {
    const dest = pino.destination({ dest: file.raw, append: true, mkdir: true, sync: false });
    return {
      log: pino(opts, dest),
      target: 'file',
      describe: `file ${file.raw} (JSON lines)`,
      reopen: () => dest.reopen(),
      close: () =>
        new Promise<void>((resolve) => {
          dest.once('close', () => resolve());
          dest.once('error', () => resolve());
          dest.end();
        }),
    };
  }

  const facility = facilityCode(file.raw);
  const socket = o.syslogSocket ?? '/dev/log';
  if (!existsSync(socket)) {
    stderr.write(`dsrlb: logfile=${file.raw}: no syslog socket at ${socket}; logging to stderr\n`);
    return {
      log: pino(opts, recordStream((_r, line) => stderr.write(line))),
      target: 'stderr',
      describe: `stderr (no syslog socket at ${socket})`,
      reopen() {},
      async close() {},
    };
  }
  const pipe = new SyslogPipe(socket, facility, o.tag ?? 'dsrlb', o.loggerBin ?? 'logger', stderr);
  return {
    log: pino(opts, recordStream((rec, line) => pipe.write(rec, line))),
    target: 'syslog',
    describe: `syslog facility ${file.raw} via ${socket}`,
    reopen() {},
    close: () => pipe.close(),
  };
}

export interface HeartbeatLogOptions {
  /** ha.cf's logfacility (a syslog facility, or "none"). */
  logfacility?: string | null;
  /** ha.cf's logfile: every record at the log level, JSON lines. */
  logfile?: string | null;
  /** ha.cf's debugfile: every record down to debug, JSON lines. */
  debugfile?: string | null;
  /** --foreground: stdout only, whatever ha.cf says. */
  foreground?: boolean;
  level?: string;
  base?: Record<string, unknown>;
  tag?: string;
  syslogSocket?: string;
  loggerBin?: string;
  stdout?: { write(s: string): unknown; isTTY?: boolean };
  stderr?: { write(s: string): unknown };
}

/**
 * The HA node's logger, sent where heartbeat sends its log: syslog facility `logfacility` (unless
 * "none"), and/or `logfile`, and `debugfile` with the debug records too — every target that is set,
 * at once, as heartbeat does. With none of them (or --foreground): stdout, as createLogger.
 */
export function createHeartbeatLogger(o: HeartbeatLogOptions): LoggerHandle {
  const facility = o.logfacility && o.logfacility !== 'none' ? o.logfacility : null;
  if (o.foreground || (facility === null && !o.logfile && !o.debugfile)) {
    return createLogger({ level: o.level, base: o.base, foreground: true, stdout: o.stdout, stderr: o.stderr });
  }
  const stderr = o.stderr ?? process.stderr;
  const level = o.level ?? 'info';
  const streams: pino.StreamEntry[] = [];
  const describe: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  const files: Array<{ reopen(): void }> = [];
  if (facility !== null) {
    const code = facilityCode(facility);
    const socket = o.syslogSocket ?? '/dev/log';
    if (existsSync(socket)) {
      const pipe = new SyslogPipe(socket, code, o.tag ?? 'dsrlb', o.loggerBin ?? 'logger', stderr);
      streams.push({ level: level as pino.Level, stream: recordStream((rec, line) => pipe.write(rec, line)) });
      closers.push(() => pipe.close());
      describe.push(`syslog facility ${facility} via ${socket}`);
    } else {
      stderr.write(`dsrlb: logfacility ${facility}: no syslog socket at ${socket}; those records go to stderr\n`);
      streams.push({ level: level as pino.Level, stream: recordStream((_r, line) => stderr.write(line)) });
      describe.push(`stderr (no syslog socket at ${socket})`);
    }
  }
  const addFile = (path: string, lvl: string, what: string) => {
    const dest = pino.destination({ dest: path, append: true, mkdir: true, sync: false });
    streams.push({ level: lvl as pino.Level, stream: dest });
    files.push(dest);
    closers.push(() => new Promise<void>((resolve) => {
      dest.once('close', () => resolve());
      dest.once('error', () => resolve());
      dest.end();
    }));
    describe.push(`${what} ${path} (JSON lines)`);
  };
  if (o.logfile) addFile(o.logfile, level, 'file');
  if (o.debugfile) addFile(o.debugfile, 'debug', 'debug file');
  const opts: pino.LoggerOptions = { level: o.debugfile && o.level === undefined ? 'debug' : level };
  if (o.base) opts.base = { pid: process.pid, hostname: hostname(), ...o.base };
  return {
    log: pino(opts, pino.multistream(streams)),
    target: facility !== null ? 'syslog' : 'file',
    describe: describe.join(', '),
    reopen: () => files.forEach((f) => f.reopen()),
    close: async () => {
      await Promise.all(closers.splice(0).map((c) => c()));
    },
  };
}
