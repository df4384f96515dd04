/** `dsrlb run --workers N`: the argument, and the fan-out group id. */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/run.ts';
import { fanoutGroupId, parseWorkers } from '../../src/cli/packet-path.ts';

const io = { out: () => {}, err: () => {} };

describe('--workers', () => {
  it('defaults to 1; 1 is accepted with any backend', () => {
    expect(parseWorkers(undefined, 'pcap')).toBe(1);
    expect(parseWorkers('1', 'pcap')).toBe(1);
    expect(parseWorkers('1', 'ring')).toBe(1);
    expect(parseWorkers('4', 'ring')).toBe(4);
  });

  it('more than one needs --io ring (libpcap cannot join a fan-out group): a usage error', () => {
    expect(() => parseWorkers('2', 'pcap')).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(/--workers 2 needs --io ring/) }));
    expect(() => parseWorkers('2', 'pcap')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('refuses what is not a count from 1 to 64', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '65', '']) expect(() => parseWorkers(bad, 'ring')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('dsrlb run checks it before touching anything', async () => {
    await expect(run(['--iface', 'nonexistent0', '--io', 'pcap', '--workers', '2'], io)).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('the fan-out group id is the control process PID on 16 bits', () => {
    expect(fanoutGroupId(0x12345)).toBe(0x2345);
    expect(fanoutGroupId(77)).toBe(77);
  });
});
