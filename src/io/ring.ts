/**
 * The packet-ring adapter behind the FrameIO port: dsrlb's own native addon (src/native/ring/), an
 * AF_PACKET socket with a memory-mapped RX ring and TX ring. This file and cap.ts are the only ones
 * that load native code, lazily, on the first openRing(): importing it costs nothing.
 *
 * Division of work (see native-notes/ring.md):
 * - the addon: open (filter, ring, bind, fan-out), one JS call per readiness of the socket (libuv
 *   poll), flush() = one send() for every TX slot written, PACKET_STATISTICS, close;
 * - here (ring-walker.ts): walking the ready slots, handing each frame to the handler as a view of
 *   the ring (no copy), releasing the slots, writing TX slots (bounds checked before every write);
 *   ring-plan.ts sizes the rings against the kernel's rules and names the kernel's refusals.
 *
 * Batching: the frames of one wake-up form a batch; sends made by the handler inside a batch are
 * written to the TX ring and go out with ONE send() at the end of the batch; a send outside a batch
 * (timers: ARP, gratuitous ARP) goes out at once. Busy polling (`busyPollUs`): after a batch the
 * wake-up callback keeps checking the next slot for up to that many µs (the deadline restarts with
 * every frame found) before returning to the event loop; 0 (the default) returns at once.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { DsrlbError } from '../errors/index.ts';
import { Histogram } from '../obs/index.ts';
import type { FrameCallback, FrameIO, FrameIOStats } from '../ports/index.ts';
import { assertIfaceName, readIfaceMac } from './cap.ts';
import { badRingOption, planRing, ringOpenError, type RingGeometryPlan, type RingOptions } from './ring-plan.ts';
import { createRxWalker, MIN_TX_FRAME, TX_FULL, TX_OK, TX_TOO_BIG, TxWriter, type RxWalker } from './ring-walker.ts';

export { planRing, ringOpenError, type RingGeometryPlan, type RingOptions } from './ring-plan.ts';

/** The addon's class (src/native/ring/ring.cc). */
interface NativeRing {
  readonly rx: ArrayBuffer;
  readonly tx: ArrayBuffer;
  readonly ctl: ArrayBuffer;
  start(cb: (status: number) => void): void;
  stop(): void;
  flush(): number;
  stats(): [number, number, number];
  check(): 0 | { errno: number; code: string; message: string; gone: boolean };
  close(): boolean;
}
interface RingModule {
  Ring: new (opts: Record<string, unknown>) => NativeRing;
}

export const RING_ADDON = new URL('../native/ring/build/Release/dsrlb_ring.node', import.meta.url);
let ringModule: RingModule | null = null;

/** Loads the addon once (`path` is for tests). Throws DsrlbError E_RING_LOAD with the fix. */
export function loadRing(path: string | URL = RING_ADDON): RingModule {
  if (ringModule && path === RING_ADDON) return ringModule;
  let mod: RingModule;
  try {
    mod = createRequire(import.meta.url)(path instanceof URL ? path.pathname : path) as RingModule;
  } catch (e) {
    throw new DsrlbError(
      'E_RING_LOAD',
      `cannot load the packet-ring addon (${path instanceof URL ? path.pathname : path}): ${e instanceof Error ? e.message : String(e)}. ` +
        'Fix: build it with `npm run build:native` (needs g++, make, python3 and libpcap-dev: `npm run setup` installs them), or run with --io pcap.',
      { cause: e },
    );
  }
  if (path === RING_ADDON) ringModule = mod;
  return mod;
}

/** True when the addon loads (the default backend is then the ring). */
export function ringAvailable(): boolean {
  try {
    loadRing();
    return true;
  } catch {
    return false;
  }
}

export interface Ring extends FrameIO {
  readonly backend: 'ring';
  readonly geometry: RingGeometryPlan;
  readonly prime: 'not-needed';
  readonly effectiveFilter: string;
  /** Sends every TX slot written since the last flush (one system call). No-op when none. */
  flush(): void;
  /** Called once if the ring fails while open (the interface went away): the ring is then closed. */
  onError(cb: (e: DsrlbError) => void): void;
  /** Runs fn as a batch: its sends queue in the TX ring and leave with one system call when it returns. */
  batch(fn: () => void): void;
  /** Walks the ready slots now (as a wake-up does); returns the frames walked. E_RING_CLOSED after close. */
  poll(): number;
  /** send() that throws instead of returning false: E_RING_CLOSED, E_RING_FRAME_SIZE, E_RING_TX_FULL. */
  write(frame: Uint8Array, len?: number): void;
  /** Stops / restarts reading (frames wait in the kernel's ring; when it is full they are dropped and counted). */
  pause(): void;
  resume(): void;
}

/** Opens the ring on `iface`. Reading starts with the first onFrame(); frames wait in the kernel's ring until then. */
export async function openRing(opts: RingOptions): Promise<Ring> {
  const { iface } = opts;
  assertIfaceName(iface);
  const busyPollUs = opts.busyPollUs ?? 0;
  if (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 1_000_000) badRingOption(`busy poll must be 0 … 1000000 µs (got ${busyPollUs})`);
  const maxBatch = opts.maxBatch ?? 1024;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) badRingOption(`max batch must be a positive integer (got ${maxBatch})`);
  if (opts.fanout && (!Number.isInteger(opts.fanout.group) || opts.fanout.group < 0 || opts.fanout.group > 0xffff || opts.fanout.mode !== 'hash')) {
    badRingOption(`fan-out needs a group id 0 … 65535 and mode 'hash' (got ${JSON.stringify(opts.fanout)})`);
  }
  const geo = planRing(opts);
  const mac = readIfaceMac(iface);
  const mod = loadRing();
  let nat: NativeRing;
  try {
    nat = new mod.Ring({
      iface, filter: opts.filter, version: geo.rx.version,
      rxBlockSize: geo.rx.blockSize, rxBlockNr: geo.rx.blockNr, rxFrameSize: geo.rx.frameSize,
      txBlockSize: geo.tx.blockSize, txBlockNr: geo.tx.blockNr, txFrameSize: geo.tx.frameSize,
      blockTimeoutMs: opts.blockTimeoutMs ?? 1, qdiscBypass: opts.qdiscBypass === true,
      fanoutGroup: opts.fanout ? opts.fanout.group : -1,
    });
  } catch (e) {
    throw ringOpenError(e, iface, opts);
  }
  return wrap(nat, geo, { ...opts, busyPollUs, maxBatch }, mac);
}

function wrap(nat: NativeRing, geo: RingGeometryPlan, opts: RingOptions & { busyPollUs: number; maxBatch: number }, mac: Uint8Array): Ring {
  const walker: RxWalker = createRxWalker(nat.rx, geo.rx);
  const tx = new TxWriter(nat.tx, geo.tx);
  const ctl = new Float64Array(nat.ctl);
  const residence = new Histogram();
  const st = { received: 0, sent: 0, sendErrors: 0, tooBig: 0, txFull: 0, ifaceDown: 0, resends: 0 };
  let kPackets = 0;
  let kDrops = 0;
  let closed = false;
  let started = false;
  let paused = false;
  let cb: FrameCallback | null = null;
  let errCb: ((e: DsrlbError) => void) | null = null;
  // Receive time of the frame being handled (-1: not inside a batch) and of each pending TX slot.
  let inBatch = false;
  let curSec = -1;
  let curNsec = 0;
  const pendSec = new Float64Array(tx.frameNr);
  const pendNsec = new Float64Array(tx.frameNr);
  const { busyPollUs, maxBatch } = opts;

  const deliver = (frame: Buffer, len: number, sec: number, nsec: number): void => {
    st.received++;
    curSec = sec;
    curNsec = nsec;
    cb!(frame, len);
  };

  // A send() can stop before the last slot when the socket's send buffer is full of frames still in
  // flight; what is left goes out with a later send(), tried from the event loop until none is left.
  let retrying = false;
  const retryUnsent = (): void => {
    if (retrying) return;
    retrying = true;
    setImmediate(() => {
      retrying = false;
      if (closed || !tx.unsent()) return;
      st.resends++;
      nat.flush();
      if (tx.unsent()) retryUnsent();
    });
  };

  const flush = (): void => {
    const n = tx.pending;
    if (n === 0 || closed) return;
    tx.pending = 0;
    const r = nat.flush();
    if (r < 0) {
      st.sendErrors += n;
      return;
    }
    st.sent += n;
    if (tx.unsent()) retryUnsent();
    const nowSec = ctl[0]!;
    const nowNsec = ctl[1]!;
    for (let i = 0; i < n; i++) {
      if (pendSec[i]! >= 0) residence.observe(nowSec - pendSec[i]! + (nowNsec - pendNsec[i]!) / 1e9);
    }
  };

  const drain = (): number => {
    inBatch = true;
    let n = 0;
    try {
      n = walker.walk(maxBatch, deliver);
    } finally {
      inBatch = false;
      curSec = -1;
    }
    flush();
    return n;
  };

  const closedError = (what: string) =>
    new DsrlbError('E_RING_CLOSED', `${what} on a closed packet ring (${opts.iface}). Fix: open a new ring; never use one after close()`);

  const fail = (why: { code: string; message: string }): void => {
    if (closed) return;
    const e = new DsrlbError('E_RING_IFACE_GONE', `the packet ring on ${opts.iface} failed: ${why.message} (${why.code}); the interface went away or down. Fix: check "ip link"; restart dsrlb once the interface is back`);
    io.close();
    errCb?.(e);
  };

  const onReady = (status: number): void => {
    if (closed || cb === null) return;
    let n = drain();
    if (busyPollUs > 0) {
      let deadline = performance.now() + busyPollUs / 1000;
      while (!closed && !paused) {
        if (walker.ready()) {
          n += drain();
          deadline = performance.now() + busyPollUs / 1000;
        } else if (performance.now() >= deadline) break;
      }
    }
    if ((n === 0 || status < 0) && !closed) {
      // A wake-up with nothing to read: the socket may carry an error. ENETDOWN with the interface
      // still there: it went down; the kernel hooks the socket in again when it comes back up, so
      // keep going (libuv stops a poll on an error: start it again). The interface gone: fail.
      const c = nat.check();
      if (c !== 0 && c.gone) fail(c);
      else if (c !== 0 || status < 0) {
        st.ifaceDown++;
        if (!paused) nat.start(onReady);
      }
    }
  };

  const io: Ring = {
    backend: 'ring',
    iface: opts.iface,
    mac,
    geometry: geo,
    prime: 'not-needed',
    effectiveFilter: opts.filter,
    get closed() {
      return closed;
    },
    onFrame(fn: FrameCallback): void {
      cb = fn;
      if (!started && !closed) {
        started = true;
        nat.start(onReady);
        // Frames that arrived before the callback was set are waiting in the ring: take them now.
        setImmediate(() => {
          if (!closed && !paused && cb !== null) onReady(0);
        });
      }
    },
    send(frame: Uint8Array, len?: number): boolean {
      if (closed) {
        st.sendErrors++;
        return false;
      }
      const l = len ?? frame.length;
      let r = tx.write(frame, l);
      if (r === TX_FULL && tx.pending > 0) {
        flush();
        r = tx.write(frame, l);
      }
      if (r !== TX_OK) {
        st.sendErrors++;
        if (r === TX_TOO_BIG) st.tooBig++;
        else if (r === TX_FULL) st.txFull++;
        return false;
      }
      const k = tx.pending - 1;
      pendSec[k] = inBatch ? curSec : -1;
      pendNsec[k] = curNsec;
      if (!inBatch) flush();
      return true;
    },
    flush,
    batch(fn: () => void): void {
      if (inBatch) return fn();
      inBatch = true;
      try {
        fn();
      } finally {
        inBatch = false;
        flush();
      }
    },
    poll(): number {
      if (closed) throw closedError('poll');
      if (cb === null) throw new DsrlbError('E_RING_NO_HANDLER', 'poll() before onFrame(): set the frame callback first');
      return drain();
    },
    write(frame: Uint8Array, len?: number): void {
      if (closed) throw closedError('write');
      const l = len ?? frame.length;
      if (!(l >= MIN_TX_FRAME && l <= tx.maxFrame && l <= frame.length)) {
        st.sendErrors++;
        st.tooBig++;
        throw new DsrlbError('E_RING_FRAME_SIZE', `a ${l}-byte frame does not fit a TX slot (${MIN_TX_FRAME} … ${tx.maxFrame} bytes, and at most the buffer's ${frame.length}). Fix: a larger --ring-frame-size, or keep frames within the MTU (turn GRO/TSO off: --fix-offloads)`);
      }
      if (!io.send(frame, l)) {
        if (closed) throw closedError('write');
        throw new DsrlbError('E_RING_TX_FULL', `the TX ring is full (${tx.frameNr} slots in flight). Fix: a larger TX ring (txFrames), or send less per batch`);
      }
    },
    onError(fn) {
      errCb = fn;
    },
    pause(): void {
      if (closed || paused) return;
      paused = true;
      if (started) nat.stop();
    },
    resume(): void {
      if (closed || !paused) return;
      paused = false;
      if (started) {
        nat.start(onReady);
        setImmediate(() => {
          if (!closed && !paused) onReady(0);
        });
      }
    },
    close(): void {
      if (closed) return;
      try {
        const [p, d] = nat.stats();
        kPackets += p;
        kDrops += d;
      } catch {
        /* the socket is already failing: keep what was counted */
      }
      closed = true;
      cb = null;
      nat.close();
    },
    stats(): FrameIOStats {
      if (!closed) {
        const [p, d] = nat.stats();
        kPackets += p;
        kDrops += d;
      }
      const w = walker.counters;
      return {
        received: st.received,
        sent: st.sent,
        sendErrors: st.sendErrors,
        truncated: w.truncated,
        unhandled: 0,
        kernelPackets: kPackets,
        kernelDrops: kDrops,
        badSlots: w.bad,
        oversize: st.tooBig,
        ifaceDown: st.ifaceDown,
        txFull: st.txFull,
        residence: residence.snapshot(),
      };
    },
  };
  return io;
}
