/**
 * `dsrlb run --workers 2 --io ring` on the testbed (runs as root in CI): two packet workers in one
 * PACKET_FANOUT group on www1's eth0. Many client flows all succeed and both workers forward some;
 * no flow is broken between workers; `dsrlb ipvsadm -L -n --stats` shows the sum of the workers;
 * every ARP request for the VIP gets exactly one reply (counted at the client); a weight change
 * reaches both workers; a worker that dies stops the director with exit code 1.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_CONFIG } from '../../src/cli/commands/demo.ts';
import { CLIENT_ADDR, DSRLB_BIN, hostMac, hostNamespace, nsExec, REALS, startServer, stopServer, VIP } from '../../src/testbed/index.ts';
import { countBy, startTcpdump, useLab, vipNum, waitFor } from './lab.ts';

const prefix = `dsrf${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const www1 = hostNamespace(prefix, 'www1');

describe('dsrlb run --workers 2 --io ring', () => {
  const lab = useLab(prefix, REFERENCE_CONFIG, { io: 'ring', args: ['--workers', '2', '--garp', '1,100'] });

  interface WorkerSnap {
    perWorker: Array<{ conns: number; inPkts: number; forwarded: number; local: number; arpReplies: number; received: number }>;
    io: { workers: number; received: number };
    reasons: Record<string, number>;
    arpReplies: number;
  }

  const snap = async (conns = false) => (await lab.director.snapshot(conns)) as Awaited<ReturnType<typeof lab.director.snapshot>> & WorkerSnap;
  const work = (w: WorkerSnap['perWorker'][number]) => w.forwarded + w.local;

  async function ipvsadm(...args: string[]): Promise<string> {
    const r = await nsExec(www1, [process.execPath, DSRLB_BIN, 'ipvsadm', '--control', lab.director.control, ...args]);
    if (r.code !== 0) throw new Error(`dsrlb ipvsadm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Sends `count` ARP requests "who has VIP? tell CLIENT" from the client's eth0, `gapMs` apart. */
  async function arpRequests(count: number, gapMs: number): Promise<void> {
    const py = `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
mac = bytes.fromhex(open('/sys/class/net/eth0/address').read().strip().replace(':', ''))
ip = lambda a: bytes(int(x) for x in a.split('.'))
f = b'\\xff' * 6 + mac + b'\\x08\\x06' + b'\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01' + mac + ip('${CLIENT_ADDR}') + b'\\x00' * 6 + ip('${VIP}')
for i in range(${count}):
    s.send(f)
    time.sleep(${gapMs / 1000})
`;
    const r = await nsExec(client, ['python3', '-c', py], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`arp sender: ${r.stderr}`);
  }

  it('starts two packet workers, the snapshot says so', async () => {
    const s = await snap();
    expect(s.io.workers).toBe(2);
    expect(s.perWorker).toHaveLength(2);
  });

  it('every ARP request for the VIP is answered exactly once (counted at the client)', async () => {
    const before = await snap();
    const cap = await startTcpdump(client, ['-i', 'eth0', '-Q', 'in', `arp and ether dst ${hostMac('client')}`]);
    await arpRequests(40, 25);
    await new Promise((r) => setTimeout(r, 300));
    const text = await cap.stop();
    const replies = text.split('\n').filter((l) => new RegExp(`Reply ${VIP.replaceAll('.', '\\.')} is-at ${hostMac('www1')}`).test(l));
    expect(replies).toHaveLength(40);
    const after = await snap();
    expect(after.arpReplies - before.arpReplies).toBe(40);
    const byWorker = after.perWorker.map((w, i) => w.arpReplies - before.perWorker[i]!.arpReplies);
    expect(byWorker.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('2000 connections (ab -c 20) all succeed, both workers forward some, no flow is split between workers', async () => {
    const before = await snap();
    const r = await nsExec(client, ['ab', '-n', '2000', '-c', '20', '-s', '10', `http://${VIP}/`], { timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/Complete requests:\s+2000/);
    expect(r.stdout).toMatch(/Failed requests:\s+0\n/);
    const after = await snap(true);
    const did = after.perWorker.map((w, i) => work(w) - work(before.perWorker[i]!));
    expect(did.every((n) => n > 500)).toBe(true);
    // A frame of a flow reaching the other worker would find no connection there (sloppy_tcp off).
    expect(after.reasons['no-connection'] ?? 0).toBe(0);
    // Both workers know the reals' MACs, although each ARP reply reached one of them only.
    expect(after.reasons['real-unresolved'] ?? 0).toBe(0);
    const keys = after.conns!.filter((c) => c.caddr === vipNum(CLIENT_ADDR)).map((c) => `${c.caddr}:${c.cport}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(1000);
  }, 150_000);

  it('rr decides per worker: 60 connections spread within 2 of 20 per real', async () => {
    // Fresh source ports: a SYN on a port whose connection from the ab run is still in FIN_WAIT
    // follows that connection (conn_reuse_mode 1), not rr.
    const answers = await freshCurls(client, 60, '63000-63999');
    const c = countBy(answers);
    expect([...c.keys()].sort()).toEqual(['www1', 'www2', 'www3']);
    for (const n of c.values()) expect(Math.abs(n - 20)).toBeLessThanOrEqual(2);
  });

  it('ipvsadm -L -n --stats --exact shows the sum of the workers', async () => {
    const s = await snap();
    const text = await ipvsadm('-L', '-n', '--stats', '--exact');
    const svc = new RegExp(`TCP\\s+${VIP.replaceAll('.', '\\.')}:80\\s+(\\d+)\\s+(\\d+)`).exec(text)!;
    expect(svc).not.toBeNull();
    const sumConns = s.perWorker.reduce((n, w) => n + w.conns, 0);
    const http = s.services.find((x) => x.spec.port === 80)!;
    const https = s.services.find((x) => x.spec.port === 443)!;
    expect(sumConns).toBe(http.conns + https.conns);
    expect(Number(svc[1])).toBe(http.conns);
    const realLines = [...text.split('TCP').find((b) => b.includes(`${VIP}:80 `))!.matchAll(/-> [\d.]+:80\s+(\d+)/g)].map((m) => Number(m[1]));
    expect(realLines.reduce((a, b) => a + b, 0)).toBe(http.conns);
    expect(s.perWorker.every((w) => w.conns > 0)).toBe(true);
  });

  it('a weight change reaches both workers: weight 0 on www2, then no new connection goes there', async () => {
    await ipvsadm('-e', '-t', `${VIP}:80`, '-r', `${REALS.www2}:80`, '-g', '-w', '0');
    const before = await snap();
    // Source ports no earlier connection used (the ephemeral range ends at 60999): a SYN on a port
    // whose old connection is still in FIN_WAIT follows that connection, as in the kernel
    // (conn_reuse_mode 1), and could reach www2 without saying anything about the weight.
    const answers = await freshCurls(client, 40, '61000-61999');
    expect(answers.filter((a) => a === 'www2' || a === 'failed')).toEqual([]);
    const after = await snap();
    // both workers scheduled some of those 40 (so both had weight 0 for www2)
    after.perWorker.forEach((w, i) => expect(w.conns - before.perWorker[i]!.conns).toBeGreaterThan(0));
    const text = await ipvsadm('-L', '-n');
    expect(text).toMatch(new RegExp(`-> ${REALS.www2.replaceAll('.', '\\.')}:80\\s+Route\\s+0\\s`));
    await ipvsadm('-e', '-t', `${VIP}:80`, '-r', `${REALS.www2}:80`, '-g', '-w', '1');
  });

  it('a worker that dies stops the director with exit code 1, naming it', async () => {
    const children = readFileSync(`/proc/${lab.director.pid}/task/${lab.director.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const workers = children.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('packet-worker'));
    expect(workers).toHaveLength(2);
    process.kill(workers[1]!, 'SIGKILL');
    expect(await waitFor(async () => /packet path ended/.test(lab.director.output()), 10_000)).toBeGreaterThanOrEqual(0);
    expect(await lab.director.stop()).toBe(1);
    expect(lab.director.output()).toMatch(/packet worker [01] of 2 \(pid \d+\) ended/);
  });
});

/** n connections, one after the other, from source ports in `ports`; the bodies ('failed' for none). */
async function freshCurls(ns: string, n: number, ports: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await nsExec(ns, ['curl', '-s', '-m', '3', '--local-port', ports, `http://${VIP}/`], { timeoutMs: 5000 });
    out.push(r.code === 0 ? r.stdout.trim() : 'failed');
  }
  return out;
}

describe('dsrlb run --workers 2: health checks reach both workers', () => {
  const hprefix = `dsrf${process.pid % 10000}h`;
  const hclient = hostNamespace(hprefix, 'client');
  const hlab = useLab(hprefix, fileURLToPath(new URL('./fixtures/health.cf', import.meta.url)), { io: 'ring', args: ['--workers', '2', '--garp', '1,100'] });
  type PW = { perWorker: Array<{ conns: number }> };

  it('a failed check quiesces www2 in both workers (no new flow fails or reaches it); recovered, both use it again', async () => {
    const weight = async () => (await hlab.director.snapshot()).services[0]!.reals.find((r) => r.addr === vipNum(REALS.www2))?.weight;
    expect(await waitFor(async () => (await weight()) === 1, 5000)).toBeGreaterThanOrEqual(0);
    await stopServer('www2', { prefix: hprefix });
    expect(await waitFor(async () => (await weight()) === 0, 8000)).toBeGreaterThanOrEqual(0);
    const before = (await hlab.director.snapshot()) as unknown as PW;
    const down = await freshCurls(hclient, 40, '61000-61999');
    // A worker still sending new flows to www2 would make some of these fail (nothing listens there).
    expect(down.filter((a) => a !== 'www3')).toEqual([]);
    const mid = (await hlab.director.snapshot()) as unknown as PW;
    mid.perWorker.forEach((w, i) => expect(w.conns - before.perWorker[i]!.conns).toBeGreaterThan(0));
    await startServer('www2', { prefix: hprefix });
    expect(await waitFor(async () => (await weight()) === 1, 8000)).toBeGreaterThanOrEqual(0);
    const up = await freshCurls(hclient, 40, '62000-62999');
    expect(countBy(up).get('www2') ?? 0).toBeGreaterThanOrEqual(15);
    expect(up.filter((a) => a === 'failed')).toEqual([]);
  }, 60_000);
});
