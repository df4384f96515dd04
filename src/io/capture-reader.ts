/**
 * Streaming capture reader: classic pcap (both byte orders, µs and ns magics) and pcapng (section
 * header, interface description with if_tsresol/if_tsoffset/if_name, enhanced, simple and the
 * obsolete packet blocks, several interfaces and sections, both byte orders; unknown blocks are
 * skipped). It reads through one fixed buffer, so memory stays bounded whatever the file's size:
 * `next()` returns the SAME record object each time, its `data` a view into that buffer, valid until
 * the next call. Copy what you keep.
 *
 * A damaged file gives a DsrlbError naming the block or record and its byte offset, never a crash.
 * Why the project reads captures itself rather than through a parser package: docs/design/dependencies.md.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';

/** One frame of a capture. `data` is only valid until the reader's next `next()`. */
export interface CaptureRecord {
  /** Capture time in milliseconds since the epoch (fractional). */
  timeMs: number;
  data: Uint8Array;
  /** Length on the wire (may exceed data.length when cut at the snap length). */
  origLen: number;
  /** Interface index in the file (pcapng: the IDB's index in its section; pcap: 0). */
  iface: number;
  /** The link type of that interface (1 = Ethernet). */
  linkType: number;
}

export interface CaptureInterface {
  linkType: number;
  snaplen: number;
  /** if_name, when the file has one. */
  name?: string;
  /** Timestamp units per second (pcapng if_tsresol; 1e6 by default; pcap: 1e6 or 1e9). */
  unitsPerSecond: number;
  /** if_tsoffset, seconds. */
  offsetSeconds: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** Where the bytes come from: a file descriptor (streamed) or a buffer (tests, small inputs). */
export interface ByteSource {
  /** Fills `buf[off..off+len)`, returns the count read (0 at the end). */
  read(buf: Uint8Array, off: number, len: number): number;
  close(): void;
}

const MAX_RECORD = 262144;
const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;

export function fileSource(path: string): ByteSource {
  let fd: number;
  const stdin = path === '-';
  try {
    fd = stdin ? 0 : openSync(path, 'r');
  } catch (e) {
    throw new DsrlbError('E_PCAP_READ', `${path}: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`, { cause: e });
  }
  return {
    read(buf, off, len) {
      for (;;) {
        try {
          return readSync(fd, buf, off, len, null);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') continue; // a non-blocking stdin pipe: try again
          if (code === 'EOF') return 0;
          throw new DsrlbError('E_PCAP_READ', `${path}: ${code ?? ''} ${(e as Error).message}`, { cause: e });
        }
      }
    },
    close() {
      if (!stdin) closeSync(fd);
    },
  };
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  let pos = 0;
  return {
    read(buf, off, len) {
      const n = Math.min(len, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n), off);
      pos += n;
      return n;
    },
    close() {},
  };
}

export class CaptureReader {
  format: CaptureFormat | null = null;
  /** Interfaces of the current pcapng section (pcap: one). */
  interfaces: CaptureInterface[] = [];
  /** Interfaces of every section seen so far, in file order (explain names capture points after them). */
  readonly allInterfaces: CaptureInterface[] = [];
  /** Frames returned so far. */
  count = 0;
  /** pcapng blocks skipped because their type is not one this reader uses. */
  skippedBlocks = 0;

  private buf: Uint8Array;
  private dv: DataView;
  private start = 0; // first unread byte in buf
  private end = 0; // one past the last valid byte in buf
  private fileOff = 0; // file offset of buf[start]
  private eof = false;
  private le = true;
  private sectionBase = 0; // allInterfaces index of the current section's interface 0
  private readonly rec: CaptureRecord = { timeMs: 0, data: new Uint8Array(0), origLen: 0, iface: 0, linkType: 1 };

  constructor(private readonly src: ByteSource, readonly name = 'capture', bufferBytes = 1 << 20) {
    this.buf = new Uint8Array(Math.max(bufferBytes, MAX_RECORD + 64));
    this.dv = new DataView(this.buf.buffer);
    this.readHeader();
  }

  static open(path: string, bufferBytes?: number): CaptureReader {
    return new CaptureReader(fileSource(path), path, bufferBytes);
  }

  close(): void {
    this.src.close();
  }

  /** Makes at least `n` bytes available at `start`; false when the input ends first. */
  private need(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (n > this.buf.length) {
      const bigger = new Uint8Array(n + 64);
      bigger.set(this.buf.subarray(this.start, this.end));
      this.end -= this.start;
      this.start = 0;
      this.buf = bigger;
      this.dv = new DataView(bigger.buffer);
    } else if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (!this.eof && this.end - this.start < n) {
      const got = this.src.read(this.buf, this.end, this.buf.length - this.end);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.start >= n;
  }

  private u32(at: number): number {
    return this.dv.getUint32(this.start + at, this.le);
  }

  private u16(at: number): number {
    return this.dv.getUint16(this.start + at, this.le);
  }

  private fail(code: string, what: string): never {
    throw new DsrlbError(code, `${this.name}: ${what}`);
  }

  private consume(n: number): void {
    this.start += n;
    this.fileOff += n;
  }

  private readHeader(): void {
    if (!this.need(4)) this.fail('E_PCAP_FORMAT', `too short for a capture header (${this.end} bytes)`);
    const magic = this.dv.getUint32(this.start, true);
    if (magic === PCAPNG_SHB) {
      this.format = 'pcapng';
      return; // the section header is read as the first block
    }
    let nano: boolean;
    switch (magic) {
      case 0xa1b2c3d4: this.le = true; nano = false; break;
      case 0xd4c3b2a1: this.le = false; nano = false; break;
      case 0xa1b23c4d: this.le = true; nano = true; break;
      case 0x4d3cb2a1: this.le = false; nano = true; break;
      default: this.fail('E_PCAP_FORMAT', `not a pcap or pcapng file (magic 0x${magic.toString(16)})`);
    }
    if (!this.need(24)) this.fail('E_PCAP_FORMAT', `too short for a pcap header (${this.end - this.start} bytes)`);
    this.format = 'pcap';
    const iface: CaptureInterface = { linkType: this.u32(20) & 0x0fffffff, snaplen: this.u32(16), unitsPerSecond: nano ? 1e9 : 1e6, offsetSeconds: 0 };
    this.interfaces = [iface];
    this.allInterfaces.push(iface);
    this.consume(24);
  }

  /** The next frame, or null at the end of the input. */
  next(): CaptureRecord | null {
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  private nextPcap(): CaptureRecord | null {
    if (!this.need(1)) return null;
    const n = this.count + 1;
    if (!this.need(16)) this.fail('E_PCAP_TRUNCATED', `record ${n} at byte ${this.fileOff}: truncated record header`);
    const sec = this.u32(0);
    const frac = this.u32(4);
    const incl = this.u32(8);
    const orig = this.u32(12);
    if (incl > MAX_RECORD) this.fail('E_PCAP_FORMAT', `record ${n} at byte ${this.fileOff}: captured length ${incl} is implausible`);
    if (!this.need(16 + incl)) {
      this.fail('E_PCAP_TRUNCATED', `record ${n} at byte ${this.fileOff}: ${incl} bytes announced, ${this.end - this.start - 16} present`);
    }
    const r = this.rec;
    const ifc = this.interfaces[0]!;
    r.timeMs = sec * 1000 + (frac * 1000) / ifc.unitsPerSecond;
    r.data = this.buf.subarray(this.start + 16, this.start + 16 + incl);
    r.origLen = orig;
    r.iface = 0;
    r.linkType = ifc.linkType;
    this.consume(16 + incl);
    this.count++;
    return r;
  }

  private nextPcapng(): CaptureRecord | null {
    for (;;) {
      if (!this.need(1)) return null;
      const at = this.fileOff;
      if (!this.need(12)) this.fail('E_PCAP_TRUNCATED', `block at byte ${at}: truncated block header`);
      const type = this.dv.getUint32(this.start, this.le);
      if (type === PCAPNG_SHB) {
        // The section header's type reads the same in both byte orders; its byte-order magic decides.
        const bom = this.dv.getUint32(this.start + 8, true);
        if (bom === BOM) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else this.fail('E_PCAP_FORMAT', `section header at byte ${at}: bad byte-order magic 0x${bom.toString(16)}`);
      }
      const len = this.u32(4);
      if (len < 12 || len % 4 !== 0) this.fail('E_PCAP_FORMAT', `block at byte ${at} (type 0x${type.toString(16)}): bad block length ${len}`);
      if (len > 16 << 20 && (type === PCAPNG_SHB || type === 1)) this.fail('E_PCAP_FORMAT', `block at byte ${at} (type 0x${type.toString(16)}): length ${len} is implausible`);
      if (len > MAX_RECORD + 1024 && type !== PCAPNG_SHB && type !== 1) {
        // Packet blocks are bounded by the largest frame; others may be long but are skipped in pieces.
        if (type === 6 || type === 3 || type === 2) this.fail('E_PCAP_FORMAT', `block at byte ${at}: length ${len} is implausible for a packet`);
        this.skipBlock(len, at);
        continue;
      }
      if (!this.need(len)) this.fail('E_PCAP_TRUNCATED', `block at byte ${at} (type 0x${type.toString(16)}): ${len} bytes announced, ${this.end - this.start} present`);
      if (this.u32(len - 4) !== len) this.fail('E_PCAP_FORMAT', `block at byte ${at} (type 0x${type.toString(16)}): trailing length ${this.u32(len - 4)} differs from ${len}`);
      switch (type) {
        case PCAPNG_SHB:
          this.sectionBase = this.allInterfaces.length;
          this.interfaces = [];
          break;
        case 1:
          this.readIdb(len, at);
          break;
        case 6:
        case 2: {
          const r = this.readEpb(type, len, at);
          this.consume(len);
          this.count++;
          return r;
        }
        case 3: {
          const r = this.readSpb(len, at);
          this.consume(len);
          this.count++;
          return r;
        }
        default:
          this.skippedBlocks++;
      }
      this.consume(len);
    }
  }

  private skipBlock(len: number, at: number): void {
    let left = len;
    while (left > 0) {
      if (!this.need(1)) this.fail('E_PCAP_TRUNCATED', `block at byte ${at}: ${len} bytes announced, the file ends first`);
      const n = Math.min(left, this.end - this.start);
      this.consume(n);
      left -= n;
    }
    this.skippedBlocks++;
  }

  private readIdb(len: number, at: number): void {
    if (len < 20) this.fail('E_PCAP_FORMAT', `interface description at byte ${at}: too short (${len} bytes)`);
    const ifc: CaptureInterface = { linkType: this.u16(8), snaplen: this.u32(12), unitsPerSecond: 1e6, offsetSeconds: 0 };
    // Options: code u16, length u16, value padded to 4; opt_endofopt (0) ends them.
    let o = 16;
    while (o + 4 <= len - 4) {
      const code = this.u16(o);
      const olen = this.u16(o + 2);
      if (code === 0) break;
      if (o + 4 + olen > len - 4) this.fail('E_PCAP_FORMAT', `interface description at byte ${at}: option ${code} runs past the block`);
      const v = this.start + o + 4;
      if (code === 9 && olen >= 1) {
        const r = this.buf[v]!;
        ifc.unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
        // From seconds to picoseconds (2^-40 s): finer is no capture a NIC makes, and loses precision.
        if (ifc.unitsPerSecond > 1.1e12) this.fail('E_PCAP_FORMAT', `interface description at byte ${at}: if_tsresol 0x${r.toString(16)} is out of range (1 s to 1 ps)`);
      } else if (code === 14 && olen >= 8) {
        ifc.offsetSeconds = Number(this.dv.getBigInt64(v, this.le));
      } else if (code === 2 && olen > 0) {
        ifc.name = new TextDecoder().decode(this.buf.subarray(v, v + olen)).replace(/\0+$/, '');
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.interfaces.push(ifc);
    this.allInterfaces.push(ifc);
  }

  private iface(id: number, at: number): CaptureInterface {
    const ifc = this.interfaces[id];
    if (!ifc) this.fail('E_PCAP_FORMAT', `packet block at byte ${at}: interface ${id} was not described before it`);
    return ifc;
  }

  private readEpb(type: number, len: number, at: number): CaptureRecord {
    if (len < 32) this.fail('E_PCAP_FORMAT', `packet block at byte ${at}: too short (${len} bytes)`);
    // Enhanced (6): interface u32; obsolete (2): interface u16 + drops u16.
    const id = type === 6 ? this.u32(8) : this.u16(8);
    const ifc = this.iface(id, at);
    const hi = this.u32(12);
    const lo = this.u32(16);
    const cap = this.u32(20);
    const orig = this.u32(24);
    if (28 + cap > len - 4) this.fail('E_PCAP_FORMAT', `packet block at byte ${at}: captured length ${cap} runs past the block (${len} bytes)`);
    const r = this.rec;
    r.timeMs = ticksToMs(hi, lo, ifc);
    r.data = this.buf.subarray(this.start + 28, this.start + 28 + cap);
    r.origLen = orig;
    r.iface = this.sectionBase + id;
    r.linkType = ifc.linkType;
    return r;
  }

  private readSpb(len: number, at: number): CaptureRecord {
    if (len < 16) this.fail('E_PCAP_FORMAT', `simple packet block at byte ${at}: too short (${len} bytes)`);
    const ifc = this.iface(0, at);
    const orig = this.u32(8);
    const room = len - 16;
    const cap = Math.min(orig, room, ifc.snaplen > 0 ? ifc.snaplen : orig);
    const r = this.rec;
    r.timeMs = 0; // a simple packet block carries no time
    r.data = this.buf.subarray(this.start + 12, this.start + 12 + cap);
    r.origLen = orig;
    r.iface = this.sectionBase;
    r.linkType = ifc.linkType;
    return r;
  }
}

/** 64-bit tick count → ms. Exact in doubles up to µs resolution; finer resolutions go through BigInt. */
function ticksToMs(hi: number, lo: number, ifc: CaptureInterface): number {
  const u = ifc.unitsPerSecond;
  let sec: number;
  let frac: number;
  if (u <= 1e6) {
    const qh = Math.floor(hi / u);
    const rest = (hi - qh * u) * 4294967296 + lo; // < u * 2^32 <= 2^53
    const q2 = Math.floor(rest / u);
    sec = qh * 4294967296 + q2;
    frac = rest - q2 * u;
  } else {
    const t = (BigInt(hi) << 32n) | BigInt(lo);
    const bu = BigInt(Math.round(u));
    sec = Number(t / bu);
    frac = Number(t % bu);
  }
  return (sec + ifc.offsetSeconds) * 1000 + (frac * 1000) / u;
}
