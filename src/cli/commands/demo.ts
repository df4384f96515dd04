/**
 * dsrlb demo — the main job, on the namespace testbed:
 *   testbed up → a dsrlb director on www1 with the reference ldirectord.cf → 30 HTTP and 30 HTTPS
 *   requests from the client with curl → who answered (rr: 10/10/10) and the proof of DSR
 *   → director stopped → testbed down (also when something fails).
 */
import { fileURLToPath } from 'node:url';
import { startTestbedCapture } from '../../doctor/index.ts';
import { DsrlbError } from '../../errors/index.ts';
import { ipToString } from '../../model/index.ts';
import {
  hostMac, hostNamespace, nsExec, REAL_NAMES, startLabDirector, startTextCapture, testbedDown, testbedUp, VIP,
  type LabDirector, type RealName, type TextCapture,
} from '../../testbed/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';

export const REFERENCE_CONFIG = fileURLToPath(new URL('../../../docs/reference-setup/ldirectord.cf', import.meta.url));

const HELP = `Usage: dsrlb demo [--prefix P] [--requests N] [--keep] [--capture DIR]

Builds the reference topology in network namespaces, runs a dsrlb director on www1 with
docs/reference-setup/ldirectord.cf, sends N HTTP and N HTTPS requests (default 30 each) to the VIP
from the client, shows which real server answered each and proves the replies bypassed the
director; then stops everything (--keep leaves the testbed and the director up). --capture DIR
records pcaps at the client, the director and each real server for \`dsrlb explain DIR\`.

--topology ecmp [--directors N]: the ECMP scale-out instead (docs/scale-out.md): a router running
BIRD, N directors (2..4, default 3) each announcing the VIP over BGP, N HTTP requests from several
client addresses, who served them through which director, and the proof of DSR; --capture DIR
records pcaps at the router, each director and each real (dsrlb explain DIR names the director of
each flow).`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    prefix: { type: 'string' },
    requests: { type: 'string' },
    keep: { type: 'boolean' },
    capture: { type: 'string' },
    topology: { type: 'string' },
    directors: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const prefix = values.prefix ?? 'dsr';
  const n = Number(values.requests ?? 30);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new DsrlbError('E_USAGE', '--requests must be an integer from 1 to 1000');
  if (values.topology !== undefined && values.topology !== 'reference') {
    if (values.topology !== 'ecmp') throw new DsrlbError('E_USAGE', '--topology must be reference or ecmp');
    const nd = Number(values.directors ?? 3);
    if (!Number.isInteger(nd) || nd < 2 || nd > 4) throw new DsrlbError('E_USAGE', '--directors must be 2, 3 or 4');
    return (await import('../demo-ecmp.ts')).runEcmpDemo({ prefix, directors: nd, requests: n, keep: values.keep === true, capture: values.capture }, io);
  }
  const t0 = Date.now();
  const step = (s: string) => io.out(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);

  let director: LabDirector | null = null;
  let capture: TextCapture | null = null;
  let rec: { stop: () => Promise<unknown> } | null = null;
  try {
    step(`testbed up (prefix ${prefix}): client, www1, www2, www3 on one bridge; VIP ${VIP} on each real's lo, ARP for it suppressed`);
    await testbedUp({ prefix });
    step('dsrlb run on www1 (director and real server) with docs/reference-setup/ldirectord.cf');
    director = await startLabDirector({ prefix, config: REFERENCE_CONFIG });
    if (values.capture) {
      rec = await startTestbedCapture({ prefix, dir: values.capture });
      step(`recording pcaps in ${values.capture} (client, director, reals)`);
    }
    const snap0 = await director.snapshot();
    for (const r of snap0.services[0]!.reals) {
      step(`  real ${ipToString(r.addr)} ${r.local ? 'is this host: served through the local veth path' : `resolved by ARP: ${r.mac}`}`);
    }

    const client = hostNamespace(prefix, 'client');
    capture = await startTextCapture(client, ['-i', 'eth0', '-Q', 'in',
      `src host ${VIP} and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)`]);

    const table: Record<string, { http: number; https: number }> = {};
    let failed = 0;
    for (const scheme of ['http', 'https'] as const) {
      step(`${n} ${scheme.toUpperCase()} requests to ${scheme}://${VIP}/ from the client (one connection each)`);
      for (let i = 0; i < n; i++) {
        const r = await nsExec(client, ['curl', '-s', '-k', '-m', '5', `${scheme}://${VIP}/`], { timeoutMs: 8000 });
        const who = r.code === 0 ? r.stdout.trim() : `failed (curl exit ${r.code})`;
        if (r.code !== 0) failed++;
        (table[who] ??= { http: 0, https: 0 })[scheme]++;
      }
    }
    const synacks = await capture.stop();
    const snap = await director.snapshot();

    io.out('');
    io.out('real server   HTTP  HTTPS');
    for (const [who, c] of Object.entries(table).sort()) io.out(`${who.padEnd(12)} ${String(c.http).padStart(5)} ${String(c.https).padStart(6)}`);

    const byMac = new Map<string, number>();
    for (const line of synacks.split('\n')) {
      const m = /^\S+ ([0-9a-f:]{17}) >/.exec(line);
      if (m) byMac.set(m[1]!, (byMac.get(m[1]!) ?? 0) + 1);
    }
    const macName = new Map<string, string>(REAL_NAMES.map((h: RealName) => [hostMac(h), h]));
    io.out('');
    io.out('Proof of direct server return:');
    io.out(`  the director forwarded ${snap.forwarded} frames to www2/www3, delivered ${snap.local} to its own stack (www1), answered ${snap.arpReplies} ARP request(s) for the VIP`);
    io.out(`  frames from the VIP that reached the director: ${snap.fromVip}`);
    io.out(`  SYN-ACKs from the VIP seen at the client, by sender MAC: ${[...byMac].map(([mac, k]) => `${macName.get(mac) ?? mac} ${k}`).join(', ') || 'none'}`);
    io.out('  (each real answers from its own MAC with the VIP as source: the replies never cross the director)');

    const even = REAL_NAMES.every((h) => table[h]?.http === n / 3 && table[h]?.https === n / 3);
    const ok = failed === 0 && snap.fromVip === 0 && (n % 3 !== 0 || even);
    io.out('');
    io.out(ok ? `OK: every request answered${n % 3 === 0 ? `, rr ${n / 3}/${n / 3}/${n / 3}` : ''}, no reply through the director` : `FAILED: ${failed} failed requests, ${snap.fromVip} replies through the director`);
    return ok ? 0 : 1;
  } finally {
    await capture?.stop();
    if (rec) {
      await rec.stop();
      step(`pcaps written to ${values.capture}: "dsrlb explain ${values.capture}" draws the ladder diagrams`);
    }
    if (!values.keep) {
      if (director) {
        step('stopping the director (ingress drop and local path removed)');
        await director.stop();
      }
      step('testbed down');
      await testbedDown({ prefix });
      step('done');
    } else {
      step(`left running: director pid ${director?.pid}, testbed ${prefix} ("dsrlb testbed down --prefix ${prefix}" removes it)`);
    }
  }
}
