/**
 * One BIRD 2 per director, started and driven by dsrlb (docs/design/bgp.md): its own configuration
 * file, control socket, PID file and log in /run/dsrlb/bgp-net<netns>-<iface>/.
 *
 * BIRD runs in the foreground under a supervisor shell (its own process group, so a terminal's ^C
 * reaches dsrlb, which withdraws first) whose standard input is a pipe from this
 * process: when dsrlb dies (even by SIGKILL) the pipe closes, the shell's `read` returns and it
 * sends BIRD SIGTERM; BIRD then closes its BGP sessions with a Cease and the router drops this
 * director's next hop at once. Changes go through `birdc -s SOCK configure` (the sessions stay up).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DsrlbError } from '../errors/index.ts';
import { CONTROL_DIR, netnsId } from './control-socket.ts';

export interface BirdFiles {
  dir: string;
  conf: string;
  socket: string;
  pidFile: string;
  log: string;
}

export function birdFiles(iface: string, dir = join(CONTROL_DIR, `bgp-net${netnsId()}-${iface}`)): BirdFiles {
  return { dir, conf: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), pidFile: join(dir, 'bird.pid'), log: join(dir, 'bird.log') };
}

function birdc(socket: string, args: string[], timeoutMs = 5000): Promise<{ ok: boolean; out: string }> {
  return new Promise((res) => {
    execFile('birdc', ['-s', socket, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (e, out, err) =>
      res({ ok: !e, out: `${out}${err}` }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BirdSpeaker {
  private child: ChildProcess | null = null;
  private exited: string | null = null;

  constructor(readonly files: BirdFiles) {}

  /** PID of BIRD itself (from its PID file), null before it wrote one. */
  birdPid(): number | null {
    try {
      const n = Number(readFileSync(this.files.pidFile, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  }

  /** PID of the supervisor shell. */
  supervisorPid(): number | null {
    return this.child?.pid ?? null;
  }

  private writeConf(text: string): void {
    const tmp = `${this.files.conf}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.files.conf);
  }

  /** Writes the configuration, starts BIRD and waits until birdc answers (bounded). */
  async start(config: string, timeoutMs = 10_000): Promise<void> {
    const f = this.files;
    mkdirSync(f.dir, { recursive: true, mode: 0o750 });
    rmSync(f.socket, { force: true });
    this.writeConf(config);
    const parse = await new Promise<string | null>((res) =>
      execFile('bird', ['-p', '-c', f.conf], { timeout: 5000 }, (e, _o, err) =>
        res(e ? ((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : `${err}`.trim() || e.message) : null)));
    if (parse === 'ENOENT') throw new DsrlbError('E_BGP_DAEMON', 'bird is not installed: apt-get install bird2 (or npm run setup)');
    if (parse !== null) throw new DsrlbError('E_BGP_DAEMON', `bird -p refused the configuration: ${parse}`);
    const fd = openSync(f.log, 'a');
    // $1..$4: bird's paths. `read` returns when our end of the pipe closes (we exited or died).
    const script = 'bird -f -c "$1" -s "$2" -P "$3" & b=$!; trap \'kill -TERM $b 2>/dev/null; wait $b; exit 0\' TERM INT; read _ ; kill -TERM $b 2>/dev/null; wait $b';
    try {
      this.child = spawn('sh', ['-c', script, 'dsrlb-bird', f.conf, f.socket, f.pidFile], { stdio: ['pipe', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.child.on('exit', (code, sig) => (this.exited = `exited (${sig ?? code})`));
    this.child.on('error', (e) => (this.exited = e.message));
    this.child.unref();
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited !== null) throw new DsrlbError('E_BGP_DAEMON', `bird ${this.exited}: ${this.logTail()}`);
      const r = await birdc(f.socket, ['show', 'status'], 2000);
      if (r.ok && /Daemon is up and running/.test(r.out)) return;
      if (Date.now() > end) {
        await this.stop();
        throw new DsrlbError('E_BGP_DAEMON', `bird did not answer on ${f.socket} within ${timeoutMs} ms: ${r.out.trim()} ${this.logTail()}`);
      }
      await sleep(50);
    }
  }

  private logTail(): string {
    try {
      return readFileSync(this.files.log, 'utf8').trim().split('\n').slice(-4).join(' / ');
    } catch {
      return '';
    }
  }

  /** Rewrites the configuration and has BIRD apply it (sessions stay up). */
  async configure(config: string): Promise<void> {
    this.writeConf(config);
    const r = await birdc(this.files.socket, ['configure', `"${this.files.conf}"`]);
    if (!r.ok || !/Reconfigured|Reconfiguration in progress/.test(r.out)) {
      throw new DsrlbError('E_BGP_DAEMON', `birdc configure: ${r.out.trim()}`);
    }
  }

  /** `birdc show protocols` text (for logs and tests). */
  async protocols(): Promise<string> {
    return (await birdc(this.files.socket, ['show', 'protocols'])).out;
  }

  /**
   * Stops BIRD (its sessions close with a Cease) and its supervisor; bounded. A clean stop removes
   * the state directory (after a crash it stays, with BIRD's log, and the next start reuses it).
   */
  async stop(timeoutMs = 5000): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.child = null;
    if (this.exited === null) {
      c.stdin?.end(); // the supervisor's read returns: it stops BIRD and waits for it
      const end = Date.now() + timeoutMs;
      while (this.exited === null && Date.now() < end) await sleep(20);
      if (this.exited === null && c.pid !== undefined) {
        const b = this.birdPid();
        try {
          if (b !== null) process.kill(b, 'SIGKILL');
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    }
    rmSync(this.exited === null ? this.files.pidFile : this.files.dir, { recursive: true, force: true });
  }
}
