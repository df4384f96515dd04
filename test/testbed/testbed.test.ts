/**
 * The real testbed, as root: builds it under a prefix unique to this run, checks it from inside
 * the client namespace, tears it down. Runs in CI (as root); every command is bounded in time and
 * afterAll removes everything, also when a test fails.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ADDR,
  REALS,
  VIP,
  allNamespaces,
  hostMac,
  hostNamespace,
  nsExec,
  nsExists,
  startServer,
  stopServer,
  StepFailure,
  stateDirFor,
  testbedDown,
  testbedStatus,
  testbedUp,
} from '../../src/testbed/index.ts';
import { findOurHttpds, isAlive } from '../../src/testbed/daemon.ts';
import { run } from '../../src/cli/commands/testbed.ts';

const PREFIX = `dsrt${process.pid % 10000}`;
const CLIENT = hostNamespace(PREFIX, 'client');
const quietIo = { out: () => {}, err: () => {} };
const log: string[] = [];
const onProgress = (l: string): void => void log.push(l);

async function client(argv: string[], timeoutMs = 8000) {
  return nsExec(CLIENT, argv, { timeoutMs });
}

async function curl(url: string): Promise<{ code: number | null; body: string }> {
  const r = await client(['curl', '-sS', '-k', '--max-time', '5', url]);
  return { code: r.code, body: r.stdout.trim() };
}

/**
 * ARP probe through the client's kernel: flush its neighbour table, ping the target once (one ARP
 * request goes out at once; the reals on the same bridge answer within microseconds), then read
 * which MAC (if any) the client learned. No static entries, no extra package.
 */
async function arpResolve(target: string, tries = 1): Promise<string | null> {
  await client(['ip', 'neigh', 'flush', 'dev', 'eth0']);
  for (let i = 0; i < tries; i++) {
    await client(['ping', '-c', '1', '-W', '1', target]);
    const mac = await learned(target);
    if (mac) return mac;
  }
  return null;
}

/** Packets the INPUT DROP rule for the VIP has dropped on a real (arptables style). */
async function vipArpDrops(host: 'www1' | 'www2' | 'www3'): Promise<number> {
  const r = await nsExec(hostNamespace(PREFIX, host), ['arptables', '-L', 'INPUT', '-n', '-v'], { timeoutMs: 5000 });
  const m = /-j DROP .*-d 192\.168\.0\.10 , pcnt=(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : -1;
}

async function learned(target: string): Promise<string | null> {
  const r = await client(['ip', '-j', 'neigh', 'show', 'to', target, 'dev', 'eth0']);
  const entries = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
  return entries[0]?.lladdr ?? null;
}

function rootLinks(): Promise<{ ifname: string; address?: string }[]> {
  // Read-only look at the root namespace: nothing of ours may be there.
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'link', 'show'], { timeout: 5000 }, (_e, out) => resolve(JSON.parse(String(out) || '[]')));
  });
}

function everythingGone(): void {
  for (const ns of allNamespaces(PREFIX)) expect(nsExists(ns), ns).toBe(false);
  expect(findOurHttpds(PREFIX)).toEqual([]);
  expect(existsSync(stateDirFor(PREFIX))).toBe(false);
}

afterAll(async () => {
  await testbedDown({ prefix: PREFIX }).catch((e: unknown) => console.error('teardown failed', e));
}, 60_000);

describe('namespace testbed (root)', () => {
  beforeAll(async () => {
    await testbedDown({ prefix: PREFIX }); // leftovers of an earlier run with the same PID
  }, 60_000);

  it('up builds the complete reference topology', async () => {
    const r = await testbedUp({ prefix: PREFIX, onProgress });
    expect(r.action).toBe('created');
    expect(r.status.state).toBe('complete');
    expect(r.status.arpStyle).toBe('arptables');
    for (const ns of allNamespaces(PREFIX)) expect(nsExists(ns)).toBe(true);
    expect(log.some((l) => /^\[\s*1\/\d+\] ok/.test(l))).toBe(true);
  }, 60_000);

  it('creates nothing in the root namespace', async () => {
    const links = await rootLinks();
    const ours = links.filter((l) => /^to-(client|www\d)$/.test(l.ifname) || (l.address ?? '').startsWith('02:d5:00:00:00:'));
    expect(ours).toEqual([]);
  });

  it('each real answers its own address with its name over HTTP and HTTPS, and /ping.cgi with ok', async () => {
    for (const [name, ip] of Object.entries(REALS)) {
      expect(await curl(`http://${ip}/`)).toEqual({ code: 0, body: name });
      expect(await curl(`https://${ip}/`)).toEqual({ code: 0, body: name });
      expect(await curl(`http://${ip}/ping.cgi`)).toEqual({ code: 0, body: 'ok' });
      expect(await curl(`https://${ip}/ping.cgi`)).toEqual({ code: 0, body: 'ok' });
    }
  });

  it('every real holds the VIP on lo, the client has its address', async () => {
    for (const name of Object.keys(REALS) as (keyof typeof REALS)[]) {
      const r = await nsExec(hostNamespace(PREFIX, name), ['ip', '-4', 'addr', 'show', 'lo'], { timeoutMs: 5000 });
      expect(r.stdout).toContain(`inet ${VIP}/32`);
      // Each real serves the VIP locally too (bound to 0.0.0.0).
      const v = await nsExec(hostNamespace(PREFIX, name), ['curl', '-sS', '--max-time', '5', `http://${VIP}/`], { timeoutMs: 8000 });
      expect(v.stdout.trim()).toBe(name);
    }
    const c = await client(['ip', '-4', 'addr', 'show', 'eth0']);
    expect(c.stdout).toContain(`inet ${CLIENT_ADDR}/24`);
  });

  it('ARP for the VIP gets no answer (arptables), ARP for a real address does', async () => {
    const before = await Promise.all((['www1', 'www2', 'www3'] as const).map(vipArpDrops));
    expect(await arpResolve(VIP)).toBeNull();
    const after = await Promise.all((['www1', 'www2', 'www3'] as const).map(vipArpDrops));
    // The request reached every real and each one's rule dropped it.
    after.forEach((n, i) => expect(n, `real ${i + 1}`).toBeGreaterThan(before[i]!));
    expect(await arpResolve(REALS.www1, 3)).toBe(hostMac('www1'));
    expect(await arpResolve(REALS.www3, 3)).toBe(hostMac('www3'));
    expect(await learned(VIP)).toBeNull();
  });

  it('ARP a real sends from the VIP carries its own address (arptables mangle)', async () => {
    await client(['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await nsExec(hostNamespace(PREFIX, 'www2'), ['ip', 'neigh', 'flush', 'dev', 'eth0'], { timeoutMs: 5000 }); // so it must ARP
    await nsExec(hostNamespace(PREFIX, 'www2'), ['ping', '-c', '1', '-W', '1', '-I', VIP, CLIENT_ADDR], { timeoutMs: 5000 });
    expect(await learned(REALS.www2)).toBe(hostMac('www2'));
    expect(await learned(VIP)).toBeNull();
    const rules = await nsExec(hostNamespace(PREFIX, 'www2'), ['arptables', '-L', '-n', '-v'], { timeoutMs: 5000 });
    expect(rules.stdout).toMatch(/mangle.*--mangle-ip-s 192\.168\.0\.8 , pcnt=[1-9]/);
  });

  it('status reports complete (exit 0); up again keeps it', async () => {
    expect((await testbedStatus({ prefix: PREFIX })).state).toBe('complete');
    expect(await run(['status', '--prefix', PREFIX], quietIo)).toBe(0);
    const again = await testbedUp({ prefix: PREFIX });
    expect(again.action).toBe('kept');
    expect(again.steps).toBe(0);
  }, 30_000);

  it('one real’s web server can be stopped (status partial) and started again', async () => {
    const before = (await testbedStatus({ prefix: PREFIX })).hosts.find((h) => h.host === 'www3')!.server!.pid!;
    expect(await stopServer('www3', { prefix: PREFIX })).toBe(before);
    expect(isAlive(before)).toBe(false);
    expect((await curl(`http://${REALS.www3}/ping.cgi`)).code).not.toBe(0);
    const st = await testbedStatus({ prefix: PREFIX });
    expect(st.state).toBe('partial');
    expect(st.problems.join('\n')).toMatch(/www3: web server not running/);
    expect(await run(['status', '--prefix', PREFIX], quietIo)).toBe(1);
    expect(await stopServer('www3', { prefix: PREFIX })).toBeNull(); // nothing left to stop
    const pid = await startServer('www3', { prefix: PREFIX });
    expect(pid).not.toBe(before);
    expect(await curl(`http://${REALS.www3}/ping.cgi`)).toEqual({ code: 0, body: 'ok' });
    expect((await testbedStatus({ prefix: PREFIX })).state).toBe('complete');
    expect(await startServer('www3', { prefix: PREFIX })).toBe(pid); // already running: same one
  }, 30_000);

  it('down removes namespaces, web servers and state; status says absent', async () => {
    const pids = (await testbedStatus({ prefix: PREFIX })).hosts.flatMap((h) => (h.server?.pid ? [h.server.pid] : []));
    expect(pids).toHaveLength(3);
    const r = await testbedDown({ prefix: PREFIX });
    expect(r.removedNamespaces.sort()).toEqual(allNamespaces(PREFIX).sort());
    expect(r.stoppedPids.sort()).toEqual(pids.sort());
    for (const p of pids) expect(isAlive(p)).toBe(false);
    everythingGone();
    expect((await testbedStatus({ prefix: PREFIX })).state).toBe('absent');
    expect(await run(['status', '--prefix', PREFIX], quietIo)).toBe(3);
    expect((await testbedDown({ prefix: PREFIX })).existed).toBe(false);
  }, 30_000);

  it('a failed up rolls back completely (failure after the web servers started)', async () => {
    const lines: string[] = [];
    const err = await testbedUp({ prefix: PREFIX, injectFailureAfter: 'httpd:www3', onProgress: (l) => lines.push(l) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepFailure);
    expect((err as StepFailure).step.id).toBe('injected-failure');
    expect(lines.some((l) => /undo ok .*stop web server of www3/.test(l))).toBe(true);
    everythingGone();
  }, 60_000);

  it('a failed up rolls back completely (failure half-way through the links)', async () => {
    const err = await testbedUp({ prefix: PREFIX, injectFailureAfter: 'veth:www2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailure);
    everythingGone();
  }, 60_000);

  it.each(['sysctl', 'nft'] as const)('%s style: ARP for the VIP unanswered, outgoing ARP carries the real address; then down', async (style) => {
    const r = await testbedUp({ prefix: PREFIX, arpStyle: style });
    expect(r.status.state).toBe('complete');
    expect(r.status.arpStyle).toBe(style);
    expect((await testbedUp({ prefix: PREFIX })).action).toBe('kept'); // no style asked: keeps this one
    const s = await nsExec(hostNamespace(PREFIX, 'www1'), ['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'], {
      timeoutMs: 5000,
    });
    expect(s.stdout.trim().split(/\s+/)).toEqual(style === 'sysctl' ? ['1', '2'] : ['0', '0']);
    expect(await arpResolve(VIP)).toBeNull();
    expect(await arpResolve(REALS.www2, 3)).toBe(hostMac('www2'));
    await client(['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await nsExec(hostNamespace(PREFIX, 'www1'), ['ip', 'neigh', 'flush', 'dev', 'eth0'], { timeoutMs: 5000 });
    await nsExec(hostNamespace(PREFIX, 'www1'), ['ping', '-c', '1', '-W', '1', '-I', VIP, CLIENT_ADDR], { timeoutMs: 5000 });
    expect(await learned(REALS.www1)).toBe(hostMac('www1'));
    expect(await learned(VIP)).toBeNull();
    expect(await curl(`https://${REALS.www1}/`)).toEqual({ code: 0, body: 'www1' });
    await testbedDown({ prefix: PREFIX });
    everythingGone();
  }, 60_000);
});
