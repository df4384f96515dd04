/** `dsrlb doctor` run in-process for the namespace tests, and the fix commands it printed. */
import { run as doctor } from '../../src/cli/commands/doctor.ts';

export async function runDoctor(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await doctor(args, { out: (s) => (out += s + '\n'), err: (s) => (out += s + '\n') });
  return { code, out };
}

/** The fix commands the doctor printed under a FAIL or WARN of `check` (comments left out; none if it did not fail). */
export function fixes(out: string, check: string): string[] {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s+(FAIL|WARN)\\s+${check}\\s`).test(l));
  const cmds: string[] = [];
  for (let j = i + 1; i >= 0 && j < lines.length && /^\s+(fix: |\s{5})/.test(lines[j]!) && !/^\s+(ok|FAIL|WARN|info)\s/.test(lines[j]!); j++) {
    const c = lines[j]!.replace(/^\s+(fix: )?/, '');
    if (!c.startsWith('#')) cmds.push(c);
  }
  return cmds;
}
