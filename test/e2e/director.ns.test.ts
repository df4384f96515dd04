/**
 * The live director on the testbed, end to end (runs as root in CI): the reference topology in
 * namespaces, dsrlb on www1 with the reference ldirectord.cf, real clients (curl, ab, a long-lived
 * TCP connection) in the client namespace, tcpdump where the truth is.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_CONFIG } from '../../src/cli/commands/demo.ts';
import { hostMac, hostNamespace, nsExec, REALS, startLabDirector, VIP } from '../../src/testbed/index.ts';
import { countBy, curl, forEachIoBackend, startTcpdump, useLab, vipNum } from './lab.ts';
import { poll } from '../helpers/wait.ts';

const prefix = `dsre${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const www1 = hostNamespace(prefix, 'www1');

// Once per frame I/O backend (ring, pcap): the same testbed made anew for each.
forEachIoBackend((io) => {
const lab = useLab(prefix, REFERENCE_CONFIG);

const HTTP = { proto: 'tcp', vip: vipNum(VIP), port: 80 };

describe('live director on the reference testbed', () => {
  it(`runs on the chosen frame I/O backend (${io})`, async () => {
    const s = await lab.director.snapshot();
    expect(s.io.backend).toBe(io);
    expect(s.io.workers).toBe(1);
    // The ring reads the kernel's counters; libpcap (npm cap) cannot.
    expect(s.io.kernelDrops === undefined).toBe(io === 'pcap');
  });

  it('answers ARP for the VIP itself; no real server answers it', async () => {
    await nsExec(client, ['ip', 'neigh', 'flush', 'all']);
    const cap = await startTcpdump(client, ['-i', 'eth0', 'arp']);
    expect(await curl(client, `http://${VIP}/ping.cgi`)).toBe('ok');
    const text = await cap.stop();
    const replies = text.split('\n').filter((l) => new RegExp(`Reply ${VIP.replaceAll('.', '\\.')} is-at`).test(l));
    expect(replies.length).toBeGreaterThan(0);
    const macs = new Set(replies.map((l) => /is-at ([0-9a-f:]{17})/.exec(l)![1]));
    expect([...macs]).toEqual([hostMac('www1')]);
    const neigh = await nsExec(client, ['ip', '-j', 'neigh', 'show', VIP]);
    expect(JSON.parse(neigh.stdout)[0].lladdr).toBe(hostMac('www1'));
  });

  it('rr over the three reals, the director itself included: exactly 10/10/10 of 30 connections, each stuck to one real, no reply through the director', async () => {
    const before = await lab.director.snapshot();
    const clientCap = await startTcpdump(client, ['-i', 'eth0', '-Q', 'in', `src host ${VIP} and tcp`]);
    const directorCap = await startTcpdump(www1, ['-i', 'eth0', '-Q', 'in', `src host ${VIP}`]);
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
    const atClient = await clientCap.stop();
    const atDirector = await directorCap.stop();
    expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 10, www2: 10, www3: 10 });

    // Stickiness, seen from the client: every frame of one connection comes from one MAC.
    const macsByPort = new Map<string, Set<string>>();
    for (const l of atClient.split('\n')) {
      const m = /^\S+ ([0-9a-f:]{17}) > [0-9a-f:]{17}, .*? 192\.168\.0\.10\.80 > 192\.168\.0\.100\.(\d+):/.exec(l);
      if (m) (macsByPort.get(m[2]!) ?? macsByPort.set(m[2]!, new Set()).get(m[2]!)!).add(m[1]!);
    }
    expect(macsByPort.size).toBe(30);
    for (const macs of macsByPort.values()) expect(macs.size).toBe(1);
    expect(new Set([...macsByPort.values()].map((s) => [...s][0]))).toEqual(new Set([hostMac('www1'), hostMac('www2'), hostMac('www3')]));

    // DSR: nothing from the VIP ever arrived at the director.
    expect(atDirector.trim()).toBe('');
    const after = await lab.director.snapshot();
    expect(after.fromVip).toBe(0);
    const http = after.services.find((s) => s.spec.port === 80)!;
    const conns0 = before.services.find((s) => s.spec.port === 80)!.conns;
    expect(http.conns - conns0).toBe(30);
    expect(after.forwarded).toBeGreaterThan(before.forwarded);
    expect(after.local).toBeGreaterThan(before.local);
  });

  it('serves HTTPS through the VIP with rr too', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) answers.push((await curl(client, `https://${VIP}/`)) ?? 'failed');
    expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 3, www2: 3, www3: 3 });
  });

  it('ab -n 2000 -c 20 through the VIP: no failed request', async () => {
    const r = await nsExec(client, ['ab', '-n', '2000', '-c', '20', '-s', '10', `http://${VIP}/`], { timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/Complete requests:\s+2000/);
    expect(r.stdout).toMatch(/Failed requests:\s+0\n/);
    expect((await lab.director.snapshot()).fromVip).toBe(0);
  }, 150_000);

  it('a long-lived connection goes on after its real is quiesced (weight 0) while new ones avoid it; once the real is removed its flow is dropped', async () => {
    const longconn = fileURLToPath(new URL('./fixtures/longconn.mjs', import.meta.url));
    const p = spawn('ip', ['netns', 'exec', client, process.execPath, longconn, VIP, '80'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: Array<Record<string, unknown>> = [];
    let buf = '';
    p.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    let host: 'www1' | 'www2' | 'www3' = 'www1';
    const next = async (): Promise<Record<string, unknown>> => {
      const want = lines.length + 1;
      p.stdin!.write('go\n');
      for (let i = 0; i < 60 && lines.length < want; i++) await new Promise((r) => setTimeout(r, 100));
      return lines[want - 1]!;
    };
    try {
      for (let i = 0; i < 50 && lines.length < 1; i++) await new Promise((r) => setTimeout(r, 100));
      const first = await next();
      host = first.body as 'www1' | 'www2' | 'www3';
      expect(['www1', 'www2', 'www3']).toContain(host);
      const addr = vipNum(REALS[host]);

      await lab.director.request({ op: 'editReal', id: 0, svc: HTTP, addr, port: 80, changes: { weight: 0 } });
      const fresh: string[] = [];
      for (let i = 0; i < 6; i++) fresh.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
      expect(fresh).not.toContain(host);
      expect(fresh).not.toContain('failed');
      expect((await next()).body).toBe(host);
      const snap = await lab.director.snapshot();
      const real = snap.services.find((s) => s.spec.port === 80)!.reals.find((r) => r.addr === addr)!;
      expect(real.weight).toBe(0);
      expect(real.activeConns).toBeGreaterThanOrEqual(1);

      await lab.director.request({ op: 'deleteReal', id: 0, svc: HTTP, addr, port: 80 });
      expect((await next()).error).toBe('timeout');
      expect((await lab.director.snapshot()).reasons['real-removed']).toBeGreaterThan(0);
    } finally {
      p.stdin!.end();
      p.kill('SIGTERM');
    }
    // Put the real back for whatever runs next.
    await lab.director.request({ op: 'addReal', id: 0, svc: HTTP, real: { addr: vipNum(REALS[host as 'www1']), port: 80, weight: 1 } });
  }, 60_000);

  it('cleans up on SIGTERM, recovers from a crash (SIGKILL) idempotently, and announces the VIP with gratuitous ARP at start', async () => {
    await lab.director.stop();
    // Its last words: the frame I/O totals (with the ring, the kernel's own counters too).
    const totals = lab.director.output().split('\n').find((l) => l.includes('frame I/O totals'));
    expect(totals, lab.director.output().slice(-2000)).toBeDefined();
    if (JSON.parse(totals!).io.backend === 'ring') expect(JSON.parse(totals!).io).toMatchObject({ kernelDrops: 0, kernelPackets: expect.any(Number) });
    expect((await nsExec(www1, ['nft', 'list', 'tables'])).stdout).not.toMatch(/dsrlb/);
    expect((await nsExec(www1, ['ip', 'link', 'show', 'dsrlb-l0'])).code).not.toBe(0);

    lab.director = await startLabDirector({ prefix, config: REFERENCE_CONFIG });
    await lab.director.kill();
    // A crash leaves the drop table and the local path behind ...
    expect((await nsExec(www1, ['nft', 'list', 'tables'])).stdout).toMatch(/netdev dsrlb_eth0/);
    const garp = await startTcpdump(client, ['-i', 'eth0', 'arp']);
    // ... and the next start takes them over: one table, and traffic flows again.
    lab.director = await startLabDirector({ prefix, config: REFERENCE_CONFIG, args: ['--garp', '3,100'] });
    const tables = (await nsExec(www1, ['nft', 'list', 'tables'])).stdout.match(/dsrlb_eth0/g) ?? [];
    expect(tables).toHaveLength(1);
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
    expect(answers.sort()).toEqual(['www1', 'www2', 'www3']);
    // Gratuitous ARP: 3 request+reply pairs for the VIP from the director's MAC (waited for, bounded).
    const announcements = (text: string) => text.split('\n').filter((l) => l.includes(hostMac('www1')) && /(Request who-has 192\.168\.0\.10 tell 192\.168\.0\.10|Reply 192\.168\.0\.10 is-at)/.test(l));
    await poll(() => announcements(garp.text()).length >= 6, { timeoutMs: 5000, intervalMs: 50 });
    const announce = announcements(await garp.stop());
    expect(announce.filter((l) => l.includes('Request')).length).toBe(3);
    expect(announce.filter((l) => l.includes('Reply')).length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
});
