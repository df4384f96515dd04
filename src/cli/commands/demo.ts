/**
 * dsrlb demo — the main job, on the namespace testbed:
 *   testbed up → a dsrlb director on www1 with the reference ldirectord.cf → 30 HTTP and 30 HTTPS
 *   requests from the client with curl → who answered (rr: 10/10/10) and the proof of DSR
 *   → director stopped → testbed down (also when something fails).
 * With --ipv6 the testbed is dual-stack and the file is its dual-stack twin: the same requests go
 * to the VIP and to the VIP6, and the proof is given for each family (for IPv6, also who answered
 * the client's Neighbor Solicitation for the VIP6).
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestbedCapture } from '../../doctor/index.ts';
import { DsrlbError } from '../../errors/index.ts';
import { ipToString } from '../../model/index.ts';
import {
  hostMac, hostNamespace, nsExec, REAL_NAMES, startLabDirector, startTextCapture, testbedDown, testbedUp, VIP, VIP6,
  type LabDirector, type RealName, type TextCapture,
} from '../../testbed/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { CliIO } from '../io.ts';

export const REFERENCE_CONFIG = fileURLToPath(new URL('../../../docs/reference-setup/ldirectord.cf', import.meta.url));
export const DUALSTACK_CONFIG = fileURLToPath(new URL('../../../docs/reference-setup/ldirectord-dualstack.cf', import.meta.url));

const HELP = `Usage: dsrlb demo [--prefix P] [--requests N] [--ipv6] [--keep] [--capture DIR]

Builds the reference topology in network namespaces, runs a dsrlb director on www1 with
docs/reference-setup/ldirectord.cf, sends N HTTP and N HTTPS requests (default 30 each) to the VIP
from the client, shows which real server answered each and proves the replies bypassed the
director; then stops everything (--keep leaves the testbed and the director up). --capture DIR
records pcaps at the client, the director and each real server for \`dsrlb explain DIR\`.
--ipv6: a dual-stack testbed and docs/reference-setup/ldirectord-dualstack.cf; the requests go to
the VIP and to the VIP6 [2001:db8::10], with the proof for each family (NDP answered by the director).

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
    ipv6: { type: 'boolean' },
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
    if (values.ipv6) throw new DsrlbError('E_USAGE', '--ipv6 goes with the reference topology only');
    const nd = Number(values.directors ?? 3);
    if (!Number.isInteger(nd) || nd < 2 || nd > 4) throw new DsrlbError('E_USAGE', '--directors must be 2, 3 or 4');
    return (await import('../demo-ecmp.ts')).runEcmpDemo({ prefix, directors: nd, requests: n, keep: values.keep === true, capture: values.capture }, io);
  }
  const t0 = Date.now();
  const step = (s: string) => io.out(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);

  let director: LabDirector | null = null;
  let rec: { stop: () => Promise<unknown> } | null = null;
  const captures: TextCapture[] = [];
  const ipv6 = values.ipv6 === true;
  const families = ipv6 ? [{ name: 'IPv4', vip: VIP, url: VIP }, { name: 'IPv6', vip: VIP6, url: `[${VIP6}]` }] : [{ name: 'IPv4', vip: VIP, url: VIP }];
  try {
    step(`testbed up (prefix ${prefix}): client, www1, www2, www3 on one bridge; VIP ${VIP} on each real's lo, ARP for it suppressed` +
      (ipv6 ? `; dual-stack: VIP6 ${VIP6} on each real's lo, NDP for it suppressed` : ''));
    await testbedUp({ prefix, ipv6 });
    const cf = ipv6 ? DUALSTACK_CONFIG : REFERENCE_CONFIG;
    step(`dsrlb run on www1 (director and real server) with docs/reference-setup/${basename(cf)}`);
    director = await startLabDirector({ prefix, config: cf });
    if (values.capture) {
      rec = await startTestbedCapture({ prefix, dir: values.capture });
      step(`recording pcaps in ${values.capture} (client, director, reals)`);
    }
    const snap0 = await director.snapshot();
    for (const s0 of snap0.services.filter((x, i, all) => all.findIndex((y) => (y.vip6 ?? y.spec.vip) === (x.vip6 ?? x.spec.vip)) === i)) {
      for (const r of s0.reals) {
        const name = r.addr6 ?? ipToString(r.addr);
        step(`  real ${name} ${r.local ? 'is this host: served through the local veth path' : `resolved by ${r.addr6 ? 'Neighbor Solicitation' : 'ARP'}: ${r.mac}`}`);
      }
    }

    const client = hostNamespace(prefix, 'client');
    const synackFilter = (vip: string) => `src host ${vip} and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)`;
    // tcpdump's tcp[] works on IPv4 only: for IPv6 the flags byte is read at its place after the fixed header.
    const synack6Filter = (vip: string) => `ip6 and src host ${vip} and ip6[6] == 6 and ip6[53] & 0x12 == 0x12`;
    const table: Record<string, Record<string, number>> = {};
    const synacks: Record<string, string> = {};
    let failed = 0;
    for (const fam of families) {
      const cap = await startTextCapture(client, ['-i', 'eth0', '-Q', 'in', fam.name === 'IPv6' ? synack6Filter(fam.vip) : synackFilter(fam.vip)]);
      captures.push(cap);
      for (const scheme of ['http', 'https'] as const) {
        step(`${n} ${scheme.toUpperCase()} requests to ${scheme}://${fam.url}/ from the client (one connection each)`);
        for (let i = 0; i < n; i++) {
          const r = await nsExec(client, ['curl', '-s', '-k', '-m', '5', `${scheme}://${fam.url}/`], { timeoutMs: 8000 });
          const who = r.code === 0 ? r.stdout.trim() : `failed (curl exit ${r.code})`;
          if (r.code !== 0) failed++;
          (table[who] ??= {})[`${fam.name} ${scheme}`] = ((table[who] ?? {})[`${fam.name} ${scheme}`] ?? 0) + 1;
        }
      }
      synacks[fam.name] = await cap.stop();
    }
    const snap = await director.snapshot();

    const cols = families.flatMap((f) => [`${f.name} http`, `${f.name} https`]);
    io.out('');
    io.out(`real server  ${cols.map((c) => c.toUpperCase().replace('IPV', 'IPv').padStart(11)).join('')}`);
    for (const [who, c] of Object.entries(table).sort()) io.out(`${who.padEnd(12)} ${cols.map((k) => String(c[k] ?? 0).padStart(11)).join('')}`);

    const macName = new Map<string, string>(REAL_NAMES.map((h: RealName) => [hostMac(h), h]));
    io.out('');
    io.out('Proof of direct server return:');
    io.out(`  the director forwarded ${snap.forwarded} frames to www2/www3, delivered ${snap.local} to its own stack (www1), answered ${snap.arpReplies} ` +
      (ipv6 ? 'ARP request(s) and Neighbor Solicitation(s) for the VIP and the VIP6' : 'ARP request(s) for the VIP'));
    io.out(`  frames from ${ipv6 ? 'the VIP or the VIP6' : 'the VIP'} that reached the director: ${snap.fromVip}`);
    for (const fam of families) {
      const byMac = new Map<string, number>();
      for (const line of synacks[fam.name]!.split('\n')) {
        const m = /^\S+ ([0-9a-f:]{17}) >/.exec(line);
        if (m) byMac.set(m[1]!, (byMac.get(m[1]!) ?? 0) + 1);
      }
      io.out(`  SYN-ACKs from ${fam.vip} seen at the client, by sender MAC: ${[...byMac].map(([mac, k]) => `${macName.get(mac) ?? mac} ${k}`).join(', ') || 'none'}`);
    }
    io.out('  (each real answers from its own MAC with the VIP as source: the replies never cross the director)');
    let ndpOk = true;
    if (ipv6) {
      const neigh = await nsExec(client, ['ip', '-6', 'neigh', 'show', VIP6, 'dev', 'eth0'], { timeoutMs: 5000 });
      const mac = /lladdr ([0-9a-f:]{17})/.exec(neigh.stdout)?.[1] ?? null;
      ndpOk = mac === hostMac('www1');
      io.out(`  the client's neighbour entry for ${VIP6}: ${mac ? `${mac} (${macName.get(mac) ?? 'not a testbed host'})` : 'none'} — the director answered its Neighbor Solicitation, no real did`);
    }

    const even = REAL_NAMES.every((h) => cols.every((k) => table[h]?.[k] === n / 3));
    const ok = failed === 0 && snap.fromVip === 0 && ndpOk && (n % 3 !== 0 || even);
    io.out('');
    io.out(ok ? `OK: every request answered${n % 3 === 0 ? `, rr ${n / 3}/${n / 3}/${n / 3}` : ''}${ipv6 ? ' over IPv4 and IPv6' : ''}, no reply through the director`
      : `FAILED: ${failed} failed requests, ${snap.fromVip} replies through the director${ndpOk ? '' : ', the VIP6 not resolved to the director'}`);
    return ok ? 0 : 1;
  } finally {
    for (const c of captures) await c.stop();
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
