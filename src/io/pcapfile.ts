/**
 * Classic pcap files (not pcapng): a reader that accepts both byte orders and both microsecond
 * and nanosecond timestamp magics, and a writer (microseconds, little-endian, LINKTYPE_ETHERNET).
 * The reader validates every record header and reports a precise error instead of crashing on a
 * damaged or truncated file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';

export const LINKTYPE_ETHERNET = 1;

export interface PcapRecord {
  /** Capture time in milliseconds since the epoch (fractional: µs/ns precision kept). */
  timeMs: number;
  /** Captured bytes (a view into the file buffer; copy it before changing it if the file is reused). */
  data: Uint8Array;
  /** Length of the frame on the wire (may exceed data.length when the capture was cut at snaplen). */
  origLen: number;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  records: PcapRecord[];
}

/** Parses a classic pcap image. `name` is used in error messages. */
export function parsePcap(buf: Uint8Array, name = 'pcap'): PcapFile {
  if (buf.length < 24) throw new DsrlbError('E_PCAP_FORMAT', `${name}: too short for a pcap header (${buf.length} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicLE = dv.getUint32(0, true);
  let le: boolean;
  let nanosecond: boolean;
  switch (magicLE) {
    case 0xa1b2c3d4: le = true; nanosecond = false; break;
    case 0xd4c3b2a1: le = false; nanosecond = false; break;
    case 0xa1b23c4d: le = true; nanosecond = true; break;
    case 0x4d3cb2a1: le = false; nanosecond = true; break;
    case 0x0a0d0d0a:
      throw new DsrlbError('E_PCAP_FORMAT', `${name}: this is pcapng; convert it with "editcap -F pcap IN OUT"`);
    default:
      throw new DsrlbError('E_PCAP_FORMAT', `${name}: not a pcap file (magic 0x${magicLE.toString(16)})`);
  }
  const snaplen = dv.getUint32(16, le);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off < buf.length) {
    if (buf.length - off < 16) {
      throw new DsrlbError('E_PCAP_TRUNCATED', `${name}: record ${records.length + 1} at byte ${off}: truncated record header`);
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    if (incl > 262144) {
      throw new DsrlbError('E_PCAP_FORMAT', `${name}: record ${records.length + 1} at byte ${off}: captured length ${incl} is implausible`);
    }
    if (off + 16 + incl > buf.length) {
      throw new DsrlbError('E_PCAP_TRUNCATED', `${name}: record ${records.length + 1} at byte ${off}: ${incl} bytes announced, ${buf.length - off - 16} present`);
    }
    const timeMs = sec * 1000 + (nanosecond ? frac / 1e6 : frac / 1e3);
    records.push({ timeMs, data: buf.subarray(off + 16, off + 16 + incl), origLen: orig });
    off += 16 + incl;
  }
  return { linkType, snaplen, nanosecond, records };
}

export function readPcapFile(path: string): PcapFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DsrlbError('E_PCAP_READ', `${path}: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`, { cause: e });
  }
  return parsePcap(buf, path);
}

/** Accumulates frames and renders a classic pcap (µs timestamps, little-endian). */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 24;
  count = 0;

  constructor(private readonly snaplen = 262144, private readonly linkType = LINKTYPE_ETHERNET) {}

  /** Adds a frame; the bytes are copied, so the caller may reuse its buffer. */
  add(timeMs: number, frame: Uint8Array, len = frame.length, origLen = len): void {
    const rec = new Uint8Array(16 + len);
    const dv = new DataView(rec.buffer);
    const usTotal = Math.round(timeMs * 1000);
    dv.setUint32(0, Math.floor(usTotal / 1e6), true);
    dv.setUint32(4, usTotal % 1e6, true);
    dv.setUint32(8, len, true);
    dv.setUint32(12, origLen, true);
    rec.set(frame.subarray(0, len), 16);
    this.chunks.push(rec);
    this.bytes += rec.length;
    this.count++;
  }

  toBuffer(): Buffer {
    const out = Buffer.alloc(this.bytes);
    out.writeUInt32LE(0xa1b2c3d4, 0);
    out.writeUInt16LE(2, 4);
    out.writeUInt16LE(4, 6);
    out.writeInt32LE(0, 8);
    out.writeUInt32LE(0, 12);
    out.writeUInt32LE(this.snaplen, 16);
    out.writeUInt32LE(this.linkType, 20);
    let off = 24;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  writeFile(path: string): void {
    try {
      writeFileSync(path, this.toBuffer());
    } catch (e) {
      throw new DsrlbError('E_PCAP_WRITE', `${path}: ${(e as Error).message}`, { cause: e });
    }
  }
}
