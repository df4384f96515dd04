/** ipvsadm's formatting details that the kernel runs do not reach: big numbers, names, flags, order. */
import { describe, expect, it } from 'vitest';
import { parseIPv4 } from '../../src/model/index.ts';
import {
  compareReals, expireText, formatConnections, formatList, formatSave, glibcMergeSort, largeNum, namesFromFiles, schedFlagsText,
  type TableSnapshot,
} from '../../src/obs/index.ts';

const ip = (s: string) => parseIPv4(s)!;

function table(reals: string[], spec: Partial<TableSnapshot['services'][number]['spec']> = {}): TableSnapshot {
  return {
    at: 0,
    services: [{
      spec: { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'wrr', ...spec },
      conns: 123456789012, inPkts: 99999999, inBytes: 100000000,
      reals: reals.map((a, i) => ({
        addr: ip(a), port: 80, weight: i + 1, activeConns: 1, inactConns: 2, persistConns: 0, uThreshold: 0, lThreshold: 0,
        conns: 1e9, inPkts: 1e11, inBytes: 1e14,
      })),
    }],
  };
}

describe('print_largenum', () => {
  it('9 columns, then K, M, G, T past 8 digits', () => {
    expect(largeNum(0)).toBe('        0');
    expect(largeNum(99_999_999)).toBe(' 99999999');
    expect(largeNum(100_000_000)).toBe('  100000K');
    expect(largeNum(999_999_999)).toBe('  999999K');
    expect(largeNum(1_000_000_000)).toBe('    1000M');
    expect(largeNum(99_999_999_999)).toBe('   99999M');
    expect(largeNum(100_000_000_000)).toBe('     100G');
    expect(largeNum(99_999_999_999_999)).toBe('   99999G');
    expect(largeNum(100_000_000_000_000)).toBe('     100T');
  });
  it('--exact: the whole number, one space before it at least', () => {
    expect(largeNum(123, true)).toBe('      123');
    expect(largeNum(12_345_678, true)).toBe(' 12345678');
    expect(largeNum(123_456_789_012, true)).toBe(' 123456789012');
  });
  it('in --stats rows', () => {
    const out = formatList(table(['10.0.0.1']), { numeric: true, stats: true }).split('\n');
    expect(out[3]).toBe('TCP  192.168.0.10:80                  123G 99999999        0  100000K        0');
    expect(out[4]).toBe(`  -> ${'10.0.0.1:80'.padEnd(28)}    1000M     100G        0     100T        0`);
  });
});

describe('scheduler flags', () => {
  it('named after sh and mh, flag-N for the others (the kernel keeps bits)', () => {
    expect(schedFlagsText('sh', { shFallback: true, shPort: true })).toBe('sh-fallback,sh-port');
    expect(schedFlagsText('mh', { shPort: true })).toBe('mh-port');
    expect(schedFlagsText('rr', { shFallback: true, mhPort: true })).toBe('flag-1,flag-2');
    expect(schedFlagsText('wlc', {})).toBe('');
    const s = formatList(table([], { scheduler: 'rr', schedFlags: { shFallback: true }, persistent: 60 }), { numeric: true });
    expect(s.split('\n')[3]).toBe('TCP  192.168.0.10:80 rr (flag-1) persistent 60');
  });
});

describe('names without -n', () => {
  const names = namesFromFiles(
    '127.0.0.1 localhost\n192.168.0.10 www.example.com www\n10.0.0.1 a-very-long-real-server-host-name.example.org\n',
    'http 80/tcp www # WorldWideWeb\nhttps 443/tcp\ndomain 53/udp\n',
  );
  it('hosts and services from the files, numbers where they have none', () => {
    const out = formatList(table(['10.0.0.1', '10.0.0.2']), { names }).split('\n');
    expect(out[3]).toBe('TCP  www.example.com:http wrr');
    // ipvsadm cuts real names at 28 characters
    expect(out[4]).toBe('  -> a-very-long-real-server-host Route   1      1          2         ');
    expect(out[5]).toBe(`  -> ${'10.0.0.2:http'.padEnd(28)} Route   2      1          2         `);
  });
  it('look-ups for arguments', () => {
    expect(names.hostAddr('www')).toBe(ip('192.168.0.10'));
    expect(names.servicePort('www', 'tcp')).toBe(80);
    expect(names.servicePort('domain', 'udp')).toBe(53);
    expect(names.servicePort('domain', 'tcp')).toBeNull();
  });
  it('-S without -n writes names too', () => {
    expect(formatSave(table(['10.0.0.2']), { names })).toBe('-A -t www.example.com:http -s wrr\n-a -t www.example.com:http -r 10.0.0.2:http -g -w 1\n');
  });
  it('-c writes names too', () => {
    const out = formatConnections([{ proto: 'tcp', caddr: ip('127.0.0.1'), cport: 443, vaddr: ip('192.168.0.10'), vport: 80, daddr: ip('10.0.0.9'), dport: 80, state: 'ESTABLISHED', expiresInMs: 899_999, template: false }], { names });
    expect(out.split('\n')[2]).toBe('TCP 14:59  ESTABLISHED localhost:https    www.example.com:http 10.0.0.9:http');
  });
});

describe('order', () => {
  it('reals 2^31 apart come out as glibc\'s merge sort with ipvsadm\'s wrapping comparator puts them (kernel-checked in test/ipvsadm)', () => {
    const reals = ['150.1.1.1', '200.1.1.1', '100.1.1.1', '10.123.0.21'].map((a) => ({ addr: ip(a), port: 80 }));
    expect(glibcMergeSort(reals, compareReals).map((r) => r.addr)).toEqual(['150.1.1.1', '200.1.1.1', '10.123.0.21', '100.1.1.1'].map(ip));
  });
  it('services by protocol (TCP before UDP), address, port', () => {
    const snap: TableSnapshot = {
      at: 0,
      services: [
        { spec: { proto: 'udp', vip: ip('10.0.0.1'), port: 53, scheduler: 'rr' }, conns: 0, inPkts: 0, inBytes: 0, reals: [] },
        { spec: { proto: 'tcp', vip: ip('10.0.0.2'), port: 80, scheduler: 'rr' }, conns: 0, inPkts: 0, inBytes: 0, reals: [] },
        { spec: { proto: 'tcp', vip: ip('10.0.0.1'), port: 443, scheduler: 'rr' }, conns: 0, inPkts: 0, inBytes: 0, reals: [] },
        { spec: { proto: 'tcp', vip: ip('10.0.0.1'), port: 80, scheduler: 'rr' }, conns: 0, inPkts: 0, inBytes: 0, reals: [] },
      ],
    };
    expect(formatList(snap, { numeric: true }).split('\n').slice(3, 7)).toEqual([
      'TCP  10.0.0.1:80 rr', 'TCP  10.0.0.1:443 rr', 'TCP  10.0.0.2:80 rr', 'UDP  10.0.0.1:53 rr',
    ]);
  });
});

describe('expire column', () => {
  it('minutes:seconds of whole seconds, truncated', () => {
    expect(expireText(0)).toBe('00:00');
    expect(expireText(999)).toBe('00:00');
    expect(expireText(116_900)).toBe('01:56');
    expect(expireText(900_000)).toBe('15:00');
    expect(expireText(6_000_000)).toBe('100:00');
  });
});
