/**
 * Capture files as teach/ CaptureSources: each file streamed through CaptureReader (one fixed
 * buffer), opened again for each of explain's passes. A pcapng with several interfaces gives one
 * capture point per interface, named after it, as loadCaptures does.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DsrlbError } from '../errors/index.ts';
import { CaptureReader } from '../io/index.ts';
import type { CaptureSource, CaptureStream, StreamRecord } from '../teach/index.ts';

/** The capture files named by paths (files, or folders of *.pcap / *.pcapng / *.cap). */
export function captureFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new DsrlbError('E_PCAP_READ', `${p}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const inDir = readdirSync(p).filter((n) => /\.(pcapng|pcap|cap)$/i.test(n)).sort().map((n) => join(p, n));
      if (inDir.length === 0) throw new DsrlbError('E_PCAP_READ', `${p}: no .pcap or .pcapng file in this folder`);
      files.push(...inDir);
    } else files.push(p);
  }
  return files;
}

/** A capture file as a source; each open() reads it from the start. */
export function fileSource(path: string): CaptureSource {
  const name = basename(path).replace(/\.(pcapng|pcap|cap)$/i, '');
  // After a full read: the interfaces' names, and which of them had frames.
  let known: { names: string[]; used: boolean[] } | null = null;
  const pointName = (r: CaptureReader, i: number): string => {
    const ifs = r.allInterfaces;
    return ifs.length <= 1 ? name : `${name}.${ifs[i]?.name ?? `if${i}`}`;
  };
  return {
    points() {
      if (!known) return [name];
      return known.names.length <= 1 ? [name] : known.names.filter((_, i) => known!.used[i]);
    },
    open(): CaptureStream {
      const reader = CaptureReader.open(path);
      const counts: number[] = [];
      const rec: StreamRecord = { point: name, index: 0, timeMs: 0, data: new Uint8Array(0), origLen: 0, linkType: 1 };
      return {
        next() {
          const r = reader.next();
          if (!r) {
            known = { names: reader.allInterfaces.map((_, i) => pointName(reader, i)), used: reader.allInterfaces.map((_, i) => (counts[i] ?? 0) > 0) };
            return null;
          }
          counts[r.iface] = (counts[r.iface] ?? 0) + 1;
          rec.point = pointName(reader, r.iface);
          rec.index = counts[r.iface]!;
          rec.timeMs = r.timeMs;
          rec.data = r.data;
          rec.origLen = r.origLen;
          rec.linkType = r.linkType;
          return rec;
        },
        close() {
          reader.close();
        },
      };
    },
  };
}
