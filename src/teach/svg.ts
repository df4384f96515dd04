/**
 * A flow's ladder as SVG: one vertical line per host (labelled with its name, role, address and
 * MAC), one arrow per frame from the sender's line to the receiver's, with the flags and addresses
 * above the arrow, the MACs and TTL below it and the explanation to the right. Problems are red.
 * Self-contained (no fonts, scripts or links), well-formed XML.
 */
import type { Explanation } from './explain.ts';
import { flowVerdict } from './explain.ts';
import { endpoint, type Arrow, type ArrowKind, type Flow } from './flows.ts';
import { hostLabel, roleText, type Host } from './roles.ts';

export interface SvgOptions {
  /** Frame numbers to highlight (a yellow band behind their rows). */
  highlight?: readonly number[];
  /** At most this many arrows (default 60). */
  maxArrows?: number;
  /** A title instead of the flow's own. */
  title?: string;
}

const LANE_W = 250;
const LEFT = 96;
const NOTES_W = 460;
const HEAD = 118;
const ROW = 50;
const NOTE_H = 14;

export const ARROW_COLORS: Readonly<Record<ArrowKind | 'problem', string>> = {
  'arp-request': '#7c3aed',
  'arp-reply': '#7c3aed',
  garp: '#7c3aed',
  'to-director': '#1f2937',
  forwarded: '#c2410c',
  'dsr-reply': '#047857',
  'reply-via-director': '#dc2626',
  bypass: '#1f2937',
  'icmp-error': '#b45309',
  other: '#6b7280',
  problem: '#dc2626',
};

export const ARROW_MEANING: Readonly<Record<ArrowKind, string>> = {
  'arp-request': 'ARP question (broadcast) or NDP solicitation (multicast)',
  'arp-reply': 'ARP answer or NDP advertisement',
  garp: 'gratuitous ARP or unsolicited NA (announcement)',
  'to-director': 'client to the director (the VIP\'s MAC)',
  forwarded: 'forwarded by the director to a real (MACs rewritten, TTL - 1)',
  'dsr-reply': 'real server straight to the client, from the VIP (DSR)',
  'reply-via-director': 'reply through the director (not DSR)',
  bypass: 'client straight to a real (the director is bypassed)',
  'icmp-error': 'an ICMP error about the flow, from a router to the VIP (the director)',
  other: 'other',
};

/** Escapes text for XML character data and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${xmlEscape(s)}</text>`;
}

function laneX(i: number): number {
  return LEFT + LANE_W / 2 + i * LANE_W;
}

/** Splits a note into lines that fit the notes column. */
export function wrapNote(s: string, max = 74): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(' ')) {
    if (line && line.length + 1 + w.length > max) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

function noteLines(a: Arrow): string[] {
  return a.notes.flatMap((n) => wrapNote(n));
}

function rowHeight(a: Arrow): number {
  return ROW + Math.max(0, noteLines(a).length - 2) * NOTE_H;
}

function arrowColor(a: Arrow): string {
  return a.problem ? ARROW_COLORS.problem : ARROW_COLORS[a.kind];
}

function markerId(color: string): string {
  return `ah${color.slice(1)}`;
}

/** The label above the arrow: what the frame says. */
function upperLabel(a: Arrow): string {
  if (a.frame.arp) return a.kind === 'arp-request' ? `${a.label} ${a.detail}` : a.label;
  return `${a.label}  ${a.detail.replace(/ (ttl|hlim) \d+$/, '')}`;
}

function lowerLabel(a: Arrow): string {
  const ttl = a.frame.ip ? ` · ${a.frame.ip.v6 ? 'hlim' : 'ttl'} ${a.frame.ip.ttl}` : '';
  return `${a.macs}${ttl}`;
}

export function renderFlowSvg(fl: Flow, ex: Explanation, o: SvgOptions = {}): string {
  const roles = ex.roles;
  const lanes = fl.lanes;
  const arrows = fl.arrows.slice(0, o.maxArrows ?? 60);
  const findings = ex.findings.filter((f) => f.severity !== 'note' && f.flows.includes(fl.id));
  const width = LEFT + lanes.length * LANE_W + NOTES_W;
  const rowsH = arrows.reduce((s, a) => s + rowHeight(a), 0);
  const allArrows = fl.arrows.length + (fl.omitted ?? 0);
  const footH = 24 + findings.length * 18 + (allArrows > arrows.length ? 18 : 0);
  const height = HEAD + rowsH + footH + 10;
  const hl = new Set(o.highlight ?? []);
  const v = flowVerdict(fl, ex.findings);
  const title = o.title ?? `Flow ${fl.id}: ${endpoint(fl.clientIp, fl.clientPort)} → ${endpoint(fl.vip, fl.port)} (${fl.proto})`;
  const colors = [...new Set(arrows.map(arrowColor))];

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="12" role="img" class="dsrlb-ladder">`);
  out.push(`<title>${xmlEscape(`${title} — ${v.ok ? 'OK' : 'problem'}: ${v.text}`)}</title>`);
  out.push('<defs>');
  for (const c of colors) {
    out.push(`<marker id="${markerId(c)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`);
  }
  out.push('</defs>');
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(text(12, 24, title, 'font-size="16" font-weight="bold" fill="#111827"'));
  out.push(text(12, 44, `${v.ok ? 'OK' : 'PROBLEM'}: ${v.text}`, `font-size="13" fill="${v.ok ? '#047857' : '#dc2626'}"`));

  // Lanes.
  const top = HEAD - 8;
  const bottom = HEAD + rowsH;
  lanes.forEach((mac, i) => {
    const h: Host = roles.byMac.get(mac) ?? { mac, ip: null, roles: [], name: null };
    const x = laneX(i);
    out.push(`<rect x="${(x - LANE_W / 2 + 12).toFixed(1)}" y="56" width="${LANE_W - 24}" height="50" rx="6" fill="#f3f4f6" stroke="#9ca3af"/>`);
    out.push(text(x, 72, hostLabel(h), 'text-anchor="middle" font-weight="bold" fill="#111827"'));
    out.push(text(x, 86, `${roleText(h)}${h.ip && h.name ? ` · ${h.ip}` : ''}`, 'text-anchor="middle" font-size="11" fill="#374151"'));
    out.push(text(x, 100, mac, 'text-anchor="middle" font-size="10" fill="#6b7280"'));
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#9ca3af" stroke-width="2" stroke-dasharray="4 3"/>`);
  });
  out.push(text(12, top + 4, 'frame  ms', 'font-size="10" fill="#6b7280"'));

  // Arrows.
  let y = HEAD;
  const t0 = fl.frames[0]?.timeMs ?? 0;
  for (const a of arrows) {
    const h = rowHeight(a);
    const ay = y + 24;
    if (hl.has(a.frame.n)) out.push(`<rect x="4" y="${y + 2}" width="${width - 8}" height="${h - 4}" rx="4" fill="#fef3c7"/>`);
    out.push(text(12, ay + 4, `#${a.frame.n}`, 'font-size="11" fill="#374151"'));
    out.push(text(46, ay + 4, (a.frame.timeMs - t0).toFixed(2), 'font-size="10" fill="#6b7280"'));
    const from = lanes.indexOf(a.from);
    let to = a.to === 'broadcast' ? -1 : lanes.indexOf(a.to);
    const color = arrowColor(a);
    const marker = `url(#${markerId(color)})`;
    const sw = a.problem ? 3 : 2;
    const dash = a.to === 'broadcast' ? ' stroke-dasharray="7 4"' : a.kind === 'forwarded' ? ' stroke-dasharray="10 3"' : '';
    if (from >= 0) {
      if (to < 0) to = from === lanes.length - 1 ? 0 : lanes.length - 1;
      const x0 = laneX(from);
      const x1 = laneX(to);
      const dir = x1 > x0 ? 1 : -1;
      out.push(`<line x1="${x0 + dir * 3}" y1="${ay}" x2="${x1 - dir * 3}" y2="${ay}" stroke="${color}" stroke-width="${sw}"${dash} marker-end="${marker}"/>`);
      if (a.to === 'broadcast' && from > 0 && from < lanes.length - 1) {
        out.push(`<line x1="${x0 - 3}" y1="${ay}" x2="${laneX(0) + 3}" y2="${ay}" stroke="${color}" stroke-width="${sw}"${dash} marker-end="${marker}"/>`);
      }
      out.push(`<circle cx="${x0}" cy="${ay}" r="3.5" fill="${color}"/>`);
      const mid = a.to === 'broadcast' && from > 0 && from < lanes.length - 1 ? (laneX(0) + laneX(lanes.length - 1)) / 2 : (x0 + x1) / 2;
      const halo = `paint-order="stroke" stroke="${hl.has(a.frame.n) ? '#fef3c7' : '#ffffff'}" stroke-width="4" stroke-linejoin="round"`;
      out.push(text(mid, ay - 7, upperLabel(a), `text-anchor="middle" font-size="11.5" fill="${color}" font-weight="${a.problem ? 'bold' : 'normal'}" ${halo}`));
      out.push(text(mid, ay + 15, lowerLabel(a), `text-anchor="middle" font-size="10" fill="#6b7280" ${halo}`));
    }
    const nx = LEFT + lanes.length * LANE_W + 10;
    noteLines(a).forEach((n, i) => {
      out.push(text(nx, y + 18 + i * NOTE_H, n, `font-size="11" font-style="italic" fill="${a.problem ? '#b91c1c' : '#374151'}"`));
    });
    y += h;
  }

  // Footer: the flow's problems.
  let fy = bottom + 22;
  if (allArrows > arrows.length) {
    out.push(text(12, fy, `… ${allArrows - arrows.length} more frames not drawn`, 'font-size="11" fill="#6b7280"'));
    fy += 18;
  }
  for (const f of findings) {
    out.push(text(12, fy, `⚠ ${f.code}: ${f.title}`, 'font-size="12" fill="#b91c1c"'));
    fy += 18;
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Every flow's ladder, stacked in one SVG document. */
export function renderSvg(ex: Explanation, o: SvgOptions & { flows?: readonly number[] } = {}): string {
  const flows = ex.flows.filter((fl) => !o.flows || o.flows.includes(fl.id));
  if (flows.length === 1) return renderFlowSvg(flows[0]!, ex, o);
  const parts = flows.map((fl) => renderFlowSvg(fl, ex, o));
  const sizes = parts.map((p) => {
    const m = /width="(\d+)" height="(\d+)"/.exec(p)!;
    return { w: Number(m[1]), h: Number(m[2]) };
  });
  const width = Math.max(600, ...sizes.map((s) => s.w));
  const height = Math.max(60, sizes.reduce((s, x) => s + x.h + 20, 0));
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`];
  if (flows.length === 0) out.push(text(12, 30, 'no connection to a virtual service in these captures', 'font-family="sans-serif" font-size="14"'));
  let y = 0;
  parts.forEach((p, i) => {
    // Nested <svg> elements keep each ladder's own coordinates; marker ids stay unique per flow.
    out.push(p.replace('<svg ', `<svg x="0" y="${y}" `).replace(/id="ah/g, `id="f${i}ah`).replace(/url\(#ah/g, `url(#f${i}ah`));
    y += sizes[i]!.h + 20;
  });
  out.push('</svg>');
  return out.join('\n');
}
