/** Log records as text: syslog priorities, one-line messages, terminal lines. */
import { describe, expect, it } from 'vitest';
import { facilityCode, fieldsText, prettyLine, syslogMessage, syslogPri } from '../../src/obs/index.ts';

describe('syslog priorities', () => {
  it('facility × 8 + severity, pino levels mapped to syslog severities', () => {
    expect(syslogPri(facilityCode('local0'), 30)).toBe(134); // local0.info
    expect(syslogPri(facilityCode('local0'), 40)).toBe(132); // local0.warning
    expect(syslogPri(facilityCode('daemon'), 50)).toBe(27); // daemon.err
    expect(syslogPri(facilityCode('local7'), 60)).toBe(186); // local7.crit
    expect(syslogPri(facilityCode('user'), 20)).toBe(15); // user.debug
    expect(() => facilityCode('local8')).toThrow(/unknown syslog facility/);
  });
});

describe('record text', () => {
  const rec = { level: 30, time: Date.UTC(2025, 10, 26, 13, 5, 9, 42), pid: 1, hostname: 'h', msg: 'real down', real: '192.168.0.9:80', reason: 'HTTP 500 from /ping.cgi', change: { op: 'editReal', weight: 0 } };
  it('fields as key=value, quoted when needed, nested keys dotted, pino\'s own fields left out', () => {
    expect(fieldsText(rec)).toBe('real=192.168.0.9:80 reason="HTTP 500 from /ping.cgi" change.op=editReal change.weight=0');
  });
  it('one line for syslog', () => {
    expect(syslogMessage({ ...rec, msg: 'two\nlines' })).toBe('two lines real=192.168.0.9:80 reason="HTTP 500 from /ping.cgi" change.op=editReal change.weight=0');
  });
  it('a terminal line with the local time and the level', () => {
    expect(prettyLine(rec)).toMatch(/^\d\d:\d\d:\d\d\.042 INFO  real down real=192\.168\.0\.9:80 /);
  });
});
