/**
 * Streaming capture writer: classic pcap (µs, little-endian) or pcapng (one section, one Ethernet
 * interface with µs timestamps, enhanced packet blocks). Frames are gathered in one fixed buffer and
 * written in large pieces as it fills, so the output grows as the input is read and memory stays
 * bounded. `-` writes to standard output.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import type { CaptureFormat } from './capture-reader.ts';

export const CAPTURE_FORMATS: readonly CaptureFormat[] = ['pcap', 'pcapng'];

/** Where the bytes go (a file descriptor, or an array in tests). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

export function fileSink(path: string): ByteSink {
  const stdout = path === '-';
  let fd: number;
  try {
    fd = stdout ? 1 : openSync(path, 'w');
  } catch (e) {
    throw new DsrlbError('E_PCAP_WRITE', `${path}: ${(e as Error).message}`, { cause: e });
  }
  return {
    write(bytes) {
      let off = 0;
      while (off < bytes.length) {
        try {
          off += writeSync(fd, bytes, off, bytes.length - off);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') continue;
          throw new DsrlbError(code === 'EPIPE' ? 'E_OUTPUT_CLOSED' : 'E_PCAP_WRITE', `${path}: ${(e as Error).message}`, { cause: e });
        }
      }
    },
    close() {
      if (!stdout) closeSync(fd);
    },
  };
}

export class CaptureWriter {
  count = 0;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private used = 0;
  private closed = false;

  constructor(private readonly sink: ByteSink, readonly format: CaptureFormat = 'pcap', private readonly snaplen = 262144, bufferBytes = 1 << 20) {
    this.buf = new Uint8Array(Math.max(bufferBytes, snaplen + 64));
    this.dv = new DataView(this.buf.buffer);
    if (format === 'pcap') this.pcapHeader();
    else this.pcapngHeader();
  }

  static open(path: string, format: CaptureFormat = 'pcap'): CaptureWriter {
    return new CaptureWriter(fileSink(path), format);
  }

  private room(n: number): number {
    if (this.buf.length - this.used < n) this.flush();
    const at = this.used;
    this.used += n;
    return at;
  }

  private pcapHeader(): void {
    const o = this.room(24);
    const dv = this.dv;
    dv.setUint32(o, 0xa1b2c3d4, true);
    dv.setUint16(o + 4, 2, true);
    dv.setUint16(o + 6, 4, true);
    dv.setInt32(o + 8, 0, true);
    dv.setUint32(o + 12, 0, true);
    dv.setUint32(o + 16, this.snaplen, true);
    dv.setUint32(o + 20, 1, true);
  }

  private pcapngHeader(): void {
    const dv = this.dv;
    // Section header block: type, length 28, byte-order magic, version 1.0, section length -1 (unknown).
    let o = this.room(28);
    dv.setUint32(o, 0x0a0d0d0a, true);
    dv.setUint32(o + 4, 28, true);
    dv.setUint32(o + 8, 0x1a2b3c4d, true);
    dv.setUint16(o + 12, 1, true);
    dv.setUint16(o + 14, 0, true);
    dv.setInt32(o + 16, -1, true);
    dv.setInt32(o + 20, -1, true);
    dv.setUint32(o + 24, 28, true);
    // Interface description block: Ethernet, snap length, no options (µs timestamps by default).
    o = this.room(20);
    dv.setUint32(o, 1, true);
    dv.setUint32(o + 4, 20, true);
    dv.setUint16(o + 8, 1, true);
    dv.setUint16(o + 10, 0, true);
    dv.setUint32(o + 12, this.snaplen, true);
    dv.setUint32(o + 16, 20, true);
  }

  /** Adds a frame (copied). */
  add(timeMs: number, frame: Uint8Array, len = frame.length, origLen = len): void {
    if (this.closed) throw new DsrlbError('E_PCAP_WRITE', 'write after close');
    const us = Math.round(timeMs * 1000);
    const dv = this.dv;
    if (this.format === 'pcap') {
      const o = this.room(16 + len);
      dv.setUint32(o, Math.floor(us / 1e6), true);
      dv.setUint32(o + 4, us % 1e6, true);
      dv.setUint32(o + 8, len, true);
      dv.setUint32(o + 12, origLen, true);
      this.buf.set(frame.subarray(0, len), o + 16);
    } else {
      const padded = (len + 3) & ~3;
      const total = 32 + padded;
      const o = this.room(total);
      dv.setUint32(o, 6, true);
      dv.setUint32(o + 4, total, true);
      dv.setUint32(o + 8, 0, true);
      dv.setUint32(o + 12, Math.floor(us / 4294967296), true);
      dv.setUint32(o + 16, us % 4294967296, true);
      dv.setUint32(o + 20, len, true);
      dv.setUint32(o + 24, origLen, true);
      this.buf.set(frame.subarray(0, len), o + 28);
      this.buf.fill(0, o + 28 + len, o + 28 + padded);
      dv.setUint32(o + 28 + padded, total, true);
    }
    this.count++;
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.sink.write(this.buf.subarray(0, n));
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.sink.close();
    }
  }
}
