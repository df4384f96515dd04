/** Loads the kernel IPVS vectors in test/fixtures/ipvs-oracle and turns a spec into an ldirectord.cf. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORACLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/ipvs-oracle');

export interface OracleSpec {
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  director_mac: string;
  clients?: number;
  scheduler: string;
  sched_flags?: string[];
  persistence?: number;
  sysctls?: Record<string, number>;
  reals: Array<{ ip: string; mac: string; weight: number; port?: number }>;
}

export interface OracleResult {
  director_own_frames: Array<{ what: string }>;
  spec: OracleSpec;
  choices: string[];
  templates: unknown[];
  not_forwarded_in_frames: number[];
  ipvsadm_L_n: string;
  ipvsadm_L_n_stats: string;
}

export const reference: Record<string, OracleResult> = JSON.parse(
  readFileSync(join(ORACLE_DIR, 'reference.json'), 'utf8'),
);

export function specOf(name: string): OracleSpec {
  return JSON.parse(readFileSync(join(ORACLE_DIR, 'specs', `${name}.json`), 'utf8'));
}

export function pcapOf(spec: OracleSpec): string {
  return join(ORACLE_DIR, 'pcap', `flows100-clients${spec.clients ?? 5}.pcap`);
}

/** The ldirectord.cf an ldirectord user would write for this spec (reals in the order they are added). */
export function ldirectordFor(spec: OracleSpec): string {
  const lines = [`virtual=${spec.vip}:${spec.port}`];
  for (const r of spec.reals) lines.push(`\treal=${r.ip}:${r.port ?? spec.port} gate ${r.weight}`);
  lines.push(`\tscheduler=${spec.scheduler}`, `\tprotocol=${spec.protocol}`, '\tchecktype=off');
  if (spec.persistence) lines.push(`\tpersistent=${spec.persistence}`);
  if (spec.sched_flags?.length) lines.push(`\tschedflags=${spec.sched_flags.join(',')}`);
  return lines.join('\n') + '\n';
}

/** Per-real rows of `ipvsadm -L -n` (Weight ActiveConn InActConn) and `--stats` (Conns InPkts InBytes). */
export function ipvsadmRows(r: OracleResult): Map<string, { weight: number; active: number; inactive: number; conns: number; inPkts: number; inBytes: number }> {
  const rows = new Map<string, { weight: number; active: number; inactive: number; conns: number; inPkts: number; inBytes: number }>();
  for (const line of r.ipvsadm_L_n.split('\n')) {
    const m = /^\s+-> (\S+)\s+Route\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) rows.set(m[1]!, { weight: +m[2]!, active: +m[3]!, inactive: +m[4]!, conns: 0, inPkts: 0, inBytes: 0 });
  }
  for (const line of r.ipvsadm_L_n_stats.split('\n')) {
    const m = /^\s+-> (\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) Object.assign(rows.get(m[1]!)!, { conns: +m[2]!, inPkts: +m[3]!, inBytes: +m[5]! });
  }
  return rows;
}

/** The SPEC of an IPv6 oracle run (test/fixtures/ipvs-oracle/ipv6/specs). */
export interface Spec6 {
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  director_mac: string;
  scheduler: string;
  sched_flags?: string[];
  reals: { ip: string; mac: string; weight: number; port?: number; u_threshold?: number }[];
}
