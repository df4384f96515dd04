/**
 * Path MTU discovery through DSR, on the testbed with a router in front: a far client sits behind a
 * router namespace whose link toward it has MTU 1000; the client's own MTU is 1500, so its SYN
 * announces MSS 1460 and the reals send full-size segments with DF set. The router answers them
 * with ICMP "fragmentation needed" to their source — the VIP — which the director owns. dsrlb must
 * send that error on to the connection's real (ip_vs_in_icmp), which then lowers its path MTU:
 * a 200 kB download through the VIP completes. Run again with `--no-icmp-forward`, the same
 * download stalls: the black hole users see when a balancer eats these errors.
 *
 *   far (10.99.0.2, MTU 1500) — eth1 [rtr, MTU 1000] eth0 (192.168.0.254) — LAN bridge — www1 (director), www2, www3
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nsExec, nsExists, startLabDirector, startTextCapture, testbedDown, testbedUp, hostNamespace, type LabDirector } from '../../src/testbed/index.ts';

const prefix = `dsrn${process.pid % 10000}`;
const CONFIG = fileURLToPath(new URL('./fixtures/pmtu.cf', import.meta.url));
const RTR = `${prefix}-rtr`;
const FAR = `${prefix}-far`;
const LAN = hostNamespace(prefix, 'lan');
const FAR_NET = '10.99.0.0/24';
const RTR_LAN = '192.168.0.254';
const VIP = '192.168.0.10';

async function sh(ns: string, ...argv: string[]): Promise<string> {
  const r = await nsExec(ns, argv, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`${ns}: ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function removeRouter(): Promise<void> {
  for (const ns of [FAR, RTR]) if (nsExists(ns)) execFileSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
}

/** Downloads /bytes/N from the far client: the bytes received, whatever happened. */
async function download(n: number, seconds: number): Promise<number> {
  const r = await nsExec(FAR, ['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}', '-m', String(seconds), `http://${VIP}/bytes/${n}`], { timeoutMs: (seconds + 3) * 1000 });
  return Number(r.stdout.trim() || '0');
}

let director: LabDirector | null = null;

beforeAll(async () => {
  await testbedDown({ prefix });
  await removeRouter();
  await testbedUp({ prefix });
  // Namespaces are made and deleted from the root namespace; nothing else runs there.
  execFileSync('ip', ['netns', 'add', RTR], { timeout: 10_000 });
  execFileSync('ip', ['netns', 'add', FAR], { timeout: 10_000 });
  // Router on the LAN bridge (a veth made inside the LAN namespace, its far end moved to the router).
  await sh(LAN, 'ip', 'link', 'add', 'to-rtr', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', RTR);
  await sh(LAN, 'ip', 'link', 'set', 'to-rtr', 'master', 'br0', 'up');
  await sh(RTR, 'ip', 'addr', 'add', `${RTR_LAN}/24`, 'dev', 'eth0');
  await sh(RTR, 'ip', 'link', 'set', 'eth0', 'up');
  await sh(RTR, 'ip', 'link', 'set', 'lo', 'up');
  // The narrow link: MTU 1000 on the router's side only.
  await sh(RTR, 'ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', FAR);
  await sh(RTR, 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'eth1');
  await sh(RTR, 'ip', 'link', 'set', 'eth1', 'mtu', '1000', 'up');
  await sh(RTR, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  await sh(FAR, 'ip', 'addr', 'add', '10.99.0.2/24', 'dev', 'eth0');
  await sh(FAR, 'ip', 'link', 'set', 'eth0', 'up');
  await sh(FAR, 'ip', 'link', 'set', 'lo', 'up');
  await sh(FAR, 'ip', 'route', 'add', 'default', 'via', '10.99.0.1');
  // The far client's checksums must be complete on the wire (the director re-sends its frames).
  await sh(FAR, 'ethtool', '-K', 'eth0', 'tx', 'off');
  // Every real answers the far client through the router.
  for (const h of ['www1', 'www2', 'www3'] as const) await sh(hostNamespace(prefix, h), 'ip', 'route', 'add', FAR_NET, 'via', RTR_LAN);
}, 90_000);

afterAll(async () => {
  await director?.stop();
  await removeRouter();
  await testbedDown({ prefix });
}, 60_000);

describe('path MTU discovery through DSR (router with a 1000-byte link between the client and the servers)', () => {
  it('a 200 kB download through the VIP completes: the router\'s "fragmentation needed" reaches the real through the director', async () => {
    director = await startLabDirector({ prefix, config: CONFIG });
    const got = await download(200_000, 10);
    expect(got).toBe(200_000);
    const snap = (await director.snapshot()) as unknown as { icmpForwarded: number };
    expect(snap.icmpForwarded).toBeGreaterThan(0);
    // The real learned the path MTU for the far client.
    const routes = await Promise.all(['www2', 'www3'].map((h) => nsExec(hostNamespace(prefix, h as 'www2'), ['ip', 'route', 'get', '10.99.0.2', 'from', VIP], { timeoutMs: 5000 })));
    expect(routes.map((r) => r.stdout).join('\n')).toMatch(/mtu 1000/);
  }, 60_000);

  it('ping the VIP: the director answers (through the router and on the LAN), counted as ICMP replies; a SYN with TTL 1 gets time exceeded from the VIP', async () => {
    const far = await nsExec(FAR, ['ping', '-c', '2', '-i', '0.2', '-W', '2', VIP], { timeoutMs: 10_000 });
    expect(far.code, far.stdout + far.stderr).toBe(0);
    const lan = await nsExec(hostNamespace(prefix, 'client'), ['ping', '-c', '1', '-W', '2', VIP], { timeoutMs: 10_000 });
    expect(lan.code, lan.stdout + lan.stderr).toBe(0);
    const snap = (await director!.snapshot()) as unknown as { icmpReplies: number };
    expect(snap.icmpReplies).toBeGreaterThanOrEqual(3);
    // A SYN with TTL 1: scheduled, not sent on; the client hears "time exceeded" from the VIP.
    const client = hostNamespace(prefix, 'client');
    const cap = await startTextCapture(client, ['-i', 'eth0', '-nn', '-l', 'icmp']);
    const py = 'import socket\ns=socket.socket()\ns.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)\ns.settimeout(1)\ns.connect_ex(("192.168.0.10", 80))';
    await nsExec(client, ['python3', '-c', py], { timeoutMs: 5000 });
    // connect_ex waited 1 s for an answer: the ICMP came back long before.
    const text = await cap.stop();
    expect(text).toMatch(/192\.168\.0\.10 > 192\.168\.0\.100: ICMP time exceeded in-transit/);
    await director!.stop();
    director = null;
  }, 30_000);

  it('with --no-icmp-forward the same download stalls (the reals never learn the path MTU), and the errors are counted', async () => {
    for (const h of ['www2', 'www3'] as const) await sh(hostNamespace(prefix, h), 'ip', 'route', 'flush', 'cache');
    director = await startLabDirector({ prefix, config: CONFIG, args: ['--no-icmp-forward'] });
    const got = await download(200_000, 4);
    expect(got).toBeLessThan(200_000);
    const snap = (await director.snapshot()) as unknown as { icmpForwarded: number; reasons: Record<string, number> };
    expect(snap.icmpForwarded).toBe(0);
    expect(snap.reasons['icmp-forward-off']).toBeGreaterThan(0);
  }, 60_000);
});
