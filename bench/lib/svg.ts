/**
 * Small SVG charts for the benchmark report (pure, no chart library): bars with min..max whiskers,
 * grouped bars, and a scatter of delivered vs offered packet rates. Text is escaped; every chart is
 * a standalone SVG document that GitHub and browsers render as an image.
 */

export const PATH_COLORS: Record<string, string> = {
  direct: '#7f7f7f',
  nft: '#1f77b4',
  ipvs: '#2ca02c',
  dsrlb: '#d62728',
  cref: '#9467bd',
  dsrlb_pcap: '#ff7f0e',
  dsrlb_poll: '#8c564b',
  dsrlb_w2: '#e377c2',
  direct6: '#bcbcbc',
  nft6: '#6baed6',
  dsrlb6: '#f4a09c',
};

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" tick step (1, 2 or 5 × 10^k) giving about `count` intervals over [0, max]. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Ticks from 0 up to the first multiple of the step at or above max. */
export function ticks(max: number, count = 5): number[] {
  const step = niceStep(max, count);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const out: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Log-scale ticks: 1, 2 and 5 × 10^k covering [min, max] (min > 0). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-9)));
  const out: number[] = [];
  for (let k = lo; k <= hi; k++) for (const f of [1, 2, 5]) out.push(Number((f * 10 ** k).toPrecision(6)));
  return out.filter((t) => t <= 10 ** hi);
}

/** Axis labels: 1.5M, 120k, 950, 0.5. */
export function axisLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a >= 1 || v === 0) return `${Number(v.toPrecision(4))}`;
  return `${Number(v.toPrecision(2))}`;
}

function n(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0';
}

function doc(w: number, h: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text x="${n(w / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

interface Frame {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function yAxis(f: Frame, ts: number[], unit: string, yOf?: (v: number) => number): string[] {
  const top = ts[ts.length - 1]!;
  const out: string[] = [];
  for (const t of ts) {
    const y = yOf ? yOf(t) : f.y1 - ((f.y1 - f.y0) * t) / top;
    out.push(`<line x1="${n(f.x0)}" y1="${n(y)}" x2="${n(f.x1)}" y2="${n(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${n(f.x0 - 6)}" y="${n(y + 4)}" text-anchor="end" fill="#444">${esc(axisLabel(t))}</text>`);
  }
  out.push(`<line x1="${n(f.x0)}" y1="${n(f.y0)}" x2="${n(f.x0)}" y2="${n(f.y1)}" stroke="#333"/>`);
  out.push(`<line x1="${n(f.x0)}" y1="${n(f.y1)}" x2="${n(f.x1)}" y2="${n(f.y1)}" stroke="#333"/>`);
  out.push(`<text transform="translate(14 ${n((f.y0 + f.y1) / 2)}) rotate(-90)" text-anchor="middle" fill="#444">${esc(unit)}</text>`);
  return out;
}

export interface BarValue {
  value: number | null;
  min?: number;
  max?: number;
  /** Shown instead of the value (e.g. "skipped"). */
  note?: string;
}

export interface Bar extends BarValue {
  label: string;
  color: string;
}

function whisker(x: number, yOf: (v: number) => number, b: BarValue): string[] {
  if (b.value === null || b.min === undefined || b.max === undefined || b.min === b.max) return [];
  const y0 = yOf(b.min);
  const y1 = yOf(b.max);
  return [
    `<line x1="${n(x)}" y1="${n(y0)}" x2="${n(x)}" y2="${n(y1)}" stroke="#000"/>`,
    `<line x1="${n(x - 5)}" y1="${n(y0)}" x2="${n(x + 5)}" y2="${n(y0)}" stroke="#000"/>`,
    `<line x1="${n(x - 5)}" y1="${n(y1)}" x2="${n(x + 5)}" y2="${n(y1)}" stroke="#000"/>`,
  ];
}

/** One bar per item (median), a min..max whisker, the value above. */
export function barChart(o: { title: string; unit: string; bars: Bar[]; width?: number; height?: number; caption?: string }): string {
  const w = o.width ?? 640;
  const h = o.height ?? 360;
  const f: Frame = { x0: 70, y0: 40, x1: w - 20, y1: h - 50 };
  const max = Math.max(1e-9, ...o.bars.flatMap((b) => [b.value ?? 0, b.max ?? 0]));
  const ts = ticks(max);
  const top = ts[ts.length - 1]!;
  const yOf = (v: number) => f.y1 - ((f.y1 - f.y0) * v) / top;
  const slot = (f.x1 - f.x0) / Math.max(1, o.bars.length);
  const bw = Math.min(90, slot * 0.6);
  const body = yAxis(f, ts, o.unit);
  o.bars.forEach((b, i) => {
    const cx = f.x0 + slot * (i + 0.5);
    if (b.value !== null) {
      const y = yOf(b.value);
      body.push(`<rect x="${n(cx - bw / 2)}" y="${n(y)}" width="${n(bw)}" height="${n(f.y1 - y)}" fill="${b.color}"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>`);
      body.push(...whisker(cx, yOf, b));
      const labelY = Math.min(y, b.max !== undefined ? yOf(b.max) : y) - 6;
      body.push(`<text x="${n(cx)}" y="${n(labelY)}" text-anchor="middle">${esc(axisLabel(b.value))}</text>`);
    } else {
      body.push(`<text x="${n(cx)}" y="${n(f.y1 - 8)}" text-anchor="middle" fill="#888">${esc(b.note ?? 'n/a')}</text>`);
    }
    body.push(`<text x="${n(cx)}" y="${n(f.y1 + 18)}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  if (o.caption) body.push(`<text x="${n(w / 2)}" y="${n(h - 12)}" text-anchor="middle" fill="#666" font-size="11">${esc(o.caption)}</text>`);
  return doc(w, h, o.title, body);
}

export interface Series {
  name: string;
  color: string;
}

/** Categories on x (e.g. "connect p50"), one bar per series in each, with whiskers and a legend. */
export function groupedBarChart(o: {
  title: string;
  unit: string;
  groups: string[];
  series: Array<Series & { values: Array<BarValue | null> }>;
  width?: number;
  height?: number;
  caption?: string;
  /** Logarithmic y axis (for percentiles that span decades). */
  log?: boolean;
}): string {
  const w = o.width ?? 720;
  const h = o.height ?? 380;
  const f: Frame = { x0: 70, y0: 56, x1: w - 20, y1: h - 50 };
  const vals = o.series.flatMap((s) => s.values.flatMap((v) => (v && v.value !== null ? [v.value, v.min ?? v.value, v.max ?? v.value] : [])));
  const max = Math.max(1e-9, ...vals);
  let ts: number[];
  let yOf: (v: number) => number;
  if (o.log && vals.length > 0) {
    ts = logTicks(Math.min(...vals.filter((v) => v > 0), max), max);
    const l0 = Math.log10(ts[0]!);
    const l1 = Math.log10(ts[ts.length - 1]!);
    yOf = (v: number) => f.y1 - ((f.y1 - f.y0) * (Math.log10(Math.max(v, ts[0]!)) - l0)) / Math.max(1e-9, l1 - l0);
  } else {
    ts = ticks(max);
    const top = ts[ts.length - 1]!;
    yOf = (v: number) => f.y1 - ((f.y1 - f.y0) * v) / top;
  }
  const slot = (f.x1 - f.x0) / Math.max(1, o.groups.length);
  const bw = Math.min(40, (slot * 0.8) / Math.max(1, o.series.length));
  const body = yAxis(f, ts, o.log ? `${o.unit} (log scale)` : o.unit, yOf);
  o.groups.forEach((g, gi) => {
    const gx = f.x0 + slot * gi + (slot - bw * o.series.length) / 2;
    o.series.forEach((s, si) => {
      const v = s.values[gi];
      const cx = gx + bw * (si + 0.5);
      if (!v || v.value === null) return;
      const y = yOf(v.value);
      body.push(`<rect x="${n(cx - bw / 2 + 1)}" y="${n(y)}" width="${n(bw - 2)}" height="${n(f.y1 - y)}" fill="${s.color}"><title>${esc(`${s.name} ${g}: ${v.value}`)}</title></rect>`);
      body.push(...whisker(cx, yOf, v));
      body.push(`<text x="${n(cx)}" y="${n(Math.min(y, v.max !== undefined ? yOf(v.max) : y) - 4)}" text-anchor="middle" font-size="9">${esc(axisLabel(Math.round(v.value)))}</text>`);
    });
    body.push(`<text x="${n(f.x0 + slot * (gi + 0.5))}" y="${n(f.y1 + 18)}" text-anchor="middle">${esc(g)}</text>`);
  });
  body.push(...legend(o.series, f.x0 + 10, 40));
  if (o.caption) body.push(`<text x="${n(w / 2)}" y="${n(h - 12)}" text-anchor="middle" fill="#666" font-size="11">${esc(o.caption)}</text>`);
  return doc(w, h, o.title, body);
}

function legend(series: Series[], x: number, y: number): string[] {
  const out: string[] = [];
  let cx = x;
  for (const s of series) {
    out.push(`<rect x="${n(cx)}" y="${n(y - 9)}" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${n(cx + 14)}" y="${n(y)}">${esc(s.name)}</text>`);
    cx += 24 + s.name.length * 7;
  }
  return out;
}

/**
 * Delivered vs offered: one point per probe (filled when it lost nothing, hollow when it lost
 * frames), with the y = x line where nothing is lost.
 */
export function scatterChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Array<Series & { points: Array<{ x: number; y: number; lossless?: boolean }> }>;
  width?: number;
  height?: number;
  caption?: string;
}): string {
  const w = o.width ?? 720;
  const h = o.height ?? 420;
  const f: Frame = { x0: 70, y0: 50, x1: w - 20, y1: h - 60 };
  const all = o.series.flatMap((s) => s.points);
  const max = Math.max(1e-9, ...all.flatMap((p) => [p.x, p.y]));
  const ts = ticks(max);
  const top = ts[ts.length - 1]!;
  const xOf = (v: number) => f.x0 + ((f.x1 - f.x0) * v) / top;
  const yOf = (v: number) => f.y1 - ((f.y1 - f.y0) * v) / top;
  const body = yAxis(f, ts, o.yLabel);
  for (const t of ts) {
    body.push(`<text x="${n(xOf(t))}" y="${n(f.y1 + 16)}" text-anchor="middle" fill="#444">${esc(axisLabel(t))}</text>`);
  }
  body.push(`<text x="${n((f.x0 + f.x1) / 2)}" y="${n(f.y1 + 34)}" text-anchor="middle" fill="#444">${esc(o.xLabel)}</text>`);
  body.push(`<line x1="${n(xOf(0))}" y1="${n(yOf(0))}" x2="${n(xOf(top))}" y2="${n(yOf(top))}" stroke="#999" stroke-dasharray="4 4"/>`);
  body.push(`<text x="${n(xOf(top) - 4)}" y="${n(yOf(top) + 24)}" text-anchor="end" fill="#999">delivered = offered (no loss)</text>`);
  for (const s of o.series) {
    for (const p of s.points) {
      const fill = p.lossless === false ? '#ffffff' : s.color;
      body.push(`<circle cx="${n(xOf(p.x))}" cy="${n(yOf(p.y))}" r="3.5" fill="${fill}" stroke="${s.color}" stroke-width="1.5"><title>${esc(`${s.name}: offered ${Math.round(p.x)}, delivered ${Math.round(p.y)}`)}</title></circle>`);
    }
  }
  body.push(...legend(o.series, f.x0 + 10, 40));
  body.push(`<circle cx="${n(f.x1 - 150)}" cy="36" r="3.5" fill="#555"/><text x="${n(f.x1 - 142)}" y="40">no loss</text>`);
  body.push(`<circle cx="${n(f.x1 - 80)}" cy="36" r="3.5" fill="#fff" stroke="#555" stroke-width="1.5"/><text x="${n(f.x1 - 72)}" y="40">frames lost</text>`);
  if (o.caption) body.push(`<text x="${n(w / 2)}" y="${n(h - 10)}" text-anchor="middle" fill="#666" font-size="11">${esc(o.caption)}</text>`);
  return doc(w, h, o.title, body);
}
