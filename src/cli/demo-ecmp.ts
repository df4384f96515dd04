/**
 * dsrlb demo --topology ecmp --directors N: the ECMP testbed, a dsrlb director with its BIRD on each
 * director (mh + sloppy_tcp, docs/ecmp/ldirectord.cf), HTTP requests from several client
 * addresses, who answered through which director, and the proof that every reply bypassed every
 * director (the SYN-ACKs reach the router from the reals' MACs; no director saw a frame from the VIP).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipToString } from '../model/index.ts';
import {
  ECMP_CLIENT_ADDRS, ecmpDown, ecmpStatus, ecmpTopologyFor, ecmpUp, formatEcmpStatus, nsExec, startLabDirector, startTextCapture,
  type LabDirector, type TextCapture,
} from '../testbed/index.ts';
import type { CliIO } from './io.ts';

export const ECMP_CONFIG = fileURLToPath(new URL('../../docs/ecmp/ldirectord.cf', import.meta.url));

export async function runEcmpDemo(o: { prefix: string; directors: number; requests: number; keep: boolean; capture?: string }, io: CliIO): Promise<number> {
  const t0 = Date.now();
  const step = (s: string) => io.out(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);
  const t = ecmpTopologyFor({ prefix: o.prefix, directors: o.directors });
  const directors: LabDirector[] = [];
  let capture: TextCapture | null = null;
  const pcaps: TextCapture[] = [];
  try {
    step(`testbed up (prefix ${o.prefix}, topology ecmp): client ${ECMP_CLIENT_ADDRS.join(', ')} -> router (BIRD, L4 ECMP) -> ${t.directors.map((d) => d.name).join(', ')} + www1..3 on one segment`);
    await ecmpUp({ prefix: o.prefix, directors: o.directors });
    step(`dsrlb run --bgp on every director (mh + sloppy_tcp, ${ECMP_CONFIG})`);
    directors.push(...(await Promise.all(t.directors.map((d) => startLabDirector({
      prefix: o.prefix, ns: d.ns, config: ECMP_CONFIG, readyTimeoutMs: 60_000,
      // --keep: detached, logging to the state directory, so the directors outlive the demo.
      logFile: o.keep ? join(t.httpd.stateDir, `dsrlb-${d.name}.log`) : undefined,
      args: ['--sysctl', 'sloppy_tcp=1', '--bgp', 'local-as=65001,peer=192.168.0.1,peer-as=65000'],
    })))));
    const end = Date.now() + 20_000;
    let st = await ecmpStatus({ prefix: o.prefix, directors: o.directors });
    while (st.nextHops.length < o.directors && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      st = await ecmpStatus({ prefix: o.prefix, directors: o.directors });
    }
    for (const l of formatEcmpStatus(st)) step(l.trim());

    if (o.capture) {
      // One pcap per capture point on the server segment: `dsrlb explain DIR` then shows which
      // director forwarded each flow (the router is the flows' client there).
      mkdirSync(o.capture, { recursive: true });
      for (const [host, ns] of [['router', t.routerNs], ...t.directors.map((d) => [d.name, d.ns]), ...t.reals.map((r) => [r.name, r.ns])] as const) {
        pcaps.push(await startTextCapture(ns, ['-i', 'eth0', '-s', '0', '-U', '--immediate-mode', '-w', join(o.capture, `${host}.pcap`)]));
      }
      step(`recording pcaps in ${o.capture} (router, directors, reals)`);
    }
    capture = await startTextCapture(t.routerNs, ['-i', 'eth0', '-e', '-Q', 'in', `src host ${t.vip} and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)`]);
    step(`${o.requests} HTTP requests to http://${t.vip}/ from the client's ${ECMP_CLIENT_ADDRS.length} addresses (one connection each)`);
    const byReal: Record<string, number> = {};
    let failed = 0;
    for (let i = 0; i < o.requests; i++) {
      const src = ECMP_CLIENT_ADDRS[i % ECMP_CLIENT_ADDRS.length]!;
      const r = await nsExec(t.clientNs, ['curl', '-s', '-m', '5', '--interface', src, `http://${t.vip}/`], { timeoutMs: 8000, check: false });
      const who = r.code === 0 ? r.stdout.trim() : 'failed';
      if (r.code !== 0) failed++;
      byReal[who] = (byReal[who] ?? 0) + 1;
    }
    const synacks = await capture.stop();
    capture = null;
    for (const c of pcaps.splice(0)) await c.stop();
    if (o.capture) step(`pcaps written to ${o.capture}: "dsrlb explain ${o.capture}" draws each flow through the director that forwarded it`);
    const snaps = await Promise.all(directors.map((d) => d.snapshot()));

    io.out('');
    io.out(`answered by: ${Object.entries(byReal).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
    io.out('connections scheduled, by director and real (each director\'s own table):');
    snaps.forEach((s, i) => {
      const row = s.services[0]!.reals.map((r) => `${ipToString(r.addr)} ${r.conns}`).join(', ');
      io.out(`  ${t.directors[i]!.name}: ${row}   (frames forwarded ${s.forwarded}, frames from the VIP ${s.fromVip}, ARP replies ${s.arpReplies})`);
    });
    const macs = new Map<string, number>();
    for (const line of synacks.split('\n')) {
      const m = /^\S+ ([0-9a-f:]{17}) >/.exec(line);
      if (m) macs.set(m[1]!, (macs.get(m[1]!) ?? 0) + 1);
    }
    const name = new Map([...t.reals, ...t.directors].map((h) => [h.mac, h.name]));
    io.out('');
    io.out('Proof of direct server return through N directors:');
    io.out(`  SYN-ACKs from the VIP arriving at the router, by sender MAC: ${[...macs].map(([m, k]) => `${name.get(m) ?? m} ${k}`).join(', ') || 'none'}`);
    const viaDirector = [...macs.keys()].filter((m) => t.directors.some((d) => d.mac === m)).length;
    const fromVip = snaps.reduce((a, s) => a + s.fromVip, 0);
    const arp = snaps.reduce((a, s) => a + s.arpReplies, 0);
    const used = snaps.filter((s) => s.forwarded > 0).length;
    const ok = failed === 0 && fromVip === 0 && viaDirector === 0 && arp === 0;
    io.out(`  replies through a director: ${viaDirector + fromVip}; ARP answers for the VIP by directors: ${arp}; directors that forwarded: ${used}/${o.directors}`);
    io.out('');
    io.out(ok ? `OK: ${o.requests} requests answered, spread over ${used} director(s), no reply through any director` : `FAILED: ${failed} failed requests, ${viaDirector + fromVip} replies through a director, ${arp} ARP answers`);
    return ok ? 0 : 1;
  } finally {
    await capture?.stop();
    for (const c of pcaps) await c.stop();
    if (!o.keep) {
      step('stopping the directors (each withdraws the VIP first)');
      for (const d of directors) await d.stop();
      step('testbed down');
      await ecmpDown({ prefix: o.prefix, directors: o.directors });
      step('done');
    } else {
      step(`left running: directors ${directors.map((d) => d.pid).join(', ')}; kill one and watch "dsrlb testbed status --prefix ${o.prefix}"; "dsrlb testbed down --prefix ${o.prefix}" removes it all`);
    }
  }
}
