/**
 * Connection rate through 1, 2 and 3 ECMP directors in one run (issue #12, docs/scale-out.md):
 *
 *   npm run bench -- --topology ecmp [requests=3000] [concurrency=16]   (as root)
 *   npx tsx bench/ecmp.ts [requests=3000] [concurrency=16]
 *
 * Builds the ECMP testbed (prefix dsrgb<pid>), starts dsrlb --bgp on 3 directors, and for k = 1..3
 * leaves exactly k of them announcing the VIP (the others get every real at weight 0, so the policy
 * withdraws them), then runs `ab` from the client (one connection per request). Prints requests/s
 * per k and each director's forwarded frames. Removes everything at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ecmpDown, ecmpTopologyFor, ecmpUp, nsExec, parseNextHops, startLabDirector, type LabDirector,
} from '../src/testbed/index.ts';

let REQUESTS = 3000;
let CONC = 16;
const prefix = `dsrgb${process.pid % 10000}`;
const N = 3;
const CONFIG = fileURLToPath(new URL('../docs/ecmp/ldirectord.cf', import.meta.url));
const t = ecmpTopologyFor({ prefix, directors: N });
const ipNum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hops(): Promise<string[]> {
  return parseNextHops((await nsExec(t.routerNs, ['ip', 'route', 'show', t.vip], { check: false })).stdout);
}

export async function runEcmpBench(args: readonly string[]): Promise<void> {
  REQUESTS = Number(args[0] ?? 3000);
  CONC = Number(args[1] ?? 16);
  if (!Number.isInteger(REQUESTS) || REQUESTS < 1 || REQUESTS > 1_000_000 || !Number.isInteger(CONC) || CONC < 1 || CONC > 1000) {
    throw new Error('usage: bench/ecmp.ts [requests 1..1000000] [concurrency 1..1000]');
  }
  await main();
}

async function main(): Promise<void> {
  const directors: LabDirector[] = [];
  try {
    await ecmpUp({ prefix, directors: N });
    directors.push(...(await Promise.all(t.directors.map((d) => startLabDirector({
      prefix, ns: d.ns, config: CONFIG, readyTimeoutMs: 60_000, args: ['--sysctl', 'sloppy_tcp=1', '--bgp', 'local-as=65001,peer=192.168.0.1,peer-as=65000'],
    })))));
    const svc = { proto: 'tcp', vip: ipNum(t.vip), port: 80 };
    const setWeights = async (d: LabDirector, weight: number) => {
      for (const r of t.reals) await d.request({ op: 'editReal', id: 0, svc, addr: ipNum(r.addr), port: 80, changes: { weight } });
    };
    const rows: string[] = [];
    for (let k = 1; k <= N; k++) {
      for (let i = 0; i < N; i++) await setWeights(directors[i]!, i < k ? 1 : 0);
      const want = t.directors.slice(0, k).map((d) => d.addr);
      const end = Date.now() + 15_000;
      while (JSON.stringify(await hops()) !== JSON.stringify(want)) {
        if (Date.now() > end) throw new Error(`next hops ${(await hops()).join(',')} instead of ${want.join(',')}`);
        await sleep(100);
      }
      const before = await Promise.all(directors.map((d) => d.snapshot()));
      const r = await nsExec(t.clientNs, ['ab', '-q', '-n', String(REQUESTS), '-c', String(CONC), '-s', '5', `http://${t.vip}/`], { timeoutMs: 120_000, check: false });
      const after = await Promise.all(directors.map((d) => d.snapshot()));
      const rps = /Requests per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? 'n/a';
      const failed = /Failed requests:\s+(\d+)/.exec(r.stdout)?.[1] ?? 'n/a';
      const fwd = after.map((s, i) => s.forwarded - before[i]!.forwarded);
      rows.push(`${k} director(s): ${rps} requests/s (ab -n ${REQUESTS} -c ${CONC}, failed ${failed}); frames forwarded by d1..d${N}: ${fwd.join(', ')}`);
      console.log(rows.at(-1));
    }
    console.log(`\nECMP connection rate (${execFileSync('nproc').toString().trim()} CPUs, shared):\n  ${rows.join('\n  ')}`);
  } finally {
    for (const d of directors) await d.stop();
    await ecmpDown({ prefix, directors: N });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runEcmpBench(process.argv.slice(2));
