import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatServices, parseLdirectordConfig } from '../../src/config/index.ts';
import { ipToString, parseIPv4 } from '../../src/model/index.ts';

const SEED = fileURLToPath(new URL('../fixtures/config/ldirectord.cf', import.meta.url));
const text = readFileSync(SEED, 'utf8');

describe('the seed ldirectord.cf', () => {
  const cfg = parseLdirectordConfig(text, 'ldirectord.cf');

  it('parses unchanged, without warnings', () => {
    expect(cfg.file).toBe('ldirectord.cf');
    expect(cfg.warnings).toEqual([]);
  });

  it('has its global settings', () => {
    const g = cfg.globals;
    expect(g.checktimeout).toBe(10);
    expect(g.negotiatetimeout).toBeNull();
    expect(g.checkinterval).toBe(5);
    expect(g.autoreload).toBe(false);
    expect(g.logfile).toEqual({ raw: 'local0', kind: 'syslog' });
    expect(g.quiescent).toBe(true);
    expect(g.lines).toEqual({ checktimeout: 2, checkinterval: 3, autoreload: 4, logfile: 5, quiescent: 6 });
  });

  it('has two virtual services with three gate reals each', () => {
    expect(cfg.virtuals.map((v) => [v.line, v.protocol, ipToString(v.address!), v.port])).toEqual([
      [9, 'tcp', '192.168.0.10', 80],
      [21, 'tcp', '192.168.0.10', 443],
    ]);
    for (const v of cfg.virtuals) {
      expect(v.reals.map((r) => `${ipToString(r.address)}:${r.port} ${r.method} ${r.weight}`)).toEqual([
        `192.168.0.7:${v.port} gate 1`, `192.168.0.8:${v.port} gate 1`, `192.168.0.9:${v.port} gate 1`,
      ]);
      expect(v.reals.map((r) => r.line)).toEqual([v.line + 1, v.line + 2, v.line + 3]);
    }
  });

  it('resolves every check setting as ldirectord would', () => {
    const [http, https] = cfg.virtuals;
    for (const v of [http!, https!]) {
      expect(v.scheduler).toBe('rr');
      expect(v.persistent).toBe(0);
      expect(v.netmask).toBe(0xffffffff);
      expect(v.checktype).toBe('negotiate');
      expect(v.request).toBe('/ping.cgi');
      expect(v.receive).toBe('ok');
      expect(v.serviceFromPort).toBe(false);
      expect(v.checktimeout).toBe(10);
      // negotiatetimeout is unset everywhere: ldirectord falls back to the global checktimeout.
      expect(v.negotiatetimeout).toBe(10);
      expect(v.checkinterval).toBe(5);
      expect(v.failurecount).toBe(1);
      expect(v.quiescent).toBe(true);
      expect(v.fallback).toBeNull();
    }
    expect(http!.service).toBe('http');
    expect(https!.service).toBe('https');
    expect(http!.address).toBe(parseIPv4('192.168.0.10'));
  });

  it('lists like ipvsadm -L -n', () => {
    const out = formatServices(cfg).split('\n');
    expect(out.slice(0, 11)).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  192.168.0.10:80 rr',
      '  -> 192.168.0.7:80               Route   1      0          0         ',
      '  -> 192.168.0.8:80               Route   1      0          0         ',
      '  -> 192.168.0.9:80               Route   1      0          0         ',
      'TCP  192.168.0.10:443 rr',
      '  -> 192.168.0.7:443              Route   1      0          0         ',
      '  -> 192.168.0.8:443              Route   1      0          0         ',
      '  -> 192.168.0.9:443              Route   1      0          0         ',
    ]);
    const text = out.join('\n');
    expect(text).toContain('TCP  192.168.0.10:80  (ldirectord.cf:9)');
    expect(text).toMatch(/request\s+"\/ping\.cgi"/);
    expect(text).toMatch(/negotiatetimeout\s+10 s/);
    expect(text).toMatch(/logfile\s+local0 \(syslog facility\)/);
  });

  it('is byte for byte the seed file (the copy in docs/reference-setup/, and shared/ when it is beside the checkout)', () => {
    const docsCopy = readFileSync(new URL('../../docs/reference-setup/ldirectord.cf', import.meta.url), 'utf8');
    expect(text).toBe(docsCopy);
    for (const shared of [new URL('../../../shared/seed-configs/ldirectord.cf', import.meta.url)]) {
      try {
        expect(text).toBe(readFileSync(shared, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  });
});
