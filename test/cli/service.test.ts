/**
 * The systemd units: the shipped files and what `dsrlb service install` writes pass
 * `systemd-analyze verify` (which runs without systemd as PID 1), and `systemd-analyze security
 * --offline=yes` scores their exposure (recorded in docs/service.md; the test fails above 3.0).
 * install prints what it writes and --dry-run writes nothing; uninstall removes only its own files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MARKER, renderUnit, run as service, shippedUnitFile } from '../../src/cli/commands/service.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrs-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  return { out, io: { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) } };
}

/** systemd-analyze verify on one unit file: its exit code and what it says about our files. */
function verify(path: string): { code: number | null; about: string[] } {
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 60_000 });
  // Units it loads for the dependencies (ldirectord.service from Conflicts=) may warn about themselves.
  const about = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !l.startsWith('/lib/systemd/') && !l.startsWith('/usr/lib/systemd/'));
  return { code: r.status, about };
}

function exposure(path: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', path], { encoding: 'utf8', timeout: 60_000 });
  const m = /Overall exposure level for .*: (\d+\.\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure score: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

const kinds = [['director', 'dsrlb-director@eth0.service'], ['ha', 'dsrlb-ha.service']] as const;

describe('the shipped units', () => {
  it.each(kinds)('%s: systemd-analyze verify passes with nothing to say', (kind, instance) => {
    const d = mkdtempSync(join(dir, 'shipped-'));
    const file = shippedUnitFile(kind);
    copyFileSync(file, join(d, file.split('/').pop()!));
    // The director unit is a template: an instance of it is verified (its %i is the interface).
    const v = verify(join(d, instance));
    expect(v.about).toEqual([]);
    expect(v.code).toBe(0);
  });

  it.each(kinds)('%s: Type=notify, reload = SIGHUP, after network-online, capabilities not root, hardening', (kind) => {
    const t = readFileSync(shippedUnitFile(kind), 'utf8');
    for (const l of ['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'Wants=network-online.target', 'After=network-online.target',
      'User=dsrlb', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'KillMode=mixed', 'RuntimeDirectory=dsrlb']) {
      expect(t.split('\n')).toContain(l);
    }
    // Exactly what native-notes/privileges.md names (+ the privileged UDP port 694 for heartbeats).
    const caps = kind === 'director' ? 'CAP_NET_RAW CAP_NET_ADMIN' : 'CAP_NET_RAW CAP_NET_ADMIN CAP_NET_BIND_SERVICE';
    expect(t).toContain(`\nAmbientCapabilities=${caps}\n`);
    expect(t).toContain(`\nCapabilityBoundingSet=${caps}\n`);
    // What the program cannot tolerate stays off (see the unit's comment).
    expect(t).not.toMatch(/^(ProtectKernelTunables|MemoryDenyWriteExecute|PrivateNetwork|PrivateUsers)=yes/m);
  });

  it.each(kinds)('%s: systemd-analyze security --offline=yes exposure is at most 3.0 ("OK")', (kind, instance) => {
    const d = mkdtempSync(join(dir, 'sec-'));
    copyFileSync(shippedUnitFile(kind), join(d, shippedUnitFile(kind).split('/').pop()!));
    const score = exposure(join(d, instance));
    console.log(`systemd-analyze security --offline=yes ${instance}: exposure ${score}`);
    expect(score).toBeLessThanOrEqual(3.0);
  });
});

describe('dsrlb service install / uninstall', () => {
  const common = ['--user', 'daemon', '--control-group', 'nogroup', '--config', '/srv/lb/ldirectord.cf', '--config-dir', '/srv/ha.d', '--name', 'lbtest'];

  it('--dry-run prints both units as they would be written, and writes nothing', async () => {
    const d = mkdtempSync(join(dir, 'dry-'));
    const t = io();
    expect(await service(['install', '--dry-run', '--unit-dir', d, ...common], t.io)).toBe(0);
    const out = t.out.join('\n');
    expect(out).toContain(`[dry-run] would write ${join(d, 'lbtest-director@.service')}:\n${MARKER}`);
    expect(out).toContain(`[dry-run] would write ${join(d, 'lbtest-ha.service')}:`);
    expect(out).toMatch(new RegExp(`ExecStart=${process.execPath} /\\S+/src/cli/dsrlb\\.mjs run --config /srv/lb/ldirectord\\.cf --iface %i --control-group nogroup`));
    expect(out).toMatch(/ExecStart=\S+ \S+ ha --config-dir \/srv\/ha\.d --control-group nogroup/);
    expect(out).toContain('User=daemon\nSupplementaryGroups=nogroup');
    expect(out).toContain('Nothing was changed (--dry-run).');
    expect(readdirSync(d)).toEqual([]);
  });

  it('install writes what it printed; the written units verify; uninstall removes them', async () => {
    const d = mkdtempSync(join(dir, 'inst-'));
    const t = io();
    expect(await service(['install', '--unit-dir', d, ...common], t.io)).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['lbtest-director@.service', 'lbtest-ha.service']);
    const ha = readFileSync(join(d, 'lbtest-ha.service'), 'utf8');
    expect(t.out.join('\n')).toContain(`write ${join(d, 'lbtest-ha.service')}:\n${ha}`);
    expect(t.out.join('\n')).toContain('systemctl enable --now lbtest-director@IFACE');
    for (const u of ['lbtest-director@eth1.service', 'lbtest-ha.service']) {
      const v = verify(join(d, u));
      expect(v.about, u).toEqual([]);
      expect(v.code, u).toBe(0);
      expect(exposure(join(d, u))).toBeLessThanOrEqual(3.0);
    }
    const u = io();
    expect(await service(['uninstall', '--unit-dir', d, '--name', 'lbtest'], u.io)).toBe(0);
    expect(u.out.join('\n')).toContain(`removed ${join(d, 'lbtest-ha.service')}`);
    expect(readdirSync(d)).toEqual([]);
  });

  it('neither overwrites nor removes a unit file it did not write', async () => {
    const d = mkdtempSync(join(dir, 'foreign-'));
    writeFileSync(join(d, 'dsrlb-ha.service'), '[Service]\nExecStart=/bin/true\n');
    await expect(service(['install', '--unit-dir', d, '--user', 'nobody'], io().io)).rejects.toMatchObject({ code: 'E_SERVICE_FILE' });
    await expect(service(['uninstall', '--unit-dir', d], io().io)).rejects.toMatchObject({ code: 'E_SERVICE_FILE' });
    expect(readFileSync(join(d, 'dsrlb-ha.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
    expect(existsSync(join(d, 'dsrlb-director@.service'))).toBe(false);
  });

  it('refuses paths a unit file would reinterpret', () => {
    const o = { node: '/usr/bin/node', bin: '/x/dsrlb.mjs', root: '/x/', config: '/etc/my lb.cf', configDir: '/etc/ha.d', user: 'dsrlb', controlGroup: null, name: 'dsrlb' };
    expect(() => renderUnit('director', o)).toThrow(/--config: .*\(spaces, %/);
    expect(() => renderUnit('director', { ...o, config: '/etc/100%.cf' })).toThrow(/E_USAGE|reinterpret/);
  });
});
