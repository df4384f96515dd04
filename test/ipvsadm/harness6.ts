/**
 * The IPv6 oracle runs as `dsrlb ipvsadm` sets them up: the run's own ipvsadm commands (its
 * setup_log, `-A -t '[2001:db8::10]:80' -s rr`, `-a … -r '[2001:db8::21]:80' -g -w 1`) sent to a
 * fake director (harness.ts) whose reals' MACs are known.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitWords } from '../../src/cli/commands/ipvsadm.ts';
import { parseIPv6, parseMac } from '../../src/model/index.ts';
import { ipvsadm, REPO, startFakeDirector, type FakeDirector } from './harness.ts';
import type { Spec6 } from '../replay/oracle.ts';

export const DIR6 = join(REPO, 'test/fixtures/ipvs-oracle/ipv6');

/** What an IPv6 oracle run recorded (the fields these tests read). */
export interface Out6 {
  setup_log: string;
  ipvsadm_L_n: string;
  ipvsadm_L_n_c: string;
  ipvsadm_L_n_persistent_conn: string;
  ipvsadm_S_n: string;
}

export const load6 = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

export function run6(name: string): { spec: Spec6; out: Out6 } {
  return { spec: load6<Spec6>(join(DIR6, 'specs', `${name}.json`)), out: load6<Out6>(join(DIR6, 'out', `${name}.json`)) };
}

/** The ipvsadm commands of a run's setup log, as argv. */
export function setupCommands(log: string): string[][] {
  return log.split('\n').filter((l) => l.startsWith('+ ipvsadm ')).map((l) => splitWords(l.slice('+ ipvsadm '.length)));
}

/** A fake director whose table was made by `dsrlb ipvsadm` with the run's commands. */
export async function director6(spec: Spec6, out: Out6): Promise<FakeDirector> {
  const fd = await startFakeDirector({ mac: spec.director_mac });
  for (const r of spec.reals) fd.pp.dp.services.setNeighbour6(parseIPv6(r.ip)!, parseMac(r.mac)!);
  for (const c of setupCommands(out.setup_log)) {
    const r = await ipvsadm(fd.control, c);
    if (r.code !== 0) throw new Error(`ipvsadm ${c.join(' ')}: ${r.err}`);
  }
  return fd;
}
