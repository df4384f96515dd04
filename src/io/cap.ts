/**
 * The libpcap adapter (npm `cap` 0.2.1) behind the FrameIO port. This is the ONLY file that loads
 * the native binding, lazily, on the first openCapture(): importing it costs nothing and unit tests
 * run without libpcap.
 *
 * What the binding does and how this adapter copes (each point verified, see native-notes/):
 * - Every captured frame is copied into ONE Buffer given at open and emitted synchronously; the
 *   callback must finish with it before returning. Frames larger than that buffer arrive truncated:
 *   they are counted and dropped, never passed on.
 * - `send` on a closed handle dereferences a null pcap_t inside the binding (a crash, not an
 *   exception), so every send is guarded by our own `closed` flag.
 * - The binding registers its poll on the process's DEFAULT libuv loop, so it cannot run inside a
 *   worker_thread (the packet callback then runs on the main thread's loop and V8 aborts). The
 *   packet path therefore runs in a child process: see worker-host.ts.
 * - libpcap filters the first frame read after a kernel filter is attached in userland, and a
 *   userland BPF cannot evaluate `inbound`/`outbound` (a Linux ancillary load): that first frame is
 *   rejected. openCapture() primes the ring with one probe frame sent through a second, short-lived
 *   handle, so the first real frame is delivered.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DsrlbError } from '../errors/index.ts';
import { macToString, parseMac } from '../model/index.ts';
import type { FrameCallback, FrameIO, FrameIOStats } from '../ports/index.ts';

/** The part of cap's native class this adapter uses. */
interface NativeCap {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Uint8Array, nbytes?: number): void;
  close(): boolean;
  on(event: 'packet', cb: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
interface CapModule {
  Cap: new () => NativeCap;
}

let capModule: CapModule | null = null;

/** The error for a binding that does not load, with the fix. */
export function capLoadError(e: unknown): DsrlbError {
  const why = e instanceof Error ? e.message : String(e);
  return new DsrlbError(
    'E_CAP_LOAD',
    `cannot load the libpcap binding (npm package "cap"): ${why}. ` +
      'Fix: install libpcap and a compiler (apt-get install libpcap-dev build-essential python3), ' +
      'then rebuild it (npm rebuild cap).',
    { cause: e },
  );
}

/** Loads the binding once (`spec` is for tests). Throws DsrlbError E_CAP_LOAD with the fix when it cannot. */
export function loadCap(spec = 'cap'): CapModule {
  if (capModule && spec === 'cap') return capModule;
  let mod: CapModule;
  try {
    mod = createRequire(import.meta.url)(spec) as CapModule;
  } catch (e) {
    throw capLoadError(e);
  }
  if (spec === 'cap') capModule = mod;
  return mod;
}

const IFNAME_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function assertIfaceName(iface: string): void {
  if (!IFNAME_RE.test(iface) || iface === '.' || iface === '..') {
    throw new DsrlbError('E_IFACE_NAME', `invalid interface name ${JSON.stringify(iface)}`);
  }
}

/** The interface's MAC from sysfs (of the network namespace this process sees). */
export function readIfaceMac(iface: string, sysfs = '/sys/class/net'): Uint8Array {
  assertIfaceName(iface);
  let text: string;
  try {
    text = readFileSync(`${sysfs}/${iface}/address`, 'utf8').trim();
  } catch {
    throw new DsrlbError('E_IFACE_MISSING', `interface ${iface} does not exist (no ${sysfs}/${iface}); check the name with "ip link"`);
  }
  const mac = parseMac(text);
  if (!mac) throw new DsrlbError('E_IFACE_MAC', `interface ${iface} has no Ethernet address (${JSON.stringify(text)})`);
  return mac;
}

export interface CaptureOptions {
  iface: string;
  /** pcap-filter expression ('' captures everything). See bpf.ts. */
  filter: string;
  /** Size of the kernel ring in bytes (libpcap's buffer size). */
  bufferSize: number;
  /** Receive buffer size in bytes: frames longer than this are dropped and counted. Default 65536. */
  snaplen?: number;
  /** Prime the ring so the first real frame is not lost (default true; only done with a filter). */
  prime?: boolean;
  /** How long to wait for the priming probe to come back. Default 1000 ms. */
  primeTimeoutMs?: number;
}

export type PrimeResult = 'primed' | 'not-needed' | 'disabled' | 'timeout';

export interface Capture extends FrameIO {
  readonly backend: 'pcap';
  /** The link type cap reported ('ETHERNET'). */
  readonly linkType: string;
  /** What priming found: 'timeout' means the probe was not seen and the first frame may be lost. */
  readonly prime: PrimeResult;
  /** The filter actually compiled (the caller's, with the probe clause in front when primed). */
  readonly effectiveFilter: string;
}

/** EtherType used by the priming probe (IEEE 802 local experimental 1). */
export const PROBE_ETHERTYPE = 0x88b5;
/** "dsrb": marks our probe so a stray experimental frame is never taken for it. */
export const PROBE_MAGIC = 0x64737262;
const PROBE_LEN = 60;
/** Frames kept for a callback that is not set yet (copied). */
const EARLY_QUEUE_MAX = 256;

/**
 * The probe clause: a frame from us to us with our magic and this handle's nonce (so the probe of
 * another capture on the same interface never matches). Evaluable by libpcap's userland BPF.
 */
export function probeClause(mac: Uint8Array, nonce: number): string {
  const m = macToString(mac);
  return (
    `(ether proto 0x${PROBE_ETHERTYPE.toString(16)} and ether src ${m} and ether dst ${m}` +
    ` and ether[14:4] = 0x${PROBE_MAGIC.toString(16)} and ether[18:4] = 0x${(nonce >>> 0).toString(16)})`
  );
}

export function buildProbeFrame(mac: Uint8Array, nonce: number): Buffer {
  const f = Buffer.alloc(PROBE_LEN);
  f.set(mac, 0);
  f.set(mac, 6);
  f.writeUInt16BE(PROBE_ETHERTYPE, 12);
  f.writeUInt32BE(PROBE_MAGIC, 14);
  f.writeUInt32BE(nonce >>> 0, 18);
  return f;
}

function isProbe(b: Buffer, len: number, mac: Uint8Array, nonce: number): boolean {
  if (len < 22 || b[12] !== 0x88 || b[13] !== 0xb5 || b.readUInt32BE(14) !== PROBE_MAGIC || b.readUInt32BE(18) !== nonce) return false;
  for (let i = 0; i < 6; i++) if (b[6 + i] !== mac[i]) return false;
  return true;
}

/**
 * Every native handle ever created, kept reachable for the life of the process. The binding never
 * uv_close()s its poll handle: close() only stops it, and when the object is garbage-collected its
 * memory is freed while still linked into libuv's handle queue, so the next handle added or removed
 * corrupts the heap (verified: a forced gc() after one open/close, then a few UDP sockets opened and
 * closed, and the process hung; under a flood the worker died of SIGSEGV). A handle is a few hundred
 * bytes and a director opens a handful: keeping them all is the cheap, safe side.
 */
const retained: NativeCap[] = [];

function openNative(mod: CapModule, iface: string, filter: string, bufferSize: number, buf: Buffer, shownFilter = filter): { cap: NativeCap; linkType: string } {
  const cap = new mod.Cap();
  retained.push(cap);
  let linkType: string;
  try {
    linkType = cap.open(iface, filter, bufferSize, buf);
  } catch (e) {
    // Do NOT close it: when open() fails after pcap_activate (a bad filter, say), the binding still
    // holds the pcap_t but never set up its poll handle, and close() stops that uninitialised handle:
    // a segfault (verified). It stays in `retained`, so its destructor never runs either.
    const why = e instanceof Error ? e.message : String(e);
    const perm = /permission|not permitted|EPERM|socket: Operation/i.test(why);
    throw new DsrlbError(
      perm ? 'E_CAP_PERM' : 'E_CAP_OPEN',
      `cannot open capture on ${iface}: ${why}` +
        (perm ? ' (needs CAP_NET_RAW: run as root or give the node binary cap_net_raw)' : shownFilter ? ` (filter: ${shownFilter})` : ''),
      { cause: e },
    );
  }
  return { cap, linkType };
}

/**
 * Opens a capture on `iface`: frames matching `filter` are delivered to the FrameIO callback, and
 * frames can be sent on the same interface. Resolves after priming (normally a few ms).
 */
export async function openCapture(opts: CaptureOptions): Promise<Capture> {
  const { iface, filter, bufferSize } = opts;
  const snaplen = opts.snaplen ?? 65536;
  if (!Number.isInteger(bufferSize) || bufferSize < 65536 || bufferSize > 0x7fffffff) {
    throw new DsrlbError('E_CAP_OPTIONS', `bufferSize must be an integer from 65536 to 2^31-1 bytes (got ${bufferSize})`);
  }
  if (!Number.isInteger(snaplen) || snaplen < 64 || snaplen > 262144) {
    throw new DsrlbError('E_CAP_OPTIONS', `snaplen must be an integer from 64 to 262144 (got ${snaplen})`);
  }
  const mac = readIfaceMac(iface);
  const mod = loadCap();
  const wantPrime = (opts.prime ?? true) && filter.trim() !== '';
  const nonce = randomInt(1, 0xffffffff);
  const effectiveFilter = wantPrime ? `${probeClause(mac, nonce)} or (${filter})` : filter;

  const buf = Buffer.alloc(snaplen);
  const { cap, linkType } = openNative(mod, iface, effectiveFilter, bufferSize, buf, filter);
  if (linkType !== 'ETHERNET') {
    cap.close();
    throw new DsrlbError('E_CAP_LINKTYPE', `${iface} is not an Ethernet interface (link type ${linkType})`);
  }

  const st: FrameIOStats = { received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 };
  let closed = false;
  let cb: FrameCallback | null = null;
  let early: Buffer[] | null = [];
  let primed = !wantPrime;
  let onPrimed: (() => void) | null = null;

  cap.on('packet', (nbytes: number, truncated: boolean) => {
    if (truncated) {
      st.truncated++;
      return;
    }
    if (!primed && isProbe(buf, nbytes, mac, nonce)) {
      primed = true;
      if (onPrimed) onPrimed();
      return;
    }
    if (cb !== null) {
      st.received++;
      cb(buf, nbytes);
    } else if (early !== null && early.length < EARLY_QUEUE_MAX) {
      st.received++;
      early.push(Buffer.from(buf.subarray(0, nbytes)));
    } else {
      st.unhandled++;
    }
  });

  let prime: PrimeResult = wantPrime ? 'timeout' : opts.prime === false ? 'disabled' : 'not-needed';
  if (wantPrime) {
    const seen = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        onPrimed = null;
        resolve(false);
      }, opts.primeTimeoutMs ?? 1000);
      onPrimed = () => {
        clearTimeout(timer);
        onPrimed = null;
        resolve(true);
      };
    });
    // The probe must come from another socket: the kernel never loops a socket's own frames back.
    let sender: NativeCap | null = null;
    try {
      sender = openNative(mod, iface, 'less 1', 65536, Buffer.alloc(64)).cap;
      sender.send(buildProbeFrame(mac, nonce), PROBE_LEN);
    } catch {
      /* priming is best effort: report 'timeout' below */
    } finally {
      if (sender) sender.close();
    }
    if (await seen) prime = 'primed';
    primed = true;
  }

  const io: Capture = {
    backend: 'pcap',
    iface,
    mac,
    linkType,
    effectiveFilter,
    get prime() {
      return prime;
    },
    get closed() {
      return closed;
    },
    onFrame(fn: FrameCallback): void {
      cb = fn;
      const q = early;
      early = null;
      if (q) for (const f of q) if (!closed) fn(f, f.length);
    },
    send(frame: Uint8Array, len?: number): boolean {
      if (closed) {
        st.sendErrors++;
        return false;
      }
      try {
        if (len === undefined) cap.send(frame);
        else cap.send(frame, len);
        st.sent++;
        return true;
      } catch {
        st.sendErrors++;
        return false;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      cb = null;
      early = null;
      cap.close();
    },
    stats(): FrameIOStats {
      return { ...st };
    },
  };
  return io;
}
