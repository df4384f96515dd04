/** dsrlb run's log about its frame I/O: ring drops reported (rate-limited, with their count), totals at stop. */
import { describe, expect, it } from 'vitest';
import { DropWatch, ioSummary } from '../../src/cli/io-status.ts';

const io = (kernelPackets: number, kernelDrops: number) => ({ backend: 'ring' as const, workers: 1, received: kernelPackets - kernelDrops, sent: 0, sendErrors: 0, kernelPackets, kernelDrops });

describe('DropWatch', () => {
  it('says nothing while the kernel drops nothing, then reports the drops and their share, at most once per period', () => {
    const w = new DropWatch(10_000);
    expect(w.update(io(1000, 0), 0)).toBeNull();
    expect(w.update(io(3000, 100), 2000)).toEqual({ drops: 100, totalDrops: 100, kernelPackets: 3000, share: 100 / 3000 });
    // More drops within the period: held back, then reported together.
    expect(w.update(io(4000, 150), 4000)).toBeNull();
    expect(w.update(io(5000, 170), 8000)).toBeNull();
    expect(w.update(io(6000, 170), 12_000)).toEqual({ drops: 70, totalDrops: 170, kernelPackets: 6000, share: 70 / 3000 });
    expect(w.update(io(9000, 170), 30_000)).toBeNull();
  });

  it('the libpcap backend has no kernel counters: never a notice', () => {
    const w = new DropWatch(0);
    expect(w.update({ backend: 'pcap', received: 10, sent: 5, sendErrors: 0 }, 0)).toBeNull();
  });
});

it('ioSummary gives the totals, the kernel counters only where the backend has them', () => {
  expect(ioSummary(io(500, 20))).toEqual({ backend: 'ring', workers: 1, received: 480, sent: 0, sendErrors: 0, kernelPackets: 500, kernelDrops: 20 });
  expect(ioSummary({ received: 3, sent: 2, sendErrors: 1 })).toEqual({ backend: 'pcap', workers: 1, received: 3, sent: 2, sendErrors: 1 });
});
