/** Ring sizing against the kernel's rules, and the choice of backend (no root, no addon needed). */
import { describe, expect, it } from 'vitest';
import { parseIoOptions } from '../../src/cli/commands/run.ts';
import { defaultIoBackend } from '../../src/cli/packet-path.ts';
import { planRing, ringOpenError } from '../../src/io/ring.ts';

describe('planRing', () => {
  it('defaults: 2048-byte slots in 64 KiB blocks (V2), the buffer size in slots, a 4096-slot TX ring', () => {
    expect(planRing({ bufferSize: 32 << 20 })).toEqual({
      rx: { version: 2, blockSize: 65536, blockNr: 512, frameSize: 2048 },
      tx: { blockSize: 65536, blockNr: 128, frameSize: 2048 },
    });
    expect(planRing({ frames: 100 }).rx.blockNr).toBe(4); // rounded up to whole blocks
    expect(planRing({ version: 3, bufferSize: 8 << 20 }).rx).toEqual({ version: 3, blockSize: 131072, blockNr: 64, frameSize: 2048 });
  });

  it('refuses what the kernel would (E_RING_OPTIONS), before asking it', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'none';
    };
    expect(code(() => planRing({ frameSize: 2000 }))).toBe('E_RING_OPTIONS'); // not a multiple of 16
    expect(code(() => planRing({ blockSize: 10000 }))).toBe('E_RING_OPTIONS'); // not page aligned
    expect(code(() => planRing({ blockSize: 4096, frameSize: 3072 }))).toBe('E_RING_OPTIONS'); // frame does not divide the block
    expect(code(() => planRing({ frames: 8 }))).toBe('E_RING_OPTIONS'); // less than a block
    expect(code(() => planRing({ version: 3, frames: 64 }))).toBe('E_RING_OPTIONS'); // V3 needs 4 blocks
    expect(code(() => planRing({ version: 4 as 2 }))).toBe('E_RING_OPTIONS');
    expect(code(() => planRing({ frames: 1 << 21, frameSize: 2048 }))).toBe('E_RING_OPTIONS'); // > 2 GiB
  });

  it('maps the kernel\'s refusals to typed errors', () => {
    expect(ringOpenError({ code: 'EPERM', step: 'socket' }, 'eth0').code).toBe('E_RING_PERM');
    expect(ringOpenError({ code: 'ENOMEM', step: 'PACKET_RX_RING' }, 'eth0').code).toBe('E_RING_SIZE');
    expect(ringOpenError({ code: 'EINVAL', step: 'PACKET_FANOUT' }, 'eth0', { fanout: { group: 7, mode: 'hash' } }).message).toMatch(/group 7/);
    expect(ringOpenError({ code: 'ENODEV', step: 'if_nametoindex' }, 'eth9').code).toBe('E_IFACE_MISSING');
    expect(ringOpenError({ code: 'EFILTER', step: 'pcap_compile' }, 'eth0').code).toBe('E_RING_FILTER');
    expect(ringOpenError({ code: 'EADDRINUSE', step: 'bind' }, 'eth0').code).toBe('E_RING_OPEN');
  });
});

describe('--io and the default backend', () => {
  it('the ring when its addon loads, else pcap; DSRLB_IO overrides', () => {
    expect(defaultIoBackend({}, () => true)).toBe('ring');
    expect(defaultIoBackend({}, () => false)).toBe('pcap');
    expect(defaultIoBackend({ DSRLB_IO: 'pcap' }, () => true)).toBe('pcap');
    expect(defaultIoBackend({ DSRLB_IO: 'bogus' }, () => false)).toBe('pcap');
  });

  it('parses the ring options and refuses them with pcap', () => {
    expect(parseIoOptions({ io: 'ring', 'busy-poll-us': '50', 'ring-frames': '4096', 'ring-version': '3', 'qdisc-bypass': true }, () => true))
      .toEqual({ backend: 'ring', busyPollUs: 50, ringFrames: 4096, ringVersion: 3, qdiscBypass: true });
    expect(parseIoOptions({ io: 'pcap' }, () => true)).toEqual({ backend: 'pcap' });
    expect(() => parseIoOptions({ io: 'pcap', 'busy-poll-us': '10' }, () => true)).toThrow(/need --io ring/);
    expect(() => parseIoOptions({ io: 'ring', 'ring-version': '1' }, () => true)).toThrow(/--ring-version/);
    expect(() => parseIoOptions({ io: 'af_xdp' }, () => true)).toThrow(/expected ring or pcap/);
    expect(() => parseIoOptions({ io: 'ring' }, () => false)).toThrow(/build:native/);
  });
});
