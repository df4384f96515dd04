/**
 * TCP options (RFC 9293 3.2, RFC 7323, RFC 2018) as a list and as a summary of the well-known
 * kinds. For tools and tests; the packet path never looks at options. Never throws.
 */

import { PacketError } from './views.ts';

export interface TcpOption {
  kind: number;
  /** Option data after kind and length (zero-copy). Empty for EOL and NOP. */
  data: Uint8Array;
}

export interface TcpOptionSummary {
  mss: number | null;
  wscale: number | null;
  sackPermitted: boolean;
  timestamp: { val: number; ecr: number } | null;
  /** SACK blocks as [left, right) sequence numbers. */
  sack: Array<[number, number]>;
}

export type TcpOptionsResult =
  | { ok: true; options: TcpOption[]; summary: TcpOptionSummary }
  | { ok: false; error: PacketError };

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Walks the option bytes (ParsedTcp.options). `base` is the absolute offset of the first option
 * byte in the frame, used in error offsets (l4Offset + 20). Stops at End of Option List.
 */
export function parseTcpOptions(opts: Uint8Array, base = 0): TcpOptionsResult {
  const options: TcpOption[] = [];
  const summary: TcpOptionSummary = { mss: null, wscale: null, sackPermitted: false, timestamp: null, sack: [] };
  let i = 0;
  while (i < opts.length) {
    const kind = opts[i]!;
    if (kind === 0 || kind === 1) {
      options.push({ kind, data: opts.subarray(i + 1, i + 1) });
      i++;
      if (kind === 0) break;
      continue;
    }
    if (i + 1 >= opts.length) return bad(base + i, `option kind ${kind} has no length byte`);
    const len = opts[i + 1]!;
    if (len < 2) return bad(base + i + 1, `option kind ${kind} has length ${len} below 2`);
    if (i + len > opts.length) return bad(base + i + 1, `option kind ${kind} of ${len} bytes overruns the header`);
    const data = opts.subarray(i + 2, i + len);
    options.push({ kind, data });
    const want = kind === 2 ? 4 : kind === 3 ? 3 : kind === 4 ? 2 : kind === 8 ? 10 : 0;
    if (want !== 0 && len !== want) return bad(base + i + 1, `option kind ${kind} has length ${len}, not ${want}`);
    if (kind === 5 && (len - 2) % 8 !== 0) return bad(base + i + 1, `SACK option length ${len} is not 2 + 8n`);
    if (kind === 2) summary.mss = (data[0]! << 8) | data[1]!;
    else if (kind === 3) summary.wscale = data[0]!;
    else if (kind === 4) summary.sackPermitted = true;
    else if (kind === 8) summary.timestamp = { val: u32(data, 0), ecr: u32(data, 4) };
    else if (kind === 5) for (let j = 0; j < data.length; j += 8) summary.sack.push([u32(data, j), u32(data, j + 4)]);
    i += len;
  }
  return { ok: true, options, summary };
}

function bad(offset: number, reason: string): TcpOptionsResult {
  return { ok: false, error: new PacketError('tcp', offset, reason) };
}

/** Option bytes for a SYN like Linux sends: MSS, SACK permitted, timestamps, NOP, window scale. */
export function synOptions(o: { mss?: number; wscale?: number; tsVal?: number; tsEcr?: number } = {}): Uint8Array {
  const b = new Uint8Array(20);
  const mss = o.mss ?? 1460;
  const val = (o.tsVal ?? 0) >>> 0;
  const ecr = (o.tsEcr ?? 0) >>> 0;
  b.set([2, 4, (mss >>> 8) & 0xff, mss & 0xff, 4, 2, 8, 10]);
  b.set([val >>> 24, (val >>> 16) & 0xff, (val >>> 8) & 0xff, val & 0xff], 8);
  b.set([ecr >>> 24, (ecr >>> 16) & 0xff, (ecr >>> 8) & 0xff, ecr & 0xff], 12);
  b.set([1, 3, 3, (o.wscale ?? 7) & 0xff], 16);
  return b;
}
