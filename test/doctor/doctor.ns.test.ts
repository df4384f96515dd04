/**
 * dsrlb doctor on the namespace testbed (root; CI runs it): a good real server and director, then
 * a broken real (its arptables rules flushed) and a director with GRO on; the doctor's own fix
 * commands are run and the doctor is happy again. Also records a live capture at every host
 * (dsrlb testbed capture) and explains it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixes, runDoctor } from './doctor-cli.ts';
import { loadCaptures, testbedNames } from '../../src/cli/commands/explain.ts';
import { startTestbedCapture, RECORD_CONFIG } from '../../src/doctor/index.ts';
import { explainCaptures } from '../../src/teach/index.ts';
import {
  VIP, hostMac, hostNamespace, nsExec, startLabDirector, testbedDown, testbedUp, type LabDirector,
} from '../../src/testbed/index.ts';
import { writeFileSync } from 'node:fs';

const prefix = `dsrd${process.pid % 10000}`;
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-doctor-'));
let director: LabDirector | null = null;

beforeAll(async () => {
  await testbedUp({ prefix });
  const cfg = join(tmp, 'ldirectord.cf');
  writeFileSync(cfg, RECORD_CONFIG);
  director = await startLabDirector({ prefix, config: cfg, args: ['--garp', '0'] });
}, 90_000);

afterAll(async () => {
  await director?.stop();
  await testbedDown({ prefix });
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('dsrlb doctor on the testbed', () => {
  it('a good real server: exit 0, the director is the one MAC answering ARP for the VIP', async () => {
    const r = await runDoctor(['--netns', hostNamespace(prefix, 'www2'), '--vip', VIP, '--role', 'real']);
    expect(r.out).toContain('all is well');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`ok\\s+arp-probe\\s+.*one MAC answers, ${hostMac('www1')}`));
  });

  it('a good director (www1, also a real): exit 0', async () => {
    const r = await runDoctor(['--netns', hostNamespace(prefix, 'www1'), '--vip', VIP, '--role', 'director']);
    expect(r.out).toContain('all is well');
    expect(r.code).toBe(0);
  });

  it('a real without ARP suppression: the doctor names it, its fix works', async () => {
    const www3 = hostNamespace(prefix, 'www3');
    await nsExec(www3, ['arptables', '-F'], { check: true });
    const self = await runDoctor(['--netns', www3, '--vip', VIP]);
    expect(self.code).toBe(1);
    expect(self.out).toMatch(/FAIL\s+arp-suppression\s+this host answers ARP requests for the VIP/);
    const cmds = fixes(self.out, 'arp-suppression');
    expect(cmds).toEqual([
      `ip netns exec ${www3} arptables -A INPUT -d ${VIP} -j DROP`,
      `ip netns exec ${www3} arptables -A OUTPUT -s ${VIP} -o eth0 -j mangle --mangle-ip-s 192.168.0.9`,
    ]);

    // Seen from another real: two MACs answer ARP for the VIP.
    const other = await runDoctor(['--netns', hostNamespace(prefix, 'www2'), '--vip', VIP]);
    expect(other.code).toBe(1);
    expect(other.out).toMatch(new RegExp(`FAIL\\s+arp-probe\\s+2 MACs answer ARP for ${VIP.replaceAll('.', '\\.')}: ${hostMac('www1')} ×\\d+, ${hostMac('www3')} ×\\d+`));

    // Run the doctor's own commands (inside the namespace: they start with ip netns exec).
    for (const c of cmds) {
      const argv = c.split(' ');
      expect(argv.slice(0, 4)).toEqual(['ip', 'netns', 'exec', www3]);
      await nsExec(www3, argv.slice(4), { check: true });
    }
    expect((await runDoctor(['--netns', www3, '--vip', VIP])).code).toBe(0);
    expect((await runDoctor(['--netns', hostNamespace(prefix, 'www2'), '--vip', VIP])).code).toBe(0);
  }, 60_000);

  it('a director with GRO on: fails with the ethtool command', async () => {
    const www1 = hostNamespace(prefix, 'www1');
    await nsExec(www1, ['ethtool', '-K', 'eth0', 'gro', 'on'], { check: true });
    try {
      const r = await runDoctor(['--netns', www1, '--vip', VIP, '--role', 'director']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/FAIL\s+offloads\s+.*gro \(generic-receive-offload\)/);
      expect(fixes(r.out, 'offloads')).toEqual([`ip netns exec ${www1} ethtool -K eth0 gro off`]);
    } finally {
      await nsExec(www1, ['ethtool', '-K', 'eth0', 'gro', 'off']);
    }
  });

  it('refuses a namespace that does not exist, and bad usage', async () => {
    await expect(runDoctor(['--netns', `${prefix}-nosuch`, '--vip', VIP])).rejects.toMatchObject({ code: 'E_DOCTOR_NO_NS' });
    expect((await runDoctor(['--vip', 'nope'])).code).toBe(2);
    expect((await runDoctor(['--vip', VIP, '--role', 'client'])).code).toBe(2);
  });
});

describe('testbed capture, explained', () => {
  it('records at every host during requests and explains them as DSR', async () => {
    const dir = join(tmp, 'capture');
    const client = hostNamespace(prefix, 'client');
    await nsExec(client, ['ip', 'neigh', 'flush', 'all']);
    const cap = await startTestbedCapture({ prefix, dir });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await nsExec(client, ['curl', '-s', '-m', '4', `http://${VIP}/`], { timeoutMs: 8000 });
        expect(r.code).toBe(0);
      }
    } finally {
      await cap.stop();
    }
    expect(cap.pids.length).toBe(4);
    const ex = explainCaptures(loadCaptures([dir]), { names: testbedNames() });
    expect(ex.captures.map((c) => c.name)).toEqual(['client', 'www1', 'www2', 'www3']);
    expect(ex.roles.vips).toEqual([VIP]);
    expect([...ex.roles.directorMacs]).toEqual([hostMac('www1')]);
    expect(ex.flows.length).toBe(3);
    expect(new Set(ex.flows.flatMap((f) => f.realMacs))).toEqual(new Set([hostMac('www1'), hostMac('www2'), hostMac('www3')]));
    expect(ex.findings.filter((f) => f.severity === 'problem')).toEqual([]);
    const first = ex.flows[0]!;
    expect(first.arrows.some((a) => a.kind === 'arp-reply' && a.from === hostMac('www1'))).toBe(true);
  }, 60_000);
});
