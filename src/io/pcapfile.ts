/**
 * Whole-file helpers over the streaming reader and writer (capture-reader.ts, capture-writer.ts):
 * parsePcap/readPcapFile load every record into memory (each `data` its own copy), for small
 * captures and tests; PcapWriter gathers frames and renders them at the end. Large inputs should
 * use CaptureReader/CaptureWriter directly, which stream.
 */
import { writeFileSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import { bufferSource, CaptureReader, type CaptureFormat, type CaptureInterface } from './capture-reader.ts';
import { CaptureWriter } from './capture-writer.ts';

export const LINKTYPE_ETHERNET = 1;

export interface PcapRecord {
  /** Capture time in milliseconds since the epoch (fractional: µs/ns precision kept). */
  timeMs: number;
  /** Captured bytes (a copy of its own). */
  data: Uint8Array;
  /** Length of the frame on the wire (may exceed data.length when the capture was cut at snaplen). */
  origLen: number;
  /** Interface index (pcapng; 0 for pcap). */
  iface: number;
  /** Link type of that interface. */
  linkType: number;
}

export interface PcapFile {
  format: CaptureFormat;
  /** Link type of the first interface (every interface: `interfaces`). */
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  interfaces: CaptureInterface[];
  records: PcapRecord[];
}

function readAll(reader: CaptureReader): PcapFile {
  const records: PcapRecord[] = [];
  try {
    for (let r = reader.next(); r; r = reader.next()) {
      records.push({ timeMs: r.timeMs, data: r.data.slice(), origLen: r.origLen, iface: r.iface, linkType: r.linkType });
    }
  } finally {
    reader.close();
  }
  const first = reader.allInterfaces[0];
  return {
    format: reader.format ?? 'pcap',
    linkType: first?.linkType ?? LINKTYPE_ETHERNET,
    snaplen: first?.snaplen ?? 0,
    nanosecond: (first?.unitsPerSecond ?? 1e6) >= 1e9,
    interfaces: reader.allInterfaces,
    records,
  };
}

/** Parses a pcap or pcapng image. `name` is used in error messages. */
export function parsePcap(buf: Uint8Array, name = 'pcap'): PcapFile {
  return readAll(new CaptureReader(bufferSource(buf), name));
}

export function readPcapFile(path: string): PcapFile {
  return readAll(CaptureReader.open(path));
}

/** Accumulates frames and renders a capture at the end (pcap by default). */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private readonly w: CaptureWriter;

  constructor(snaplen = 262144, format: CaptureFormat = 'pcap') {
    this.w = new CaptureWriter({ write: (b) => this.chunks.push(b.slice()), close: () => {} }, format, snaplen, 1 << 16);
  }

  get count(): number {
    return this.w.count;
  }

  /** Adds a frame; the bytes are copied, so the caller may reuse its buffer. */
  add(timeMs: number, frame: Uint8Array, len = frame.length, origLen = len): void {
    this.w.add(timeMs, frame, len, origLen);
  }

  toBuffer(): Buffer {
    this.w.flush();
    return Buffer.concat(this.chunks);
  }

  writeFile(path: string): void {
    try {
      writeFileSync(path, this.toBuffer());
    } catch (e) {
      throw new DsrlbError('E_PCAP_WRITE', `${path}: ${(e as Error).message}`, { cause: e });
    }
  }
}
