/**
 * checktype=external (ldirectord check_external / system_timeout): run checkcommand with the
 * arguments VIP VPORT RIP RPORT; exit status 0 = up. After checktimeout the command is terminated
 * (SIGTERM, as ldirectord; dsrlb sends it to the command's whole process group and follows with
 * SIGKILL when the group is still there after a grace period) and the check fails.
 *
 * ldirectord exec()s checkcommand as one program path; dsrlb splits it on white space so that
 * `checkcommand=/usr/lib/check -q` works too. external-perl scripts are run by `perl` in a child
 * process (ldirectord evaluates them inside its own process; the arguments and exit codes are the same).
 */
import { spawn } from 'node:child_process';
import type { Checker, ExternalSpec } from '../types.ts';
import { bounded } from './bounded.ts';

/** Time between SIGTERM and SIGKILL for a command that outlived its timeout. */
export const KILL_GRACE_MS = 2000;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

export const externalCheck: Checker<ExternalSpec> = (spec, signal) => {
  const words = spec.command.trim().split(/\s+/).filter((w) => w !== '');
  const argv = spec.perl ? ['perl', ...words, ...spec.args] : [...words, ...spec.args];
  const shown = argv.join(' ');
  return bounded(spec.timeoutMs, signal, shown, (done, onCleanup) => {
    if (words.length === 0) { done({ ok: false, detail: 'empty checkcommand' }); return; }
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
    let exited = false;
    child.once('exit', (code, sig) => {
      exited = true;
      if (code === 0) done({ ok: true, detail: `${shown}: exit 0` });
      else done({ ok: false, detail: sig ? `${shown}: killed by ${sig}` : `${shown}: exit ${code}` });
    });
    child.once('error', (e) => { exited = true; done({ ok: false, detail: `cannot run ${argv[0]}: ${e.message}` }); });
    onCleanup(() => {
      const pid = child.pid;
      if (exited || pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => { if (!exited) killGroup(pid, 'SIGKILL'); }, KILL_GRACE_MS);
      t.unref();
      child.once('exit', () => clearTimeout(t));
    });
  });
};
