/**
 * The paced UDP sender of the loss-free search: run INSIDE the client namespace by the benchmark
 * (`node --import tsx bench/lib/udp-sender.ts JSON`), it sends `count` frames on the interface
 * through libpcap (src/io's binding loader) at `rate` frames per second, smoothly: after each
 * wake-up it sends every frame due by then, then sleeps about 50 µs (Atomics.wait), so at 100k pps
 * the frames leave in groups of ~5-10, never in the per-second bursts of trafgen's own pacing.
 * Reaches ~150-200k frames/s on this machine; the measured rate (sent / sending time) is reported,
 * never the asked one. Bounded by count and by a deadline (3 × the planned time + 5 s).
 * Prints one JSON object: { sent, seconds, sendErrors }.
 */
import { pathToFileURL } from 'node:url';
import { loadCap } from '../../src/io/index.ts';
import { udpFrames, type UdpFramesSpec } from './frames.ts';

export interface SenderArgs {
  iface: string;
  frames: UdpFramesSpec;
  count: number;
  rate: number;
}

export interface SenderOutput {
  sent: number;
  seconds: number;
  sendErrors: number;
}

/** Frames due after `elapsedNs` at `rate`/s (the first one at 0), at most count. */
export function dueCount(elapsedNs: number, rate: number, count: number): number {
  return Math.min(count, Math.floor((elapsedNs * rate) / 1e9) + 1);
}

export function sendPaced(a: SenderArgs): SenderOutput {
  const { Cap } = loadCap();
  const cap = new Cap();
  // A filter nothing matches: this handle only sends.
  cap.open(a.iface, 'ether proto 0x88b6', 1 << 20, Buffer.alloc(2048));
  const frames = udpFrames(a.frames).map((f) => Buffer.from(f));
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let sent = 0;
  let sendErrors = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Number(t0) + ((a.count / a.rate) * 3 + 5) * 1e9;
  let last = t0;
  try {
    while (sent < a.count) {
      const now = process.hrtime.bigint();
      if (Number(now) > deadline) break;
      const due = dueCount(Number(now - t0), a.rate, a.count);
      while (sent < due) {
        const f = frames[sent % frames.length]!;
        try {
          cap.send(f, f.length);
        } catch {
          sendErrors++;
        }
        sent++;
      }
      last = process.hrtime.bigint();
      if (sent < a.count && dueCount(Number(last - t0), a.rate, a.count) <= sent) Atomics.wait(nap, 0, 0, 0.05);
    }
  } finally {
    cap.close();
  }
  // Sending time: to the last frame, plus one interval (the time that frame "occupies").
  const seconds = Number(last - t0) / 1e9 + 1 / a.rate;
  return { sent: sent - sendErrors, seconds, sendErrors };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = JSON.parse(process.argv[2] ?? '{}') as SenderArgs;
  if (!a.iface || !a.frames || !(a.count >= 1 && a.count <= 50_000_000) || !(a.rate >= 1 && a.rate <= 10_000_000)) {
    process.stderr.write('usage: udp-sender.ts \'{"iface":..,"frames":{..},"count":N,"rate":PPS}\'\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${JSON.stringify(sendPaced(a))}\n`);
  }
}
