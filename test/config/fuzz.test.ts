/**
 * Property tests: whatever the text, parseLdirectordConfig returns a model or throws ConfigErrors
 * (never anything else), every reported line exists in the text, and a valid model is consistent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatServices, parseLdirectordConfig, type LdirectordConfig } from '../../src/config/index.ts';
import { ConfigError, ConfigErrors } from '../../src/errors/index.ts';

function attempt(text: string): LdirectordConfig | ConfigErrors {
  try {
    return parseLdirectordConfig(text, 'fuzz.cf');
  } catch (e) {
    if (e instanceof ConfigErrors) return e;
    throw e;
  }
}

function checkOutcome(text: string): void {
  const r = attempt(text);
  const lineCount = text.split('\n').length;
  if (r instanceof ConfigErrors) {
    expect(r.errors.length).toBeGreaterThan(0);
    for (const e of r.errors) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.code).toMatch(/^E_CONFIG_[A-Z_]+$/);
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.line).toBeLessThanOrEqual(lineCount);
    }
    const lines = r.errors.map((e) => e.line);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  } else {
    for (const v of r.virtuals) {
      expect(v.reals.every((x) => x.weight >= 0 && x.weight <= 65535)).toBe(true);
      expect(v.reals.every((x) => x.port >= 0 && x.port <= 65535)).toBe(true);
      expect(v.checktimeout).toBeGreaterThan(0);
      expect(v.negotiatetimeout).toBeGreaterThan(0);
    }
    expect(typeof formatServices(r)).toBe('string');
    expect(() => JSON.stringify(r)).not.toThrow();
  }
}

const NAMES = [
  'virtual', 'real', 'checktimeout', 'negotiatetimeout', 'connecttimeout', 'checkinterval', 'failurecount',
  'checkcount', 'fallback', 'fallbackcommand', 'autoreload', 'callback', 'logfile', 'execute', 'supervised',
  'fork', 'quiescent', 'readdquiescent', 'emailalert', 'emailalertfreq', 'emailalertstatus', 'emailalertfrom',
  'cleanstop', 'smtp', 'maintenancedir', 'request', 'receive', 'checktype', 'checkcommand', 'checkport',
  'service', 'virtualhost', 'httpmethod', 'login', 'passwd', 'database', 'secret', 'load', 'scheduler',
  'persistent', 'netmask', 'protocol', 'ops', 'monitorfile', 'schedflags', 'realthresholds', 'virtual6',
  'real6', 'fallback6', 'timeout', 'bogus', 'constructor', '__proto__', 'toString', 'hasOwnProperty',
];
const VALUES = [
  '10.0.0.1:80', '10.0.0.2', '10.0.0.2:80 gate', '10.0.0.2->10.0.0.4:80 masq 3', '10.0.0.2 ipip 2 "a", "b"',
  '7', '0', '53', 'yes', 'no', 'rr', 'sh', 'lblc', 'sh-port,sh-fallback', '"quoted"', '"', '""', '255.255.255.0',
  'tcp', 'udp', 'fwm', 'negotiate', '3', 'http', 'GET', '/var/log/x', 'local0', '10.0.0.2 10 5', '[::1]:80',
  'all', 'none,running', 'web1:80', '10.0.0.9->10.0.0.1', '[2001:db8::2]:80 gate 2', '[2001:db8::9]', '[2001:db8::2]->[2001:db8::3]', '64', '999999999999999999999', '-1', '1e3', ' ', '# c',
];

const structured = fc.array(
  fc.tuple(
    fc.constantFrom('', ' ', '\t', '    ', '#'),
    fc.constantFrom(...NAMES),
    fc.constantFrom('=', ' = ', '', '=='),
    fc.constantFrom(...VALUES),
    fc.constantFrom('', ' # note', '\r'),
  ).map(([ind, n, eq, v, tail]) => `${ind}${n}${eq}${v}${tail}`),
  { maxLength: 30 },
).map((lines) => lines.join('\n'));

describe('parseLdirectordConfig never throws anything but ConfigErrors', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => checkOutcome(s)), { numRuns: 1500 });
  });

  it('on arbitrary unicode and control characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => checkOutcome(s)), { numRuns: 800 });
  });

  it('on text made of real directives, values and indentation', () => {
    fc.assert(fc.property(structured, (s) => checkOutcome(s)), { numRuns: 3000 });
  });

  it('on the seed file with one line replaced by anything', () => {
    const seed = 'checktimeout=10\nvirtual=192.168.0.10:80\n\treal=192.168.0.7:80 gate\n\tservice=http\n\treceive="ok"\n';
    const lines = seed.split('\n');
    fc.assert(fc.property(fc.nat(lines.length - 1), fc.string({ maxLength: 60 }), (i, s) => {
      const copy = [...lines];
      copy[i] = s;
      checkOutcome(copy.join('\n'));
    }), { numRuns: 1500 });
  });
});
