/**
 * `dsrlb testbed up --ipv6` as root, under a prefix of this run: the client reaches each real over
 * IPv6 directly, no real answers a Neighbor Solicitation for the VIP6 (while each answers for its
 * own address, so the probe itself works), status shows the IPv6 side, and down leaves nothing.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  CLIENT_ADDR6, REALS6, VIP6, allNamespaces, hostMac, hostNamespace, nsExec, nsExists, stateDirFor, testbedDown, testbedStatus, testbedUp, type RealName,
} from '../../src/testbed/index.ts';
import { readState } from '../../src/testbed/state.ts';
import { run } from '../../src/cli/commands/testbed.ts';
import { describeAsRoot, itAsRoot } from '../helpers/root.ts';
import { existsSync } from 'node:fs';

const PREFIX = `h6f${process.pid % 10000}`;
const CLIENT = hostNamespace(PREFIX, 'client');
const PROBE = fileURLToPath(new URL('../doctor/ndp-probe.ts', import.meta.url));
const out: string[] = [];
const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) };

/** Every MAC that answered NS for `target` sent from the client (to the solicited-node group, or unicast to `mac`). */
async function ndpAnswers(target: string, mac?: string): Promise<string[]> {
  const r = await nsExec(CLIENT, [process.execPath, '--import', 'tsx', PROBE, 'eth0', target, CLIENT_ADDR6, ...(mac ? [mac] : [])], { timeoutMs: 20_000 });
  expect(r.code, r.stderr).toBe(0);
  const res = JSON.parse(r.stdout) as { sent: number; answers: Array<{ mac: string }> };
  expect(res.sent).toBeGreaterThan(0);
  return res.answers.map((a) => a.mac);
}

describeAsRoot('testbed up --ipv6 (dual-stack reference topology)', () => {
  beforeAll(async () => {
    const code = await run(['up', '--prefix', PREFIX, '--ipv6', '--quiet'], io);
    expect(code, out.join('\n')).toBe(0);
  }, 90_000);
  afterAll(async () => {
    await testbedDown({ prefix: PREFIX });
  }, 60_000);

  itAsRoot('records IPv6 in the state file; status is complete and lists the IPv6 addresses', async () => {
    expect(readState(stateDirFor(PREFIX))?.ipv6).toBe(true);
    const s = await testbedStatus({ prefix: PREFIX });
    expect(s.problems).toEqual([]);
    expect(s.state).toBe('complete');
    expect(s.ipv6).toBe(true);
    const www2 = s.hosts.find((h) => h.host === 'www2')!;
    expect(www2.addresses).toEqual(expect.arrayContaining([{ dev: 'eth0', cidr: `${REALS6.www2}/64` }, { dev: 'lo', cidr: `${VIP6}/128` }]));
    out.length = 0;
    expect(await run(['status', '--prefix', PREFIX], io)).toBe(0);
    expect(out.join('\n')).toContain('IPv6 on');
    expect(out.join('\n')).toContain(`eth0 ${CLIENT_ADDR6}/64`);
  }, 30_000);

  itAsRoot('from the client, curl -6 reaches each real directly, at once (no DAD wait), and it answers its name', async () => {
    for (const h of ['www1', 'www2', 'www3'] as RealName[]) {
      const r = await nsExec(CLIENT, ['curl', '-6', '-sS', '--max-time', '5', `http://[${REALS6[h]}]/`], { timeoutMs: 8000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(h);
    }
    // And over IPv4 as before (the servers listen on ::, IPv4-mapped).
    const v4 = await nsExec(CLIENT, ['curl', '-sS', '--max-time', '5', 'http://192.168.0.8/'], { timeoutMs: 8000 });
    expect(v4.stdout.trim()).toBe('www2');
  }, 30_000);

  itAsRoot('no real answers NS for the VIP6 (multicast, or unicast to each real), while each answers for its own address', async () => {
    expect(await ndpAnswers(VIP6)).toEqual([]);
    for (const h of ['www1', 'www2', 'www3'] as RealName[]) {
      expect(await ndpAnswers(VIP6, hostMac(h))).toEqual([]);
    }
    expect(await ndpAnswers(REALS6.www3)).toEqual([hostMac('www3')]);
    // The table up --ipv6 made (status checks both of its rules).
    const listing = await nsExec(hostNamespace(PREFIX, 'www1'), ['nft', 'list', 'table', 'ip6', 'dsrlb_nondp'], { timeoutMs: 5000 });
    expect(listing.stdout).toContain('nd-neighbor-solicit');
  }, 60_000);

  itAsRoot('up without --ipv6 keeps the complete dual-stack testbed as it is', async () => {
    const r = await testbedUp({ prefix: PREFIX });
    expect(r.action).toBe('kept');
    expect(r.status.ipv6).toBe(true);
  }, 30_000);

  itAsRoot('down removes every namespace, web server and the state', async () => {
    const r = await testbedDown({ prefix: PREFIX });
    expect(r.stoppedPids).toHaveLength(3);
    for (const ns of allNamespaces(PREFIX)) expect(nsExists(ns), ns).toBe(false);
    expect(existsSync(stateDirFor(PREFIX))).toBe(false);
    expect((await testbedStatus({ prefix: PREFIX })).state).toBe('absent');
  }, 60_000);
});
