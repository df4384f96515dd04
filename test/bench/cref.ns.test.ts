/**
 * The C reference forwarder on a small veth testbed (root, namespaces `dsrc<pid>-…`, removed in
 * afterAll): a client, a director running cref and two reals on one bridge. The client sends UDP
 * frames of 8 flows to the VIP (plus frames with TTL 1 and frames of another port); tcpdump at the
 * reals captures what cref forwarded, and every captured frame is compared byte by byte with the
 * frame the client sent after the DR rewrite. cref's counters must add up with the kernel's.
 */
import { describeAsRoot } from '../helpers/root.ts';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crefUnavailable, startCref, type RunningCref } from '../../bench/lib/cref.ts';
import { ipChecksum, udpFrames } from '../../bench/lib/frames.ts';
import { trafgenConfig } from '../../bench/lib/trafgen.ts';
import { readPcapFile } from '../../src/io/pcapfile.ts';
import { RESIDENCE_BUCKETS } from '../../src/obs/histogram.ts';

const root = typeof process.getuid === 'function' && process.getuid() === 0;
const P = `dsrc${process.pid % 10000}`;
const NS = { lan: `${P}-lan`, c: `${P}-c`, d: `${P}-d`, a: `${P}-a`, b: `${P}-b` } as const;
const MAC = { c: '02:dc:00:00:00:64', d: '02:dc:00:00:00:07', a: '02:dc:00:00:00:08', b: '02:dc:00:00:00:09' } as const;
const VIP = '10.77.0.10';
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-cref-'));
const started: ChildProcess[] = [];
const crefs: RunningCref[] = [];

const sh = (argv: string[], input?: string) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: 20_000, stdio: ['pipe', 'pipe', 'pipe'] });
const inNs = (ns: string, argv: string[], input?: string) => sh(['ip', 'netns', 'exec', ns, ...argv], input);
const ours = () => sh(['ip', 'netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${P}-`));

function down(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const ns of ours()) sh(['ip', 'netns', 'del', ns]);
}

function up(): void {
  down();
  for (const ns of Object.values(NS)) {
    sh(['ip', 'netns', 'add', ns]);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  inNs(NS.lan, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  inNs(NS.lan, ['ip', 'link', 'set', 'br0', 'up']);
  for (const h of ['c', 'd', 'a', 'b'] as const) {
    // Both ends made inside their namespaces: nothing appears in the root namespace.
    sh(['ip', 'link', 'add', 'name', `p-${h}`, 'netns', NS.lan, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS[h]]);
    inNs(NS.lan, ['ip', 'link', 'set', `p-${h}`, 'master', 'br0', 'up']);
    // No IPv6 chatter, and the bridge knows every host's port from the start (static entries):
    // nothing but the test's frames on the wire, and unicast never depends on learning.
    inNs(NS[h], ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    inNs(NS[h], ['ip', 'link', 'set', 'eth0', 'address', MAC[h], 'up']);
    inNs(NS.lan, ['bridge', 'fdb', 'replace', MAC[h], 'dev', `p-${h}`, 'master', 'static']);
  }
}

/** tcpdump writing a pcap file; resolves once it listens. */
async function capture(ns: string, file: string): Promise<() => Promise<void>> {
  const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '-U', '-s', '0', '-w', file, 'udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(p);
  let err = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`tcpdump in ${ns}: ${err}`)), 5000);
    p.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      if (err.includes('listening on')) {
        clearTimeout(t);
        res();
      }
    });
  });
  let early: string | null = null;
  let stopping = false;
  const exited = new Promise<void>((r) => p.once('exit', (code, sig) => {
    if (!stopping) early = `tcpdump in ${ns} ended by itself before the test stopped it (code ${code}, signal ${sig}): ${err.trim()}`;
    r();
  }));
  return async () => {
    // libpcap's TPACKET_V3 ring hands a block to tcpdump only when it is full or after its timeout
    // (1 s): a tcpdump stopped sooner after the last frame loses that block's frames.
    await new Promise((r) => setTimeout(r, 1500));
    if (early) throw new Error(early);
    stopping = true;
    p.kill('SIGTERM');
    await exited;
  };
}

/** The frames the client sends: 8 flows to VIP:9000, one flow with TTL 1, one to port 9001. */
function clientFrames(): { good: Uint8Array[]; ttl1: Uint8Array; other: Uint8Array } {
  const spec = { dstMac: MAC.d, srcMac: MAC.c, src: '10.77.0.100', dst: VIP, dport: 9000, sportBase: 30000, flows: 9, frameLen: 60 };
  const fs = udpFrames(spec);
  const ttl1 = fs.pop()!;
  ttl1[22] = 1;
  ttl1[24] = 0;
  ttl1[25] = 0;
  const c = ipChecksum(ttl1, 14, 20);
  ttl1[24] = c >> 8;
  ttl1[25] = c & 255;
  const other = udpFrames({ ...spec, dport: 9001, flows: 1 })[0]!;
  return { good: fs, ttl1, other };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(() => {
  if (root && crefUnavailable() === null) up();
}, 60_000);

afterAll(async () => {
  for (const c of crefs) await c.stop().catch(() => null);
  if (root) down();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describeAsRoot('cref, the C reference forwarder, on veth', () => {
  it('is built (src/cli/setup.sh)', () => {
    expect(crefUnavailable()).toBeNull();
  });

  it('forwards each flow to one real with the DR rewrite, byte for byte; its counters add up', async () => {
    const frames = clientFrames();
    const stops = [await capture(NS.a, join(tmp, "a.pcap")), await capture(NS.b, join(tmp, "b.pcap"))];
    const cref = await startCref(NS.d, {
      iface: 'eth0', realMacs: [MAC.a, MAC.b],
      services: [{ vip: VIP, port: 9000, proto: 'udp' }, { vip: VIP, port: 80, proto: 'tcp' }],
    });
    crefs.push(cref);
    expect(cref.output()).toContain(`"mac":"${MAC.d}"`); // read from the interface
    const config = trafgenConfig([...frames.good, frames.ttl1, frames.other]);
    const per = 100;
    inNs(NS.c, ['trafgen', '--dev', 'eth0', '--in', '-', '--num', String(10 * per), '--cpus', '1', '--no-sock-mem', '--notouch-irq'], config);
    await new Promise((r) => setTimeout(r, 500));
    const mid = await cref.stats();
    expect(mid.event).toBe('usr1');
    expect(mid.forwarded).toBe(8 * per);
    const end = (await cref.stop())!;
    expect(end).not.toBeNull();
    for (const s of stops) await s();

    // Counters: the filter let only VIP:9000 through (the port-9001 frames never reached the ring).
    expect(end.seen).toBe(9 * per);
    expect(end.forwarded).toBe(8 * per);
    expect(end.ttl_expired).toBe(per);
    expect(end.ignored).toBe(0);
    expect(end.seen).toBe(end.forwarded + end.ttl_expired + end.ignored + end.tx_full);
    expect(end.send_errors).toBe(0);
    expect(end.kernel_packets).toBe(end.seen + end.kernel_drops);
    expect(end.kernel_drops).toBe(0);
    expect(end.wakeups).toBeGreaterThanOrEqual(1);
    expect(end.batches).toBeGreaterThanOrEqual(1);
    expect(end.batches).toBeLessThanOrEqual(end.seen);
    expect(end.sends).toBeLessThanOrEqual(end.batches + end.busy_hits);
    expect(end.residence.count).toBe(end.forwarded);
    // The same buckets as dsrlb's residence histogram: quantiles of both are comparable.
    expect(end.residence.buckets.map((b) => b[0])).toEqual([...RESIDENCE_BUCKETS]);
    expect(end.residence.buckets.at(-1)![1]).toBeLessThanOrEqual(end.residence.count);
    expect(end.residence.buckets.every(([, n], i, a) => i === 0 || n >= a[i - 1]![1])).toBe(true);

    // The captures: 800 frames, each the client's frame with the DR rewrite.
    const expected = new Map<number, Uint8Array>();
    for (const f of frames.good) expected.set((f[34]! << 8) | f[35]!, f);
    const flowsAt: Record<string, Set<number>> = { a: new Set(), b: new Set() };
    let total = 0;
    for (const h of ['a', 'b'] as const) {
      for (const rec of readPcapFile(join(tmp, `${h}.pcap`)).records) {
        const got = rec.data;
        const sport = (got[34]! << 8) | got[35]!;
        const sent = expected.get(sport);
        expect(sent, `unexpected frame at ${h}: ${hex(got)}`).toBeDefined();
        const want = Uint8Array.from(sent!);
        want.set(Buffer.from(MAC[h].replace(/:/g, ''), 'hex'), 0);
        want.set(Buffer.from(MAC.d.replace(/:/g, ''), 'hex'), 6);
        want[22] = sent![22]! - 1;
        want[24] = 0;
        want[25] = 0;
        const c = ipChecksum(want, 14, 20);
        want[24] = c >> 8;
        want[25] = c & 255;
        expect(hex(got)).toBe(hex(want)); // the incremental update equals a full recomputation
        expect(ipChecksum(got, 14, 20)).toBe(0);
        flowsAt[h]!.add(sport);
        total++;
      }
    }
    const diag = () => `at a: ${flowsAt.a!.size} flows, at b: ${flowsAt.b!.size} flows; ${inNs(NS.a, ['ip', '-s', 'link', 'show', 'eth0'])} ${inNs(NS.lan, ['ip', '-s', 'link', 'show', 'p-a'])} ${inNs(NS.lan, ['ip', '-s', 'link', 'show', 'p-d'])}`;
    expect(total, total === 8 * per ? '' : diag()).toBe(8 * per);
    // A flow stays on one real; the hash spreads the 8 flows over both.
    expect([...flowsAt.a!].filter((s) => flowsAt.b!.has(s))).toEqual([]);
    expect(flowsAt.a!.size + flowsAt.b!.size).toBe(8);
    expect(flowsAt.a!.size).toBeGreaterThan(0);
    expect(flowsAt.b!.size).toBeGreaterThan(0);
  }, 60_000);

  it('with --qdisc-bypass and --busy-poll-us: the same forwarding, busy polls counted', async () => {
    const frames = clientFrames();
    const cref = await startCref(NS.d, {
      iface: 'eth0', realMacs: [MAC.a, MAC.b], mac: MAC.d, qdiscBypass: true, busyPollUs: 200,
      services: [{ vip: VIP, port: 9000, proto: 'udp' }],
    });
    crefs.push(cref);
    inNs(NS.c, ['trafgen', '--dev', 'eth0', '--in', '-', '--num', '4000', '--cpus', '1', '--no-sock-mem', '--notouch-irq'], trafgenConfig(frames.good));
    await new Promise((r) => setTimeout(r, 300));
    const end = (await cref.stop())!;
    expect(end.qdisc_bypass).toBe(true);
    expect(end.busy_poll_us).toBe(200);
    expect(end.forwarded + end.kernel_drops).toBe(4000);
    expect(end.kernel_packets).toBe(end.seen + end.kernel_drops);
    expect(end.send_errors).toBe(0);
    expect(end.utime_us + end.stime_us).toBeGreaterThan(0);
  }, 60_000);

  it('refuses bad arguments with a usage message', () => {
    let err = '';
    try {
      inNs(NS.d, [join(process.cwd(), 'bench/cref/cref'), '--iface', 'eth0', '--service', 'nope', '--real', MAC.a]);
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toContain('bad --service');
  });
});
