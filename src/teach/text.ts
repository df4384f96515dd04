/**
 * The explanation as terminal text: roles, then each flow as a ladder (one column per host, one
 * arrow per frame, the details to the right), then the findings with their fixes.
 */
import type { Explanation } from './explain.ts';
import { flowVerdict } from './explain.ts';
import { endpoint, type Arrow, type Flow } from './flows.ts';
import { hostLabel, roleText, type Roles } from './roles.ts';

const LANE = 16;

export interface TextOptions {
  /** Only these flows (ids). */
  flows?: readonly number[];
  /** At most this many arrows per flow (default 60); the rest is summarised. */
  maxArrows?: number;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** `s` centred on the lane's axis (column LANE / 2 of the lane). */
function center(s: string, n: number): string {
  if (s.length >= n) return s.slice(0, n);
  const l = Math.max(0, Math.min(n - s.length, n / 2 - Math.floor(s.length / 2)));
  return ' '.repeat(l) + s + ' '.repeat(n - s.length - l);
}

function ms(t: number, t0: number): string {
  return ((t - t0)).toFixed(3).padStart(9);
}

/** A shortened label that fits on an arrow. */
function arrowWord(a: Arrow): string {
  switch (a.kind) {
    case 'arp-request':
      return 'who-has';
    case 'arp-reply':
      return 'is-at';
    case 'garp':
      return 'GARP';
    default:
      return a.label.replace(/ len \d+$/, '');
  }
}

function drawArrow(a: Arrow, lanes: string[]): string {
  const width = lanes.length * LANE;
  const line = Array.from({ length: width }, () => ' ');
  for (let i = 0; i < lanes.length; i++) line[i * LANE + LANE / 2] = '|';
  const from = lanes.indexOf(a.from);
  let to = a.to === 'broadcast' ? -1 : lanes.indexOf(a.to);
  if (from < 0) return line.join('');
  let right: boolean;
  if (to < 0) {
    // Broadcast: to the farthest lane (both ways when in the middle).
    to = from === lanes.length - 1 ? 0 : lanes.length - 1;
  }
  right = to > from;
  const x0 = from * LANE + LANE / 2;
  const x1 = to * LANE + LANE / 2;
  const lo = Math.min(x0, x1);
  const hi = Math.max(x0, x1);
  const fill = a.problem ? '=' : a.kind === 'forwarded' ? '~' : '-';
  for (let x = lo + 1; x < hi; x++) line[x] = fill;
  if (right) line[hi - 1] = '>';
  else line[lo + 1] = '<';
  if (a.to === 'broadcast' && from > 0 && from < lanes.length - 1) {
    for (let x = LANE / 2 + 1; x < x0; x++) line[x] = fill;
    line[LANE / 2 + 1] = '<';
  }
  const word = ` ${arrowWord(a)} `;
  const span = hi - lo - 3;
  if (span > 2) {
    const w = word.length > span ? word.slice(0, span) : word;
    const start = lo + 2 + Math.floor((span - w.length) / 2);
    for (let i = 0; i < w.length; i++) line[start + i] = w[i]!;
  }
  return line.join('');
}

export function renderFlowText(fl: Flow, ex: Explanation, o: TextOptions = {}): string[] {
  const roles = ex.roles;
  const out: string[] = [];
  const v = flowVerdict(fl, ex.findings);
  const reals = fl.realMacs.map((m) => roles.byMac.get(m)).filter((h) => h !== undefined).map((h) => `${hostLabel(h)}${h.ip && h.name ? ` ${h.ip}` : ''}`);
  out.push(`Flow ${fl.id}: ${endpoint(fl.clientIp, fl.clientPort)} → ${endpoint(fl.vip, fl.port)} (${fl.proto})` +
    `${reals.length ? ` served by ${reals.join(', ')}${fl.local ? ' (the director itself)' : ''}` : ''} — ${v.ok ? 'OK' : 'PROBLEM'}: ${v.text}`);
  const lanes = fl.lanes;
  const head1 = lanes.map((m) => center(hostLabel(roles.byMac.get(m) ?? { mac: m, ip: null, roles: [], name: null }), LANE)).join('');
  const head2 = lanes.map((m) => center(roleText(roles.byMac.get(m) ?? { mac: m, ip: null, roles: [], name: null }), LANE)).join('');
  out.push(`  ${' '.repeat(5)} ${' '.repeat(9)}  ${head1}`);
  out.push(`  ${' '.repeat(5)} ${' '.repeat(9)}  ${head2}`);
  out.push(`  ${pad('frame', 5)} ${'t (ms)'.padStart(9)}  ${lanes.map(() => center('|', LANE)).join('')}`);
  const max = o.maxArrows ?? 60;
  const t0 = fl.frames[0]?.timeMs ?? 0;
  fl.arrows.slice(0, max).forEach((a) => {
    const mark = a.problem ? '!' : ' ';
    out.push(`${mark} ${String(a.frame.n).padStart(5)} ${ms(a.frame.timeMs, t0)}  ${drawArrow(a, lanes)}  ${a.label}  ${a.detail}  [${a.macs}]`);
    for (const n of a.notes) out.push(`  ${' '.repeat(5)} ${' '.repeat(9)}  ${lanes.map(() => center('|', LANE)).join('')}    ${a.problem ? '!! ' : '· '}${n}`);
  });
  const all = fl.arrows.length + (fl.omitted ?? 0);
  if (all > max) out.push(`  … ${all - max} more frames`);
  return out;
}

export function renderRolesText(roles: Roles): string[] {
  const out: string[] = [];
  out.push(`Roles (${roles.source === 'config' ? 'VIPs and reals from the configuration, MACs from the capture' : 'inferred from ARP and MACs'}):`);
  for (const s of roles.services) out.push(`  ${pad('virtual service', 16)} ${s.proto} ${endpoint(s.vip, s.port)}`);
  if (roles.services.length === 0) out.push('  no virtual service found (no VIP: give --config, or capture traffic to the VIP)');
  for (const h of roles.hosts) {
    out.push(`  ${pad(roleText(h), 16)} ${pad(h.ip ?? '?', 15)} ${h.mac}${h.name ? `  (${h.name})` : ''}`);
  }
  return out;
}

export function renderText(ex: Explanation, o: TextOptions = {}): string {
  const out: string[] = [];
  out.push(`${ex.captures.length} capture(s): ${ex.captures.map((c) => `${c.name} (${c.frames} frames)`).join(', ')}; ${ex.distinctFrames ?? ex.frames.length} distinct frames on the wire, ${ex.totalFlows ?? ex.flows.length} connection(s) to a virtual service${(ex.totalFlows ?? 0) > ex.flows.length ? ` (the first ${ex.flows.length} in detail)` : ''}`);
  out.push('');
  out.push(...renderRolesText(ex.roles));
  out.push('');
  out.push('Legend: --> a frame (source MAC to destination MAC), ~~> forwarded by the director, ==> a problem (!)');
  for (const fl of ex.flows) {
    if (o.flows && !o.flows.includes(fl.id)) continue;
    out.push('');
    out.push(...renderFlowText(fl, ex, o));
  }
  if (ex.other.kinds.size) {
    out.push('');
    out.push('Other frames:');
    for (const [k, n] of ex.other.kinds) out.push(`  ${String(n).padStart(4)}  ${k}`);
  }
  out.push('');
  const problems = ex.findings.filter((f) => f.severity !== 'note');
  out.push(problems.length ? `Findings: ${problems.length} problem(s)` : 'Findings: no problem found');
  for (const f of ex.findings) {
    out.push(`  [${f.severity}] ${f.code}: ${f.title}`);
    out.push(`      ${f.detail}`);
    if (f.fix) out.push(`      fix: ${f.fix}`);
    if (f.frames.length) out.push(`      frames: ${f.frames.slice(0, 12).join(', ')}${f.frames.length > 12 ? ', …' : ''}${f.flows.length ? `; flows: ${f.flows.join(', ')}` : ''}`);
  }
  return out.join('\n');
}
