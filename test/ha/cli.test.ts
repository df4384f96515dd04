import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyCommands, removeCommands, run as arpRules } from '../../src/cli/commands/arp-rules.ts';
import { loadHaDir, run as ha } from '../../src/cli/commands/ha.ts';
import { ConfigErrors, DsrlbError } from '../../src/errors/index.ts';
import { REF } from './lab.ts';
import { thrown } from '../helpers/thrown.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
}

describe('dsrlb arp-rules', () => {
  it('prints the seed\'s rules (jf chains by default), the netfilter dialect, a save file, the nft equivalent', async () => {
    const t = io();
    expect(await arpRules(['--vip', '192.168.0.10', '--rip', '192.168.0.7', '--iface', 'eth0'], t.io)).toBe(0);
    expect(t.out.join('\n')).toBe('-A IN -d 192.168.0.10 -j DROP\n-A OUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.7');
    const n = io();
    await arpRules(['--vip', '192.168.0.10', '--rip', '192.168.0.8', '--iface', 'eth0', '--dialect', 'netfilter'], n.io);
    expect(n.out.join('\n')).toBe('-A INPUT -d 192.168.0.10 -j DROP\n-A OUTPUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.8');
    const s = io();
    await arpRules(['--vip', '192.168.0.10', '--rip', '192.168.0.7', '--iface', 'eth0', '--format', 'save'], s.io);
    expect(s.out.join('\n')).toMatch(/^\*filter\n:IN ACCEPT\n:OUT ACCEPT\n:FORWARD ACCEPT\n-A IN -d 192\.168\.0\.10 -j DROP\n.*\nCOMMIT\n$/);
    const f = io();
    await arpRules(['--vip', '192.168.0.10', '--rip', '192.168.0.7', '--iface', 'eth0', '--format', 'nft'], f.io);
    expect(f.out.join('\n')).toContain('arp daddr ip 192.168.0.10 drop');
  });

  it('rejects bad arguments', async () => {
    for (const argv of [[], ['--vip', 'x', '--rip', '1.2.3.4', '--iface', 'eth0'], ['--vip', '1.2.3.4', '--rip', '1.2.3.5', '--iface', 'eth0', '--apply', '--remove'],
      ['--vip', '1.2.3.4', '--rip', '1.2.3.5', '--iface', 'eth0;rm', '--apply'], ['--vip', '1.2.3.4', '--rip', '1.2.3.5', '--iface', 'eth0', '--dialect', 'x']]) {
      await expect(arpRules(argv, io().io), argv.join(' ')).rejects.toBeInstanceOf(DsrlbError);
    }
  });

  it('apply deletes any copy first then adds (one copy, idempotent); remove deletes and tolerates absence', () => {
    const s = { style: 'arptables' as const, dialect: 'netfilter' as const, vip: '192.168.0.10', rip: '192.168.0.7', iface: 'eth0' };
    expect(applyCommands(s)).toEqual([
      { argv: ['arptables', '-D', 'INPUT', '-d', '192.168.0.10', '-j', 'DROP'], mayFail: true },
      { argv: ['arptables', '-D', 'OUTPUT', '-s', '192.168.0.10', '-o', 'eth0', '-j', 'mangle', '--mangle-ip-s', '192.168.0.7'], mayFail: true },
      { argv: ['arptables', '-A', 'INPUT', '-d', '192.168.0.10', '-j', 'DROP'], mayFail: false },
      { argv: ['arptables', '-A', 'OUTPUT', '-s', '192.168.0.10', '-o', 'eth0', '-j', 'mangle', '--mangle-ip-s', '192.168.0.7'], mayFail: false },
    ]);
    expect(removeCommands(s).every((c) => c.mayFail && c.argv[1] === '-D')).toBe(true);
    expect(applyCommands({ ...s, style: 'nft' })[0]).toEqual({ argv: ['nft', 'delete', 'table', 'arp', 'dsrlb_noarp'], mayFail: true });
  });
});

describe('dsrlb ha: configuration directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsrlb-ha-cli-'));
  for (const f of ['ha.cf', 'haresources', 'authkeys', 'ldirectord.cf']) copyFileSync(join(REF, f), join(dir, f));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('authkeys readable by others is refused, as heartbeat does; 600 is accepted', () => {
    chmodSync(join(dir, 'authkeys'), 0o644);
    const e = thrown(() => loadHaDir(dir, 'www1.example.com'));
    expect(e).toBeInstanceOf(ConfigErrors);
    expect((e as ConfigErrors).errors[0]!.code).toBe('E_HA_AUTHKEYS_MODE');
    expect((e as Error).message).toBe(`${join(dir, 'authkeys')}:0: mode 644: authkeys must be readable by its owner only (chmod 600)`);
    chmodSync(join(dir, 'authkeys'), 0o600);
    const { setup, warnings } = loadHaDir(dir, 'www1.example.com');
    expect([setup.self, setup.peer, setup.preferred, setup.ldirectord]).toEqual(['www1.example.com', 'www2.example.com', 'www1.example.com', 'ldirectord.cf']);
    expect(warnings.map((w) => w.code)).toEqual(['W_HA_UNSUPPORTED', 'W_HA_DUPLICATE']);
  });

  it('a missing file and an unknown node are configuration errors with the file named', async () => {
    expect(() => loadHaDir(join(dir, 'nope'), 'www1.example.com')).toThrow(/nope\/ha\.cf:0: no such file/);
    chmodSync(join(dir, 'authkeys'), 0o600);
    expect(() => loadHaDir(dir, 'other')).toThrow(/this node \(other\) is not a node of the cluster/);
    writeFileSync(join(dir, 'bad'), '');
  });

  it('usage errors; status without a running node names the socket', async () => {
    await expect(ha([], io().io)).rejects.toThrow(/--config-dir is required/);
    await expect(ha(['--config-dir', dir, '--arp-suppression', 'magic'], io().io)).rejects.toThrow(/arptables, nft or none/);
    await expect(ha(['status', '--control', join(dir, 'no.sock')], io().io)).rejects.toThrow(/E_CONTROL_CONNECT|cannot reach/);
    const h = io();
    expect(await ha(['--help'], h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/dsrlb ha status/);
  });
});
