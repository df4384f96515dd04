/**
 * `dsrlb run --sync-peer/--sync-listen/--sync-interval` (src/cli/peer-sync.ts): the options, their
 * errors, and what `dsrlb ipvsadm -L --daemon` prints for the sync.
 */
import { describe, expect, it } from 'vitest';
import { formatSyncDaemons, parseSyncOptions } from '../../src/cli/peer-sync.ts';
import { thrown } from '../helpers/thrown.ts';

const ifaceAddr = (i: string) => (i === 'eth0' ? '192.168.0.21' : undefined);

describe('connection sync options', () => {
  it('no peers: no sync; peers: the interface\'s address and port 8848 by default', () => {
    expect(parseSyncOptions({}, 'eth0', ifaceAddr)).toBeNull();
    expect(parseSyncOptions({ 'sync-peer': ['192.168.0.22', '192.168.0.23:9000'] }, 'eth0', ifaceAddr)).toEqual({
      listen: { addr: '192.168.0.21', port: 8848 },
      peers: [{ addr: '192.168.0.22', port: 8848 }, { addr: '192.168.0.23', port: 9000 }],
      intervalMs: 200,
    });
    expect(parseSyncOptions({ 'sync-peer': ['10.0.0.2'], 'sync-listen': '10.0.0.1:7000', 'sync-interval': '50' }, 'eth9', ifaceAddr))
      .toEqual({ listen: { addr: '10.0.0.1', port: 7000 }, peers: [{ addr: '10.0.0.2', port: 8848 }], intervalMs: 50 });
  });

  it('bad input is a usage error that names the option', () => {
    const err = (v: Parameters<typeof parseSyncOptions>[0], iface = 'eth0') => thrown(() => parseSyncOptions(v, iface, ifaceAddr));
    expect(err({ 'sync-peer': ['192.168.0.300'] })).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('--sync-peer') });
    expect(err({ 'sync-peer': ['192.168.0.22:0'] })).toMatchObject({ code: 'E_USAGE' });
    expect(err({ 'sync-peer': ['host.example'] })).toMatchObject({ code: 'E_USAGE' });
    expect(err({ 'sync-listen': '192.168.0.21' })).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('need --sync-peer') });
    expect(err({ 'sync-peer': ['192.168.0.22'], 'sync-interval': '5' })).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('--sync-interval') });
    expect(err({ 'sync-peer': ['192.168.0.21'] })).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('own sync address') });
    expect(err({ 'sync-peer': ['192.168.0.22'] }, 'eth9')).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('--sync-listen') });
  });

  it('ipvsadm -L --daemon: nothing without sync; the sending and receiving sides with it', () => {
    expect(formatSyncDaemons(null)).toBe('');
    expect(formatSyncDaemons({ iface: 'eth0', listen: '192.168.0.21:8848', peers: ['192.168.0.22:8848', '192.168.0.23:8848'], intervalMs: 200 })).toBe(
      'master sync daemon (mcast=eth0, syncid=0, unicast to 192.168.0.22:8848 192.168.0.23:8848, every 200 ms)\n' +
      'backup sync daemon (mcast=eth0, syncid=0, listening on 192.168.0.21:8848)\n');
  });
});
