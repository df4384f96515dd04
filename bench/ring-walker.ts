/**
 * The packet ring's JavaScript cost per frame, on a synthetic mapping (no root, no addon): the RX
 * walker (status check, header checks, the cached view, the handler call, the slot's release) and
 * the TX writer (bounds checks, the copy of a 60-byte frame, the slot header). What the kernel
 * spends (the copy into the ring, send()) is not in these figures: see native-notes/ring.md.
 */
import { createRxWalker, TP_STATUS_USER, TxWriter } from '../src/io/ring-walker.ts';

export interface RingWalkerBench {
  slots: number;
  /** RX: ns per frame walked and released (the re-arming of the synthetic slots subtracted). */
  rx_ns_per_frame: number;
  /** TX: ns per 60-byte frame written into a slot (the synthetic completion subtracted). */
  tx_ns_per_frame: number;
}

export function benchRingWalker(o: { seconds?: number } = {}): RingWalkerBench {
  const seconds = o.seconds ?? 1;
  const frameSize = 2048;
  const blockSize = 1 << 16;
  const blockNr = 64; // 2048 slots
  const slots = (blockSize / frameSize) * blockNr;
  const buf = new ArrayBuffer(blockSize * blockNr);
  const dv = new DataView(buf);
  const u32 = new Int32Array(buf);
  const frame = Buffer.alloc(60, 0x11);
  for (let i = 0; i < slots; i++) {
    const off = i * frameSize;
    new Uint8Array(buf).set(frame, off + 66);
    dv.setUint32(off + 4, 60, true);
    dv.setUint32(off + 8, 60, true);
    dv.setUint16(off + 12, 66, true);
  }
  const arm = (): void => {
    for (let i = 0; i < slots; i++) u32[(i * frameSize) >>> 2] = TP_STATUS_USER;
  };
  const time = (fn: () => void): number => {
    // Rounds of `slots` frames until `seconds` have passed; ns per frame.
    const t0 = process.hrtime.bigint();
    let rounds = 0;
    const until = t0 + BigInt(Math.round(seconds * 1e9));
    let now = t0;
    while (now < until) {
      for (let k = 0; k < 16; k++) fn();
      rounds += 16;
      now = process.hrtime.bigint();
    }
    return Number(now - t0) / (rounds * slots);
  };
  const w = createRxWalker(buf, { version: 2, blockSize, blockNr, frameSize });
  let sink = 0;
  const handler = (f: Buffer, len: number): void => {
    sink += f[len - 1]!;
  };
  const armOnly = time(arm);
  const walkAndArm = time(() => {
    arm();
    w.walk(slots, handler);
  });
  const tbuf = new ArrayBuffer(blockSize * 2);
  const tu32 = new Int32Array(tbuf);
  const tx = new TxWriter(tbuf, { blockSize, blockNr: 2, frameSize });
  const complete = (): void => {
    for (let i = 0; i < tx.frameNr; i++) tu32[(i * frameSize) >>> 2] = 0;
    tx.pending = 0;
  };
  const tslots = tx.frameNr;
  const completeOnly = time(complete) * (slots / tslots);
  const writeAndComplete = time(() => {
    for (let i = 0; i < tslots; i++) tx.write(frame, 60);
    complete();
  }) * (slots / tslots);
  if (sink === -1) console.log(sink); // keeps the handler's read alive
  return {
    slots,
    rx_ns_per_frame: Math.round((walkAndArm - armOnly) * 10) / 10,
    tx_ns_per_frame: Math.round((writeAndComplete - completeOnly) * 10) / 10,
  };
}
