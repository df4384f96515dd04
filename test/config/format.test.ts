import { describe, expect, it } from 'vitest';
import { formatServices } from '../../src/config/index.ts';
import { cf, parse } from './helpers.ts';

describe('formatServices (ipvsadm -L -n layout)', () => {
  const cfg = parse(cf(
    'virtual=7', '\treal=10.0.0.2 gate', '\tpersistent=60',
    'virtual=10.0.0.1:53', '\treal=10.0.0.3->10.0.0.4 gate 3',
    '\tscheduler=sh', '\tschedflags=sh-port,sh-fallback', '\tpersistent=300', '\tnetmask=255.255.255.0', '\tops=yes',
    'virtual=10.0.0.1:80', '\treal=10.0.0.9:8080 masq 2', '\treal=10.0.0.2:80 gate', '\treal=10.0.0.5 ipip',
  ));
  const lines = formatServices(cfg).split('\n');

  it('sorts services like ipvsadm (tcp, udp, then marks), reals by address, with flags', () => {
    expect(lines.slice(3, 13).map((l) => l.trimEnd())).toEqual([
      'TCP  10.0.0.1:80 wrr',
      '  -> 10.0.0.2:80                  Route   1      0          0',
      '  -> 10.0.0.5:80                  Tunnel  1      0          0',
      '  -> 10.0.0.9:8080                Masq    2      0          0',
      'UDP  10.0.0.1:53 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0 ops',
      '  -> 10.0.0.3:53                  Route   3      0          0',
      '  -> 10.0.0.4:53                  Route   3      0          0',
      'FWM  7 wrr persistent 60',
      '  -> 10.0.0.2:0                   Route   1      0          0',
      '',
    ]);
  });

  it('rows have ipvsadm\'s column widths', () => {
    const row = lines[4]!;
    expect(row).toBe(`  -> ${'10.0.0.2:80'.padEnd(28)} ${'Route'.padEnd(7)} ${'1'.padEnd(6)} ${'0'.padEnd(10)} ${'0'.padEnd(10)}`);
  });

  it('then a checks block per virtual and the global settings', () => {
    const text = lines.join('\n');
    expect(text).toContain('\nChecks:\nTCP  10.0.0.1:80  (test.cf:');
    expect(text).toMatch(/service\s+dns \(from the port\)/);
    expect(text).toMatch(/service\s+none \(default for a firewall mark\)/);
    expect(text).toMatch(/\nGlobal settings:\n\s+logfile\s+\/var\/log\/ldirectord\.log \(file\)/);
  });

  it('an empty configuration prints only the header', () => {
    expect(formatServices(parse('')).split('\n').slice(0, 4)).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      '',
    ]);
  });
});
