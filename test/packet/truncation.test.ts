/**
 * Every fixture cut at every offset 0..len: decodeFrame and parseFrame never throw; a cut frame is
 * either decoded (exactly when it still holds the whole IPv4 packet / ARP body) or rejected with
 * the layer being read and the offset where the bytes ran out.
 */
import { describe, expect, it } from 'vitest';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, FrameInfo, decodeFrame, describeDecodeError, parseFrame } from '../../src/packet/index.ts';
import type { ParsedFrame } from '../../src/packet/index.ts';
import { BAD, GOOD } from './fixtures.ts';
import { normalize } from './helpers.ts';

function withoutLengthAndTrailer(f: ParsedFrame): unknown {
  const { length: _l, trailer: _t, ...rest } = f;
  return normalize(rest);
}

/** What a cut of a valid frame must give: null for success, else the layer expected to complain. */
function expectedAtCut(full: ParsedFrame, cut: number): string | null {
  if (cut < 14) return 'ethernet';
  if (full.eth.vlan && cut < 18) return 'vlan';
  if (full.eth.etherType === ETHERTYPE_IPV4) return cut < full.l3Offset + full.ipv4!.totalLength ? 'ipv4' : null;
  if (full.eth.etherType === ETHERTYPE_ARP) return cut < full.l3Offset + 28 ? 'arp' : null;
  return null;
}

describe('every valid fixture cut at every offset', () => {
  it.each(GOOD.map((f) => [f.description, f] as const))('%s', (_d, f) => {
    const whole = parseFrame(f.bytes);
    if (!whole.ok) throw whole.error;
    const full = whole.frame;
    const info = new FrameInfo();
    let oks = 0;
    for (let cut = 0; cut <= f.bytes.length; cut++) {
      const piece = f.bytes.slice(0, cut);
      const r = parseFrame(piece);
      // decodeFrame on the whole buffer with len = cut must agree with the copy of the first cut bytes.
      expect(decodeFrame(f.bytes, cut, info)).toBe(r.ok);
      const layer = expectedAtCut(full, cut);
      if (layer === null) {
        expect(r.ok, `cut ${cut}`).toBe(true);
        if (!r.ok) continue;
        oks++;
        expect(withoutLengthAndTrailer(r.frame)).toEqual(withoutLengthAndTrailer(full));
        expect(normalize(r.frame.trailer)).toBe(normalize(full.trailer.subarray(0, cut - (f.bytes.length - full.trailer.length))));
      } else {
        expect(r.ok, `cut ${cut}`).toBe(false);
        if (r.ok) continue;
        expect({ cut, layer: r.error.layer, offset: r.error.offset }).toEqual({ cut, layer, offset: cut });
        expect([info.errLayer, info.errOffset, describeDecodeError(info)]).toEqual([r.error.layer, r.error.offset, r.error.reason]);
      }
    }
    expect(oks).toBeGreaterThan(0);
  });
});

describe('every malformed fixture cut at every offset', () => {
  it.each(BAD.map((f) => [f.description, f] as const))('%s', (_d, f) => {
    for (let cut = 0; cut <= f.bytes.length; cut++) {
      const r = parseFrame(f.bytes.slice(0, cut));
      if (r.ok) continue; // a cut can remove the broken part (a bad UDP length in the padding, say)
      expect(r.error.offset).toBeGreaterThanOrEqual(0);
      expect(r.error.offset).toBeLessThanOrEqual(cut);
      expect(r.error.reason.length).toBeGreaterThan(0);
    }
    // Uncut, the fixture's own error.
    const r = parseFrame(f.bytes);
    expect(r.ok ? null : [r.error.layer, r.error.offset]).toEqual([f.error.layer, f.error.offset]);
  });
});
