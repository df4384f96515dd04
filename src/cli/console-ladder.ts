/**
 * The console's teaching view: a sampled new flow (its first frame as it reached the director and
 * as the director sent it on) drawn as `dsrlb explain`'s ladder (teach/). The director never sees
 * the real's answer — that is the point of DSR — so the ladder has the two arrows the director saw,
 * and its verdict line says where the reply goes.
 */
import type { LdirectordConfig } from '../config/index.ts';
import { endpointToString } from '../model/index.ts';
import { explainCaptures, LINKTYPE_ETHERNET, renderFlowSvg } from '../teach/index.ts';

export interface LadderSample {
  inHex: string;
  outHex: string;
  local: boolean;
}

/** SVG and a one-line title for a sample, or null when the frames do not make a flow. */
export function sampleLadder(s: LadderSample, o: { config?: LdirectordConfig | null; names?: Record<string, string>; atMs?: number } = {}): { title: string; svg: string } | null {
  const inF = Buffer.from(s.inHex, 'hex');
  const outF = Buffer.from(s.outHex, 'hex');
  if (inF.length < 34 || outF.length < 34) return null;
  const t = o.atMs ?? 0;
  // The frame came in to this director's MAC: name its lane.
  const names = { ...o.names, [macOf(inF, 0)]: 'this director' };
  let ex;
  try {
    ex = explainCaptures([{
      name: 'director',
      linkType: LINKTYPE_ETHERNET,
      records: [
        { timeMs: t, data: inF, origLen: inF.length },
        { timeMs: t + 0.05, data: outF, origLen: outF.length },
      ],
    }], { config: o.config ?? undefined, names });
  } catch {
    return null;
  }
  const fl = ex.flows[0];
  if (!fl) return null;
  // The real: the destination of the forwarded frame, as the director knows it from the table.
  const realMac = [...fl.realMacs][0];
  const real = realMac ? ex.roles.byMac.get(realMac) : undefined;
  const realText = s.local ? 'this host (the director is also a real)' : real?.ip ?? (realMac ? o.names?.[realMac] : undefined) ?? realMac ?? 'a real server';
  const title = `${endpointToString(ipNum(fl.clientIp), fl.clientPort)} → ${fl.vip}:${fl.port} → ${realText}`;
  // The verdict line: no handshake can be seen from here, and that is DSR working, not a problem.
  const svg = renderFlowSvg(fl, { ...ex, findings: [] }, { title: `Sampled flow: ${title}` })
    .replace(/<text([^>]*) fill="#[0-9a-f]{6}">(?:OK|PROBLEM): [^<]*<\/text>/, '<text$1 fill="#047857">the real answers the client itself, from the VIP: the director never sees the reply (DSR)</text>');
  return { title, svg };
}

function macOf(b: Uint8Array, off: number): string {
  return [...b.subarray(off, off + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ipNum(s: string): number {
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
}
