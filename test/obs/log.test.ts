/**
 * The logger factory: ldirectord's logfile= as a file or a syslog facility (real datagrams to a
 * unix socket, received here by a small python3 listener standing in for /dev/log), foreground
 * JSON or human lines on stdout, and the fallback when there is no syslog socket.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/io/log.ts';
import { syslogListener, until } from '../helpers/syslog.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('logfile=local0 (syslog)', () => {
  it('sends one real syslog datagram per record: <PRI>timestamp dsrlb[pid]: message key=value', async () => {
    const sock = join(dir, 'log.sock');
    const l = await syslogListener(sock);
    try {
      const h = createLogger({ logfile: 'local0', syslogSocket: sock, base: { iface: 'eth0' } });
      expect(h.target).toBe('syslog');
      h.log.info({ real: '192.168.0.9:80', weight: 0 }, 'quiesced real');
      h.log.warn({ reason: 'connect timeout' }, 'check failed');
      h.log.error('a\nmultiline');
      h.log.debug('not at info level');
      await h.close();
      await until(() => l.got().length >= 3);
      const got = l.got();
      expect(got).toHaveLength(3);
      const head = `\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d dsrlb\\[${process.pid}\\]: `;
      expect(got[0]).toMatch(new RegExp(`^<134>${head}quiesced real iface=eth0 real=192\\.168\\.0\\.9:80 weight=0$`));
      expect(got[1]).toMatch(new RegExp(`^<132>${head}check failed iface=eth0 reason="connect timeout"$`));
      expect(got[2]).toMatch(new RegExp(`^<131>${head}a multiline iface=eth0$`));
    } finally {
      l.child.kill();
    }
  });

  it('without a syslog socket: one warning, then the records on stderr', async () => {
    let err = '';
    const h = createLogger({ logfile: 'local3', syslogSocket: join(dir, 'absent.sock'), stderr: { write: (s: string) => (err += s) } });
    expect(h.target).toBe('stderr');
    h.log.info('still logged');
    await h.close();
    expect(err).toMatch(/no syslog socket at .*absent\.sock; logging to stderr\n/);
    expect(err).toMatch(/"msg":"still logged"/);
  });
});

describe('logfile=/path', () => {
  it('appends JSON lines; reopen() follows a rotation', async () => {
    const file = join(dir, 'sub', 'ldirectord.log');
    const h = createLogger({ logfile: file, level: 'debug' });
    expect(h.target).toBe('file');
    h.log.info({ n: 1 }, 'first');
    h.log.debug({ n: 2 }, 'second');
    // Both lines written before the rotation (the destination may write asynchronously).
    await until(() => existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length >= 2);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    renameSync(file, `${file}.1`);
    h.reopen();
    h.log.info({ n: 3 }, 'third');
    await h.close();
    const before = readFileSync(`${file}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const after = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(before.map((r) => [r.msg, r.n, r.level])).toEqual([['first', 1, 30], ['second', 2, 20]]);
    expect(after.map((r) => r.msg)).toEqual(['third']);
    expect(after[0].pid).toBe(process.pid);
  });
});

describe('foreground / supervised', () => {
  it('JSON lines on stdout, whatever logfile says', async () => {
    let out = '';
    const h = createLogger({ foreground: true, logfile: 'local0', stdout: { write: (s: string) => (out += s), isTTY: false } });
    expect(h.target).toBe('stdout-json');
    h.log.info({ control: '/run/dsrlb/x.sock' }, 'director ready');
    expect(JSON.parse(out)).toMatchObject({ level: 30, msg: 'director ready', control: '/run/dsrlb/x.sock' });
  });

  it('human lines when stdout is a terminal', async () => {
    let out = '';
    const h = createLogger({ foreground: true, stdout: { write: (s: string) => (out += s), isTTY: true } });
    expect(h.target).toBe('stdout-pretty');
    h.log.warn({ real: '192.168.0.9:80' }, 'real down');
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  real down real=192\.168\.0\.9:80\n$/);
  });

  it('no logfile at all: stdout', () => {
    const h = createLogger({ stdout: { write: () => true, isTTY: false } });
    expect(h.target).toBe('stdout-json');
  });
});
