/**
 * The explanation as one self-contained HTML page (inline CSS and SVG, no script, no external
 * resource): summary, roles, findings with their fixes, each flow's ladder, the text ladder for
 * copying, and a legend. Written as well-formed XML so that it can be checked like the SVG.
 */
import type { Explanation } from './explain.ts';
import { flowVerdict } from './explain.ts';
import { ARROW_COLORS, ARROW_MEANING, renderFlowSvg, xmlEscape as esc, type SvgOptions } from './svg.ts';
import { renderFlowText } from './text.ts';
import { roleText } from './roles.ts';
import { endpoint, type ArrowKind } from './flows.ts';

export interface HtmlOptions extends SvgOptions {
  title?: string;
  flows?: readonly number[];
}

const CSS = `
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; margin: 24px; color: #111827; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 18px; margin: 28px 0 6px 0; }
p.sub { color: #4b5563; margin: 0 0 16px 0; }
table { border-collapse: collapse; margin: 8px 0; background: #fff; }
td, th { border: 1px solid #d1d5db; padding: 4px 10px; text-align: left; font-size: 13px; }
th { background: #f3f4f6; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
pre { background: #fff; border: 1px solid #d1d5db; padding: 8px; overflow-x: auto; }
.finding { border-left: 5px solid #9ca3af; background: #fff; padding: 8px 12px; margin: 8px 0; }
.finding.problem { border-color: #dc2626; }
.finding.warning { border-color: #d97706; }
.finding .fix { margin-top: 4px; }
.ok { color: #047857; font-weight: bold; }
.bad { color: #dc2626; font-weight: bold; }
.ladder { background: #fff; border: 1px solid #d1d5db; overflow-x: auto; padding: 4px; }
.ladder svg { max-width: 100%; height: auto; }
.swatch { display: inline-block; width: 28px; height: 4px; vertical-align: middle; margin-right: 6px; }
`;

export function renderHtml(ex: Explanation, o: HtmlOptions = {}): string {
  const title = o.title ?? 'dsrlb explain: how these packets travelled';
  const flows = ex.flows.filter((fl) => !o.flows || o.flows.includes(fl.id));
  const problems = ex.findings.filter((f) => f.severity !== 'note');
  const h: string[] = [];
  h.push('<!DOCTYPE html>');
  h.push('<html lang="en" xmlns="http://www.w3.org/1999/xhtml">');
  h.push('<head>');
  h.push('<meta charset="utf-8"/>');
  h.push('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  h.push(`<title>${esc(title)}</title>`);
  h.push(`<style>${CSS}</style>`);
  h.push('</head>');
  h.push('<body>');
  h.push(`<h1>${esc(title)}</h1>`);
  h.push(`<p class="sub">${esc(`${ex.captures.length} capture(s): ${ex.captures.map((c) => `${c.name} (${c.frames} frames)`).join(', ')} — ${ex.distinctFrames ?? ex.frames.length} distinct frames on the wire, ${ex.totalFlows ?? ex.flows.length} connection(s) to a virtual service${(ex.totalFlows ?? 0) > ex.flows.length ? ` (the first ${ex.flows.length} in detail)` : ''}.`)}</p>`);
  h.push(`<p id="verdict" class="${problems.length ? 'bad' : 'ok'}">${esc(problems.length ? `${problems.length} problem(s) found` : 'No problem found: direct server return as it should be.')}</p>`);

  h.push('<h2>Roles</h2>');
  h.push(`<p class="sub">${esc(ex.roles.source === 'config' ? 'Virtual services and real servers from the configuration; MACs from the capture.' : 'Inferred from the capture: who forwards, who answers ARP, who sends from the VIP.')}</p>`);
  h.push('<table id="roles"><tr><th>role</th><th>address</th><th>MAC</th><th>name</th></tr>');
  for (const s of ex.roles.services) h.push(`<tr><td>virtual service</td><td>${esc(`${s.proto} ${endpoint(s.vip, s.port)}`)}</td><td></td><td></td></tr>`);
  for (const x of ex.roles.hosts) h.push(`<tr><td>${esc(roleText(x))}</td><td>${esc(x.ip ?? '?')}</td><td><code>${esc(x.mac)}</code></td><td>${esc(x.name ?? '')}</td></tr>`);
  h.push('</table>');

  h.push('<h2>Findings</h2>');
  if (ex.findings.length === 0) h.push('<p>Nothing to report.</p>');
  for (const f of ex.findings) {
    h.push(`<div class="finding ${f.severity}" data-code="${esc(f.code)}">`);
    h.push(`<div><b>${esc(f.severity)}</b> <code>${esc(f.code)}</code>: ${esc(f.title)}</div>`);
    h.push(`<div>${esc(f.detail)}</div>`);
    if (f.fix) h.push(`<div class="fix">fix: <code>${esc(f.fix)}</code></div>`);
    if (f.frames.length) h.push(`<div class="sub">frames ${esc(f.frames.slice(0, 20).join(', '))}${f.frames.length > 20 ? ' …' : ''}${f.flows.length ? `; flows ${esc(f.flows.join(', '))}` : ''}</div>`);
    h.push('</div>');
  }

  h.push('<h2>Legend</h2>');
  h.push('<table>');
  for (const k of Object.keys(ARROW_MEANING) as ArrowKind[]) {
    if (k === 'other') continue;
    h.push(`<tr><td><span class="swatch" style="background:${ARROW_COLORS[k]}"></span></td><td>${esc(ARROW_MEANING[k])}</td></tr>`);
  }
  h.push(`<tr><td><span class="swatch" style="background:${ARROW_COLORS.problem}"></span></td><td>a problem (thick red)</td></tr>`);
  h.push('</table>');

  for (const fl of flows) {
    const v = flowVerdict(fl, ex.findings);
    h.push(`<h2 id="flow-${fl.id}">${esc(`Flow ${fl.id}: ${endpoint(fl.clientIp, fl.clientPort)} → ${endpoint(fl.vip, fl.port)}`)} <span class="${v.ok ? 'ok' : 'bad'}">${esc(v.ok ? 'OK' : v.text)}</span></h2>`);
    h.push(`<div class="ladder">${renderFlowSvg(fl, ex, o)}</div>`);
    h.push(`<details><summary>the same ladder as text</summary><pre>${esc(renderFlowText(fl, ex, o).join('\n'))}</pre></details>`);
  }
  if (flows.length === 0) h.push('<p>No connection to a virtual service in these captures.</p>');
  if (ex.other.kinds.size) {
    h.push('<h2>Other frames</h2><table><tr><th>frames</th><th>what</th></tr>');
    for (const [k, n] of ex.other.kinds) h.push(`<tr><td>${n}</td><td>${esc(k)}</td></tr>`);
    h.push('</table>');
  }
  h.push('</body>');
  h.push('</html>');
  return h.join('\n') + '\n';
}
