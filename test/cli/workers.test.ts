/** `dsrlb run --workers N`: the argument, and the fan-out group id. */
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/run.ts';
import { fanoutGroupId, parseWorkers, workerPacketPath } from '../../src/cli/packet-path.ts';
import type { StartPacketPath } from '../../src/ports/index.ts';

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

describe('workerPacketPath with N workers (fake workers)', () => {
  const start = { iface: 'eth0', services: [], bufferSize: 1 << 20, init: { arpSenderIp: 7 }, io: { backend: 'ring' as const } };
  const fake = (fail?: number) => {
    const seen: Array<{ init: unknown; io: unknown }> = [];
    const stopped: number[] = [];
    const startOne: StartPacketPath = async (o) => {
      const index = (o.init as { worker: { index: number } }).worker.index;
      seen.push({ init: o.init, io: o.io });
      if (index === fail) throw new Error(`worker ${index} cannot open its ring`);
      return { pid: 100 + index, post: () => true, onMessage: () => {}, onExit: () => {}, stop: async () => void stopped.push(index) };
    };
    return { seen, stopped, startOne };
  };

  it('starts N workers with their place and the PID-derived fan-out group, as one packet path', async () => {
    const f = fake();
    const p = await workerPacketPath({ workers: 3, startOne: f.startOne })(start);
    expect(f.seen.map((s) => s.init)).toEqual([0, 1, 2].map((index) => ({ arpSenderIp: 7, worker: { index, count: 3 } })));
    for (const s of f.seen) expect(s.io).toEqual({ backend: 'ring', fanout: { group: process.pid & 0xffff, mode: 'hash' } });
    expect(p.pid).toBe(100);
    await p.stop();
    expect(f.stopped.sort()).toEqual([0, 1, 2]);
  });

  it('one worker that cannot start: the others are stopped and its error is thrown', async () => {
    const f = fake(1);
    await expect(workerPacketPath({ workers: 3, startOne: f.startOne })(start)).rejects.toThrow('worker 1 cannot open its ring');
    expect(f.stopped.sort()).toEqual([0, 2]);
  });

  it('refuses the pcap backend for N > 1; one worker gets the settings untouched', async () => {
    const f = fake();
    await expect(workerPacketPath({ workers: 2, startOne: f.startOne })({ ...start, io: { backend: 'pcap' } })).rejects.toMatchObject({ code: 'E_USAGE' });
    const g = fake();
    const one: StartPacketPath = async (o) => {
      g.seen.push({ init: o.init, io: o.io });
      return { pid: 1, post: () => true, onMessage: () => {}, onExit: () => {}, stop: async () => {} };
    };
    await workerPacketPath({ workers: 1, startOne: one })(start);
    expect(g.seen).toEqual([{ init: { arpSenderIp: 7 }, io: { backend: 'ring' } }]);
  });
});
