/**
 * `dsrlb ha` logs where heartbeat would: ha.cf's logfacility (a real syslog datagram with that
 * facility's priority, received by a python3 listener standing in for /dev/log), logfile, and
 * debugfile (the debug records too); "none" or nothing named: stdout. And the CLI honours them: a
 * node started on the reference files with logfile/debugfile writes its start-up lines there.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as ha } from '../../src/cli/commands/ha.ts';
import { parseHaCf } from '../../src/config/index.ts';
import { createHeartbeatLogger } from '../../src/io/index.ts';
import { REF } from './lab.ts';
import { syslogListener, until } from '../helpers/syslog.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrs-halog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number });

describe('heartbeat log targets', () => {
  it("the reference ha.cf's logfacility local0 sends the node's lines to syslog facility local0", async () => {
    const hacf = parseHaCf(readFileSync(join(REF, 'ha.cf'), 'utf8'), 'ha.cf');
    expect(hacf.logfacility).toBe('local0');
    const sock = join(dir, 'log.sock');
    const l = await syslogListener(sock);
    try {
      const h = createHeartbeatLogger({ logfacility: hacf.logfacility, logfile: hacf.logfile, debugfile: hacf.debugfile, syslogSocket: sock, base: { node: 'www1' } });
      expect(h.target).toBe('syslog');
      expect(h.describe).toBe(`syslog facility local0 via ${sock}`);
      h.log.info({ role: 'active' }, 'ha role active');
      h.log.warn('peer late');
      h.log.debug('not at info level');
      await h.close();
      await until(() => l.got().length >= 2);
      // <PRI> = facility local0 (16) * 8 + severity: info 6 -> 134, warning 4 -> 132.
      expect(l.got()).toHaveLength(2);
      expect(l.got()[0]).toMatch(new RegExp(`^<134>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d dsrlb\\[${process.pid}\\]: ha role active node=www1 role=active$`));
      expect(l.got()[1]).toMatch(/^<132>.* peer late node=www1$/);
    } finally {
      l.child.kill();
    }
  });

  it('logfacility + logfile + debugfile: all three at once, the debug records only in the debugfile', async () => {
    const sock = join(dir, 'log2.sock');
    const l = await syslogListener(sock);
    const logfile = join(dir, 'ha-log');
    const debugfile = join(dir, 'ha-debug');
    try {
      const h = createHeartbeatLogger({ logfacility: 'local7', logfile, debugfile, syslogSocket: sock });
      expect(h.describe).toBe(`syslog facility local7 via ${sock}, file ${logfile} (JSON lines), debug file ${debugfile} (JSON lines)`);
      h.log.info('takeover');
      h.log.debug('heartbeat sent');
      await h.close();
      await h.close(); // twice is harmless
      await until(() => l.got().length >= 1);
      expect(l.got()).toEqual([expect.stringMatching(/^<190>.* takeover$/)]); // local7 = 23: 23*8+6
      expect(lines(logfile).map((r) => r.msg)).toEqual(['takeover']);
      expect(lines(debugfile).map((r) => [r.msg, r.level])).toEqual([['takeover', 30], ['heartbeat sent', 20]]);
    } finally {
      l.child.kill();
    }
  });

  it('logfacility none and no file: stdout; --foreground: stdout whatever ha.cf says', async () => {
    for (const o of [{ logfacility: 'none' }, {}, { logfacility: 'local0', logfile: join(dir, 'never'), foreground: true }]) {
      let out = '';
      const h = createHeartbeatLogger({ ...o, stdout: { write: (s: string) => (out += s) } });
      h.log.info('hello');
      await h.close();
      expect(h.target).toBe('stdout-json');
      expect(JSON.parse(out).msg).toBe('hello');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('an unknown facility is a typed error', () => {
    expect(() => createHeartbeatLogger({ logfacility: 'local9', syslogSocket: join(dir, 'x') })).toThrow(/E_LOG_FACILITY|unknown syslog facility/);
  });
});

describe('dsrlb ha honours ha.cf', () => {
  it('writes its lines to ha.cf\'s logfile and debugfile (and ends cleanly when it cannot start)', async () => {
    const d = join(dir, 'etc-ha.d');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d);
    const logfile = join(dir, 'node.log');
    const debugfile = join(dir, 'node.debug');
    const hacf = readFileSync(join(REF, 'ha.cf'), 'utf8').replace('logfacility local0', `logfacility none\nlogfile ${logfile}\ndebugfile ${debugfile}`);
    writeFileSync(join(d, 'ha.cf'), hacf);
    copyFileSync(join(REF, 'haresources'), join(d, 'haresources'));
    copyFileSync(join(REF, 'authkeys'), join(d, 'authkeys'));
    chmodSync(join(d, 'authkeys'), 0o600);
    copyFileSync(join(REF, 'ldirectord.cf'), join(d, 'ldirectord.cf'));
    const io = { out: () => {}, err: () => {} };
    // An interface that does not exist: the node stops with E_HA_IFACE after its first log lines.
    await expect(ha(['--config-dir', d, '--node', 'www1.example.com', '--iface', 'dsrsnone0'], io)).rejects.toThrow(/E_HA_IFACE|has no IPv4 address/);
    const logged = lines(logfile).map((r) => r.msg);
    expect(logged.some((m) => /respawn/.test(m))).toBe(true); // the W_HA_UNSUPPORTED warning of the respawn line
    expect(lines(debugfile).length).toBeGreaterThanOrEqual(logged.length);
  });
});
