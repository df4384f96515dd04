/**
 * Failover on the namespace testbed (root, CI): `dsrlb ha` on www1 and www2 with the seed's
 * ha.cf / haresources / authkeys / ldirectord.cf (ucast address per node, timers appended), a
 * client requesting the VIP every 50 ms from its own namespace. Prints the measured figures.
 *
 * Time: the assertions hold on a loaded 2-core machine (takeover happens, by the expected
 * mechanism, with bounds in seconds); the tight figures (first request through www2 within 300 ms of
 * a SIGKILL at keepalive 100 ms / deadtime 300 ms, takeover on SIGTERM within 100 ms, ...) are
 * printed as "failover figures" at the end, not asserted. Every wait is on a condition, bounded.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthKey } from '../../src/config/index.ts';
import { run as haCli } from '../../src/cli/commands/ha.ts';
import { encodeMessage } from '../../src/ha/index.ts';
import { controlRequest } from '../../src/io/index.ts';
import { hostAddress, hostMac, hostNamespace, nsExec, testbedDown, testbedUp, VIP } from '../../src/testbed/index.ts';
import { forEachIoBackend, startTcpdump } from '../e2e/lab.ts';
import { childrenOf, guardsOf, killHelpers, makeConfigDirs, openLongConnection, startClientLoop, startHa, waitFor, type ClientResult, type HaProc } from './lab.ts';

const prefix = `dsrh${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const URL_ = `http://${VIP}/`;
const TIMERS = { keepaliveMs: 100, deadtimeMs: 300 };
let dirs: ReturnType<typeof makeConfigDirs>;
let classicDirs: ReturnType<typeof makeConfigDirs> | undefined;
let failbackDirs: ReturnType<typeof makeConfigDirs> | undefined;
const procs: HaProc[] = [];
const figures: Record<string, string | number> = {};

function start(host: 'www1' | 'www2', d = dirs, args: string[] = []): HaProc {
  const p = startHa(prefix, host, d[host], args);
  procs.push(p);
  return p;
}

async function role(p: HaProc): Promise<string> {
  return (await p.status()).role;
}

/** The real (dotted quad) that node `p`'s connection table holds for the client's source port, if any. */
async function realOf(p: HaProc, cport: number): Promise<string | undefined> {
  const snap = (await controlRequest(p.control, { op: 'snapshot', conns: true }, 3000)) as { conns?: Array<{ cport: number; daddr: number; template: boolean }> };
  const c = snap.conns?.find((x) => x.cport === cport && !x.template);
  return c === undefined ? undefined : [c.daddr >>> 24, (c.daddr >>> 16) & 255, (c.daddr >>> 8) & 255, c.daddr & 255].join('.');
}

async function neighVip(): Promise<string | undefined> {
  const r = await nsExec(client, ['ip', '-j', 'neigh', 'show', VIP]);
  return (JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>)[0]?.lladdr;
}

/** Kill (or term) at t, then: first success among requests started after t, failures among them. */
function measure(rs: ClientResult[], t: number) {
  const after = rs.filter((r) => r.t0 >= t);
  const firstOk = after.filter((r) => r.ok).sort((a, b) => a.t1 - b.t1)[0];
  return {
    toFirstOkMs: firstOk ? firstOk.t1 - t : null,
    failed: rs.filter((r) => !r.ok && r.t1 >= t).length,
    requests: after.length,
  };
}

/** Waits (bounded) until the client loop has `n` served requests that started at or after `t`. */
const servedSince = (loop: { results(): ClientResult[] }, t: number, n: number, timeoutMs = 10_000) =>
  waitFor(`${n} requests served since ${t}`, () => loop.results().filter((r) => r.ok && r.t0 >= t).length >= n, timeoutMs, 20);
/** Failed requests of `rs` that started `settleMs` or more after `t` (the takeover seen): must be none. */
const failedAfter = (rs: ClientResult[], t: number, settleMs: number) => rs.filter((r) => !r.ok && r.t0 >= t + settleMs);
/** The reasons of the takeovers a node logged ("ha: taking the resources over"), in order. */
const takeoverReasons = (output: string): string[] =>
  output.split('\n').filter((l) => l.startsWith('{') && l.includes('ha: taking the resources over')).map((l) => (JSON.parse(l) as { reason: string }).reason);
/** A loaded-machine bound on the time from a failure to the first request served by the other node. */
const TAKEOVER_BOUND_MS = 3000;
/** Starting `dsrlb ha` (tsx, testbed, first heartbeats) takes seconds on a loaded machine: a wait for roles, not a figure. */
const STARTUP_MS = 60_000;
/** After the takeover was seen, requests started this much later must all be served. */
const SETTLE_MS = 2000;
let www1: HaProc;
let www2: HaProc;

// Once per frame I/O backend (ring, pcap): DSRLB_IO is inherited by every dsrlb this suite starts.
forEachIoBackend(() => {
beforeAll(async () => {
  await testbedUp({ prefix });
  dirs = makeConfigDirs(`keepalive ${TIMERS.keepaliveMs}ms\ndeadtime ${TIMERS.deadtimeMs}ms\nwarntime 200ms\ninitdead 2\n`);
}, 60_000);

afterAll(async () => {
  killHelpers();
  for (const p of procs.splice(0)) {
    await p.term(5000).catch(() => {});
    rmSync(p.control, { force: true });
  }
  await testbedDown({ prefix });
  if (dirs) rmSync(dirs.root, { recursive: true, force: true });
  if (classicDirs) rmSync(classicDirs.root, { recursive: true, force: true });
  if (failbackDirs) rmSync(failbackDirs.root, { recursive: true, force: true });
  console.log(`failover figures (keepalive ${TIMERS.keepaliveMs} ms, deadtime ${TIMERS.deadtimeMs} ms; classic*: 1 s / 3 s):\n${JSON.stringify(figures, null, 2)}`);
}, 60_000);

describe('dsrlb ha on the testbed', () => {
  it('both up from the seed files: www1 (haresources owner) active, www2 standby; the VIP answered by www1', async () => {
    const t0 = Date.now();
    www1 = start('www1');
    www2 = start('www2');
    await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 50);
    figures.bothUpToActiveMs = Date.now() - t0;
    await waitFor('a request through the VIP', async () => {
      const r = await nsExec(client, ['curl', '-s', '-m', '1', URL_], { timeoutMs: 3000 });
      return r.code === 0;
    }, 10_000, 100);
    expect(await neighVip()).toBe(hostMac('www1'));
    const out: string[] = [];
    expect(await haCli(['status', '--control', www2.control], { out: (x) => void out.push(x), err: () => {} })).toBe(0);
    const text = out.join('\n');
    console.log(`dsrlb ha status (www2):\n${text}`);
    expect(text).toMatch(/^node www2\.example\.com: standby {3}preferred www1\.example\.com, auto_failback off$/m);
    expect(text).toMatch(/^peer www1\.example\.com: active, last heartbeat \d+ ms ago, generation \d+$/m);
    expect(text).toMatch(/^heartbeats: sent \d+, received \d+, accepted \d+; ignored: malformed 0, forged 0, replayed 0, foreign 0; duplicates 0$/m);
    expect(text).toMatch(/^director: standby, forwarded 0/m);
    expect((await nsExec(hostNamespace(prefix, 'www1'), ['arptables', '-L', '-n'])).stdout).not.toContain('192.168.0.10');
    expect((await nsExec(hostNamespace(prefix, 'www2'), ['arptables', '-L', '-n'])).stdout).toContain('-d 192.168.0.10');
  }, 120_000);

  it('refuses to start with the seed\'s arptables chain names (IN/OUT) where arptables has INPUT/OUTPUT, saying which dialect to use', async () => {
    const p = startHa(prefix, 'www2', dirs.www2, ['--arptables-dialect', 'jf'], 'jf');
    procs.push(p);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/E_ARP_RULES.*arptables has no chain IN .*use --arptables-dialect netfilter/);
    expect(await role(www2)).toBe('standby');
  }, 120_000);

  it('forged (wrong key) and replayed heartbeats sent from the client namespace are counted and ignored', async () => {
    const key: AuthKey = { line: 2, index: 2, method: 'sha1', key: 'not-the-key' };
    const st = await www2.status();
    const gen = st.peerGeneration as number;
    const forged = encodeMessage({ t: 'status', src: 'www1.example.com', dest: 'www2.example.com', gen: gen + 1, seq: 1, st: 'stopping' }, key);
    // A real heartbeat of www1, captured on the wire, sent again.
    const pcap = execFileSync('ip', ['netns', 'exec', hostNamespace(prefix, 'www2'), 'timeout', '5', 'tcpdump', '-i', 'eth0', '-c', '1', '-U', '-w', '-', 'udp dst port 694 and src host 192.168.0.7'], { maxBuffer: 1 << 20 });
    const ihl = (pcap[24 + 16 + 14]! & 0x0f) * 4;
    const payload = pcap.subarray(24 + 16 + 14 + ihl + 8);
    expect(payload.toString('latin1')).toMatch(/^>>>\nt=status\nsrc=www1\.example\.com/);
    const send = (b: Uint8Array) => nsExec(client, [process.execPath, '-e',
      `const s=require('dgram').createSocket('udp4');s.send(Buffer.from('${Buffer.from(b).toString('hex')}','hex'),694,'192.168.0.8',()=>s.close())`]);
    await send(forged);
    // Sent again once it is older than the last 32 heartbeats (3.2 s at keepalive 100 ms): a replay.
    // A younger copy would count as a duplicate, as another medium's late copy does.
    await new Promise((r) => setTimeout(r, 3600));
    await send(payload);
    type Counted = { role: string; counters: { forged: number; replayed: number } };
    await waitFor('the forged and the replayed heartbeat counted', async () => {
      const c = (await www2.status() as unknown as Counted).counters;
      return c.forged >= 1 && c.replayed >= 1;
    }, 5000);
    const after = await www2.status() as unknown as Counted;
    expect(after.counters.forged).toBeGreaterThanOrEqual(1);
    expect(after.counters.replayed).toBeGreaterThanOrEqual(1);
    expect(after.role).toBe('standby');
    expect(await role(www1)).toBe('active');
    expect(www2.output()).toMatch(/heartbeat ignored: forged/);
    expect(www2.output()).toMatch(/heartbeat ignored: replayed/);
  }, 120_000);

  it('SIGKILL of the active: www2 takes over; time to the first served request, failed requests, the client\'s neighbour entry', async () => {
    // SYNs for the VIP arriving at www2's MAC: the requests that really went through www2.
    const syns = await startTcpdump(hostNamespace(prefix, 'www2'), ['-i', 'eth0', '-Q', 'in', `ether dst ${hostMac('www2')} and dst host ${VIP} and tcp[tcpflags] & tcp-syn != 0`]);
    const loop = startClientLoop(prefix, URL_, 50, 1000, 400);
    // A connection opened before the kill, half a request sent: rr, so only connection sync can
    // tell www2 which real it is on.
    const long = await openLongConnection(prefix, VIP, 80);
    expect(long.port, 'the long-lived connection opened').toBeGreaterThan(0);
    await waitFor('www2 received connection sync', async () => (await www2.status() as unknown as { counters: { syncConnsReceived: number } }).counters.syncConnsReceived > 0, 5000);
    await servedSince(loop, 0, 5); // the loop runs and is served before the kill
    const tKill = Date.now();
    await www1.kill();
    await waitFor('www2 active', async () => (await role(www2)) === 'active', 5000, 10);
    const tActive = Date.now();
    await servedSince(loop, tActive, 10); // served again, for a while, after the takeover
    const longBody = await long.finish();
    figures.killLongLivedConnection = longBody;
    expect(['www1', 'www2', 'www3']).toContain(longBody);
    const rs = await loop.stop();
    const viaWww2 = new Set([...(await syns.stop()).matchAll(/192\.168\.0\.100\.(\d+) > 192\.168\.0\.10\.80:/g)].map((x) => Number(x[1])));
    const m = measure(rs, tKill);
    const firstVia = rs.filter((r) => r.ok && r.t0 >= tKill && viaWww2.has(r.port)).sort((a, b) => a.t1 - b.t1)[0];
    figures.killToFirstOkMs = m.toFirstOkMs ?? -1;
    figures.killToFirstOkThroughWww2Ms = firstVia ? firstVia.t1 - tKill : -1;
    figures.killRequestsThroughWww2 = rs.filter((r) => r.ok && viaWww2.has(r.port)).length;
    figures.killFailedRequests = m.failed;
    figures.killRequestsAfter = m.requests;
    const tookOver = /"role":"active","at":(\d+)/.exec(www2.output());
    figures.killToRoleActiveMs = tookOver ? Number(tookOver[1]) - tKill : -1;
    expect(rs.filter((r) => r.t0 < tKill - 100).every((r) => r.ok)).toBe(true);
    expect(firstVia).toBeDefined();
    // Early detection: www1's host refuses www2's heartbeats (ICMP port unreachable) once its
    // dsrlb is gone, so www2 declares it dead after 1.5 × keepalive of silence, not deadtime.
    expect(www2.output()).toMatch(/dead early: its host refuses our heartbeats/);
    // The target at 100 ms / 300 ms is the first request through www2 within 0.3 s: a figure
    // (killToFirstOkThroughWww2Ms); the test asserts a bound a loaded machine keeps.
    expect(firstVia!.t1 - tKill).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
    // Failed requests: only around the takeover; none that started once it had settled.
    expect(failedAfter(rs, tActive, SETTLE_MS)).toEqual([]);
    expect(m.failed).toBeLessThan(m.requests);
    expect(await neighVip()).toBe(hostMac('www2'));
    const snap = await www2.status() as unknown as { director: { active: boolean; forwarded: number } };
    expect(snap.director.active).toBe(true);
    expect(snap.director.forwarded).toBeGreaterThan(0);
    // The guard put www1 back as a plain real server (suppression in place, no ingress drop) and exited.
    await waitFor('www1 suppression restored', async () => (await nsExec(hostNamespace(prefix, 'www1'), ['arptables', '-L', '-n'])).stdout.includes('-d 192.168.0.10'), 3000);
    expect((await nsExec(hostNamespace(prefix, 'www1'), ['nft', 'list', 'tables'])).stdout).not.toMatch(/dsrlb_eth0/);
    await waitFor('www1\'s guard gone', () => guardsOf(www1.pid).length === 0, 5000);
    expect(guardsOf(www2.pid)).toHaveLength(1);
  }, 120_000);

  it('auto_failback off: www1 restarted after a crash clears what it left (suppression, ingress drop), comes up standby, www2 stays active', async () => {
    const before = await www2.status() as unknown as { counters: { giveups: number } };
    // What a crash without the guard would leave: suppression lifted, the ingress drop in place.
    const ns1 = hostNamespace(prefix, 'www1');
    await nsExec(ns1, ['arptables', '-D', 'INPUT', '-d', VIP, '-j', 'DROP']);
    await nsExec(ns1, ['arptables', '-D', 'OUTPUT', '-s', VIP, '-o', 'eth0', '-j', 'mangle', '--mangle-ip-s', '192.168.0.7']);
    expect((await nsExec(ns1, ['nft', 'add', 'table', 'netdev', 'dsrlb_eth0'])).code).toBe(0);
    expect((await nsExec(ns1, ['arptables', '-L', '-n'])).stdout).not.toContain(VIP);
    www1 = start('www1');
    await waitFor('www1 standby', async () => (await role(www1)) === 'standby', STARTUP_MS, 50);
    // It stays standby: watched over 5 deadtimes of heartbeats (a property over time, not a wait).
    const watchedUntil = Date.now() + 5 * TIMERS.deadtimeMs;
    while (Date.now() < watchedUntil) {
      expect(await role(www1)).toBe('standby');
      await new Promise((r) => setTimeout(r, 50));
    }
    const s2 = await www2.status() as unknown as { role: string; counters: { giveups: number } };
    expect(s2.role).toBe('active');
    expect(s2.counters.giveups).toBe(before.counters.giveups);
    expect(await neighVip()).toBe(hostMac('www2'));
    // The restarted node cleared what it had left behind before anything else.
    const rules = (await nsExec(ns1, ['arptables', '-L', '-n'])).stdout;
    expect(rules.match(/-d 192\.168\.0\.10/g)).toHaveLength(1);
    expect(rules.match(/--mangle-ip-s 192\.168\.0\.7/g)).toHaveLength(1);
    expect((await nsExec(ns1, ['nft', 'list', 'tables'])).stdout).not.toMatch(/dsrlb_eth0/);
  }, 120_000);

  it('SIGTERM of the active: orderly giveup, the peer takes over at once', async () => {
    const loop = startClientLoop(prefix, URL_, 20, 1000, 600);
    await servedSince(loop, 0, 5);
    const tTerm = Date.now();
    const code = www2.term();
    await waitFor('www1 active', async () => (await role(www1)) === 'active', 3000, 5);
    const tActive = Date.now();
    expect(await code).toBe(0);
    expect(guardsOf(www2.pid)).toEqual([]);
    await servedSince(loop, tActive, 10);
    const rs = await loop.stop();
    const m = measure(rs, tTerm);
    const tookOver = /"role":"active","at":(\d+)/.exec(www1.output());
    figures.termToRoleActiveMs = tookOver ? Number(tookOver[1]) - tTerm : -1;
    figures.termToFirstOkMs = m.toFirstOkMs ?? -1;
    figures.termFailedRequests = m.failed;
    expect(figures.termToRoleActiveMs).toBeGreaterThanOrEqual(0);
    // "At once": taken over because www2 said it was stopping, not because it went silent (the
    // deadtime path). The time itself (target: 100 ms) is the figure termToRoleActiveMs.
    expect(takeoverReasons(www1.output())).toEqual(['the peer gave its resources up']);
    expect(figures.termToRoleActiveMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(m.toFirstOkMs).not.toBeNull();
    expect(failedAfter(rs, tActive, SETTLE_MS)).toEqual([]);
    expect(await neighVip()).toBe(hostMac('www1'));
    expect(www2.output()).toMatch(/ha: giveup done/);
    expect((await nsExec(hostNamespace(prefix, 'www2'), ['arptables', '-L', '-n'])).stdout).toContain('-d 192.168.0.10');
  }, 120_000);

  it('100 ms heartbeats do not false-trigger while the packet path is under load (ab through the VIP)', async () => {
    www2 = start('www2');
    await waitFor('www2 standby', async () => (await role(www2)) === 'standby', STARTUP_MS, 50);
    const mark1 = www1.output().length;
    const mark2 = www2.output().length;
    const h1 = (await www1.status() as unknown as { history: unknown[] }).history.length;
    const t0 = Date.now();
    const ab = await nsExec(client, ['ab', '-q', '-t', '5', '-n', '10000', '-c', '50', '-s', '5', URL_], { timeoutMs: 20_000 });
    figures.loadAbSeconds = (Date.now() - t0) / 1000;
    figures.loadAbRequestsPerSecond = Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? -1);
    figures.loadAbFailed = Number(/Failed requests:\s+(\d+)/.exec(ab.stdout)?.[1] ?? -1);
    const s1 = await www1.status() as unknown as { role: string; history: unknown[]; director: { forwarded: number } };
    const s2 = await www2.status() as unknown as { role: string; peerDead: boolean };
    expect(ab.code).toBe(0);
    expect(figures.loadAbRequestsPerSecond).toBeGreaterThan(0);
    expect([s1.role, s2.role]).toEqual(['active', 'standby']);
    expect(s1.history.length).toBe(h1);
    const during = www1.output().slice(mark1) + www2.output().slice(mark2);
    figures.loadLateHeartbeatWarnings = (during.match(/W_HA_LATE/g) ?? []).length;
    expect(during).not.toMatch(/W_HA_PEER_DEAD|ha: taking the resources over|E_HA_SPLIT_BRAIN/);
  }, 120_000);

  it('partition and heal (split brain): both active while apart; on healing exactly one (the preferred www1) keeps the VIP, without a gap', async () => {
    const ns2 = hostNamespace(prefix, 'www2');
    const cut = ['add table inet dsrhpart', 'add chain inet dsrhpart in { type filter hook input priority -10; }',
      'add rule inet dsrhpart in udp dport 694 drop', 'add chain inet dsrhpart out { type filter hook output priority -10; }',
      'add rule inet dsrhpart out udp dport 694 drop'];
    const loop = startClientLoop(prefix, URL_, 20, 1000, 1500);
    try {
      await servedSince(loop, 0, 5);
      const tCut = Date.now();
      for (const c of cut) expect((await nsExec(ns2, ['nft', ...c.split(' ')])).code).toBe(0);
      await waitFor('www2 active too', async () => (await role(www2)) === 'active', 5000, 10);
      expect(await role(www1)).toBe('active');
      await waitFor('the client follows www2\'s gratuitous ARP', async () => (await neighVip()) === hostMac('www2'), 3000, 20);
      await servedSince(loop, Date.now(), 5); // served while apart, through www2
      const tHeal = Date.now();
      expect((await nsExec(ns2, ['nft', 'delete', 'table', 'inet', 'dsrhpart'])).code).toBe(0);
      await waitFor('www2 standby again', async () => (await role(www2)) === 'standby', 3000, 5);
      figures.healToOneActiveMs = Date.now() - tHeal;
      expect(await role(www1)).toBe('active');
      await waitFor('the client back on www1', async () => (await neighVip()) === hostMac('www1'), 3000, 20);
      // The window the assertions look at: requests started up to 1 s after the heal, all finished.
      await waitFor('requests of the second after the heal finished', () => loop.results().some((r) => r.t0 > tHeal + 1000), 10_000);
      const rs = await loop.stop();
      const around = rs.filter((r) => r.t0 >= tHeal - 500 && r.t0 <= tHeal + 1000);
      const oks = around.filter((r) => r.ok).map((r) => r.t1).sort((a, b) => a - b);
      let gap = 0;
      for (let i = 1; i < oks.length; i++) gap = Math.max(gap, oks[i]! - oks[i - 1]!);
      const healed = rs.filter((r) => r.t0 >= tHeal && r.t0 <= tHeal + 1000);
      const apart = rs.filter((r) => r.t0 >= tCut && r.t0 < tHeal);
      figures.partitionRequests = apart.length;
      figures.partitionFailedRequests = apart.filter((r) => !r.ok).length;
      figures.healRequests = healed.length;
      figures.healFailedRequests = healed.filter((r) => !r.ok).length;
      figures.healMaxGapBetweenServedRequestsMs = gap;
      expect(healed.length).toBeGreaterThan(20);
      // "Without a gap": no pause in service as long as a takeover would take on a loaded machine
      // (the figure healMaxGapBetweenServedRequestsMs is the tight one; target < 300 ms).
      expect(gap).toBeLessThan(1000);
      // From the heal on: at most the connections in flight through www2 as it lets go.
      expect(figures.healFailedRequests).toBeLessThanOrEqual(5);
      expect(www1.output()).toMatch(/W_HA_PEER_YIELDED|E_HA_SPLIT_BRAIN/);
    } finally {
      await nsExec(ns2, ['nft', 'delete', 'table', 'inet', 'dsrhpart']);
      await loop.stop();
    }
  }, 120_000);

  it('classic timers (keepalive 1 s, deadtime 3 s), mh + sloppy_tcp, no connection sync: takeover within deadtime + 0.2 s, a long-lived connection survives', async () => {
    await www1.term();
    await www2.term();
    // The HTTP service scheduled with mh: both directors map a flow to the same real.
    classicDirs = makeConfigDirs('keepalive 1\ndeadtime 3\nwarntime 2\ninitdead 6\n', (t) => t.replace('scheduler=rr', 'scheduler=mh'));
    const args = ['--sysctl', 'sloppy_tcp=1', '--no-conn-sync'];
    www1 = start('www1', classicDirs, args);
    www2 = start('www2', classicDirs, args);
    await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 50);
    await waitFor('a request through the VIP', async () => (await nsExec(client, ['curl', '-s', '-m', '1', URL_], { timeoutMs: 3000 })).code === 0, 10_000, 100);
    const syns = await startTcpdump(hostNamespace(prefix, 'www2'), ['-i', 'eth0', '-Q', 'in', `ether dst ${hostMac('www2')} and dst host ${VIP} and tcp[tcpflags] & tcp-syn != 0`]);
    const loop = startClientLoop(prefix, URL_, 50, 1000, 400);
    const long = await openLongConnection(prefix, VIP, 80);
    expect(long.port, 'the long-lived connection opened').toBeGreaterThan(0);
    await servedSince(loop, 0, 5);
    const tKill = Date.now();
    await www1.kill();
    await waitFor('www2 active', async () => (await role(www2)) === 'active', 8000, 10);
    const tActive = Date.now();
    await servedSince(loop, tActive, 10);
    const body = await long.finish();
    const rs = await loop.stop();
    const viaWww2 = new Set([...(await syns.stop()).matchAll(/192\.168\.0\.100\.(\d+) > 192\.168\.0\.10\.80:/g)].map((x) => Number(x[1])));
    const firstVia = rs.filter((r) => r.ok && r.t0 >= tKill && viaWww2.has(r.port)).sort((a, b) => a.t1 - b.t1)[0];
    const tookOver = /"role":"active","at":(\d+)/.exec(www2.output());
    figures.classicKillToRoleActiveMs = tookOver ? Number(tookOver[1]) - tKill : -1;
    figures.classicKillToFirstOkThroughWww2Ms = firstVia ? firstVia.t1 - tKill : -1;
    figures.classicKillFailedRequests = rs.filter((r) => !r.ok && r.t1 >= tKill).length;
    figures.classicLongLivedConnectionMh = body;
    expect(['www1', 'www2', 'www3']).toContain(body);
    expect(firstVia).toBeDefined();
    // Within deadtime (3 s) plus a margin a loaded machine keeps; the figure is classicKillToFirstOkThroughWww2Ms.
    expect(firstVia!.t1 - tKill).toBeLessThanOrEqual(3000 + TAKEOVER_BOUND_MS);
    expect(failedAfter(rs, tActive, SETTLE_MS)).toEqual([]);
    expect(await neighVip()).toBe(hostMac('www2'));
  }, 120_000);

  it('control: rr without connection sync, a long-lived connection opened before the kill does not survive', async () => {
    await www1.term();
    await www2.term();
    www1 = start('www1', dirs, ['--no-conn-sync']);
    www2 = start('www2', dirs, ['--no-conn-sync']);
    await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 50);
    await waitFor('a request through the VIP', async () => (await nsExec(client, ['curl', '-s', '-m', '1', URL_], { timeoutMs: 3000 })).code === 0, 10_000, 100);
    // The control is only worth something for a connection scheduled to a real other than www2: on
    // www2 the frames of an unknown non-SYN segment also reach the host's own stack (IPVS likewise
    // lets them through, NF_ACCEPT), so a connection www1 gave to the real www2 lives on by design.
    // rr moves on with each new connection: at most three tries find one to www1 or www3.
    let long = await openLongConnection(prefix, VIP, 80);
    for (let i = 0; i < 3 && (await realOf(www1, long.port)) === hostAddress('www2'); i++) {
      long.kill();
      long = await openLongConnection(prefix, VIP, 80);
    }
    expect(long.port, 'the long-lived connection opened').toBeGreaterThan(0);
    const real = await realOf(www1, long.port);
    figures.controlLongLivedConnectionReal = real ?? 'none';
    expect(real, 'the long-lived connection scheduled by www1').toBeDefined();
    expect(real).not.toBe(hostAddress('www2'));
    await www1.kill();
    await waitFor('www2 active', async () => (await role(www2)) === 'active', 5000, 10);
    const body = await long.finish(3000);
    figures.controlLongLivedConnectionRrNoSync = body;
    expect(['www1', 'www2', 'www3']).not.toContain(body);
  }, 120_000);

  it('auto_failback on: www2 alone takes over after initdead; www1 (preferred) starting later gets the resources back', async () => {
    await www2.term();
    failbackDirs = makeConfigDirs('keepalive 100ms\ndeadtime 300ms\nwarntime 200ms\ninitdead 2\n', undefined, (t) => t.replace('auto_failback off', 'auto_failback on'));
    const t0 = Date.now();
    www2 = start('www2', failbackDirs);
    await waitFor('www2 active alone', async () => (await role(www2)) === 'active', STARTUP_MS, 20);
    figures.aloneStartToActiveMs = Date.now() - t0;
    await waitFor('the client on www2', async () => {
      await nsExec(client, ['curl', '-s', '-m', '1', URL_], { timeoutMs: 3000 });
      return (await neighVip()) === hostMac('www2');
    }, 5000, 100);
    www1 = start('www1', failbackDirs);
    await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 20);
    await waitFor('the client back on www1', async () => (await neighVip()) === hostMac('www1'), 3000, 20);
    expect(www2.output()).toMatch(/auto_failback: the preferred node is back/);
    expect((await nsExec(client, ['curl', '-s', '-m', '2', URL_], { timeoutMs: 4000 })).code).toBe(0);
  }, 120_000);

  it('broadcast and multicast media together (every message arrives twice: the copy is a duplicate, not a replay); SIGTERM moves the VIP', async () => {
    await www1.term();
    await www2.term();
    const media = makeConfigDirs('keepalive 100ms\ndeadtime 300ms\nwarntime 200ms\ninitdead 2\n', undefined,
      (t) => t.replace(/ucast eth0 192\.168\.0\.[78]/, 'bcast eth0\nmcast eth0 225.0.0.94 6940 1 0'));
    try {
      www1 = start('www1', media);
      www2 = start('www2', media);
      await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 50);
      type MediaCounters = { counters: { accepted: number; duplicates: number; replayed: number; forged: number } };
      await waitFor('more than 5 heartbeats accepted and 5 duplicates', async () => {
        const c = (await www2.status() as unknown as MediaCounters).counters;
        return c.accepted > 5 && c.duplicates > 5;
      }, 10_000, 50);
      const s2 = await www2.status() as unknown as MediaCounters;
      figures.mediaAccepted = s2.counters.accepted;
      figures.mediaDuplicates = s2.counters.duplicates;
      expect(s2.counters.accepted).toBeGreaterThan(5);
      expect(s2.counters.duplicates).toBeGreaterThan(5);
      expect(s2.counters.replayed + s2.counters.forged).toBe(0);
      const t = Date.now();
      const stopped = www1.term();
      await waitFor('www2 active', async () => (await role(www2)) === 'active', 2000, 5);
      figures.mediaTermToActiveMs = Date.now() - t;
      expect(await stopped).toBe(0);
      await waitFor('the client on www2', async () => {
        await nsExec(client, ['curl', '-s', '-m', '1', URL_], { timeoutMs: 3000 });
        return (await neighVip()) === hostMac('www2');
      }, 5000, 100);
    } finally {
      await www2.term();
      rmSync(media.root, { recursive: true, force: true });
    }
  }, 120_000);

  it('the packet path of the active dies: the node gives up (the peer takes over at once) and exits 1, its host a plain real server again', async () => {
    www1 = start('www1');
    www2 = start('www2');
    await waitFor('www1 active, www2 standby', async () => (await role(www1)) === 'active' && (await role(www2)) === 'standby', STARTUP_MS, 50);
    const workers = childrenOf(www1.pid).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('packet-worker');
      } catch {
        return false;
      }
    });
    expect(workers).toHaveLength(1);
    const t = Date.now();
    process.kill(workers[0]!, 'SIGKILL');
    await waitFor('www2 active', async () => (await role(www2)) === 'active', 3000, 5);
    figures.workerKillToPeerActiveMs = Date.now() - t;
    // "At once": the peer took over on www1's giveup, not after deadtime of silence (the figure
    // workerKillToPeerActiveMs is the time; the target is under deadtime, 300 ms).
    expect(takeoverReasons(www2.output())).toEqual(['the peer gave its resources up']);
    expect(figures.workerKillToPeerActiveMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(await www1.exited).toBe(1);
    expect((await nsExec(hostNamespace(prefix, 'www1'), ['arptables', '-L', '-n'])).stdout).toContain('-d 192.168.0.10');
    expect((await nsExec(hostNamespace(prefix, 'www1'), ['nft', 'list', 'tables'])).stdout).not.toMatch(/dsrlb_eth0/);
    expect(guardsOf(www1.pid)).toEqual([]);
  }, 120_000);
});
});
