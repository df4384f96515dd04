/**
 * The SVG and the HTML page are well-formed XML (our checker, and Python's expat parser when
 * python3 is there, as the set-up installs it) and draw what the explanation holds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderFlowSvg, renderHtml, renderSvg, xmlEscape } from '../../src/teach/index.ts';
import { explainScenario, MAC } from './helpers.ts';
import { checkXml } from './xml.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-teach-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
const python = hasPython();

/** Parses the file with expat (a real XML parser); throws with its message when not well-formed. */
function expat(text: string, name: string): void {
  const f = join(tmp, name);
  writeFileSync(f, text);
  execFileSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', f], { stdio: 'pipe', timeout: 20_000 });
}

describe.each(['healthy', 'arp-problem', 'offload'])('%s: SVG and HTML', (scenario) => {
  const ex = explainScenario(scenario);

  it('one flow\'s SVG is well-formed and has one arrow per frame', () => {
    const fl = ex.flows[0]!;
    const svg = renderFlowSvg(fl, ex);
    const r = checkXml(svg);
    expect(r.errors).toEqual([]);
    expect(r.root).toBe('svg');
    // Lanes are lines too; a broadcast from a middle lane draws two.
    const lines = r.elements.get('line') ?? 0;
    expect(lines).toBeGreaterThanOrEqual(fl.arrows.length + fl.lanes.length);
    expect(r.elements.get('marker')).toBeGreaterThan(0);
    for (const mac of fl.lanes) expect(svg).toContain(mac);
    for (const a of fl.arrows.slice(0, 5)) expect(svg).toContain(`#${a.frame.n}<`);
    if (python) expat(svg, `${scenario}-flow.svg`);
  });

  it('the stacked SVG of every flow is well-formed', () => {
    const svg = renderSvg(ex, { highlight: [ex.flows[0]!.arrows[0]!.frame.n] });
    expect(checkXml(svg).errors).toEqual([]);
    expect(svg).toContain('#fef3c7');
    if (python) expat(svg, `${scenario}.svg`);
  });

  it('the HTML page is well-formed, self-contained, and holds the ladders and the findings', () => {
    const html = renderHtml(ex);
    const r = checkXml(html);
    expect(r.errors).toEqual([]);
    expect(r.root).toBe('html');
    expect(r.elements.get('svg')).toBe(ex.flows.length);
    expect(r.elements.get('script')).toBeUndefined();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const f of ex.findings) expect(html).toContain(`data-code="${f.code}"`);
    if (python) expat(html, `${scenario}.html`);
  });
});

describe('escaping', () => {
  it('escapes names and texts', () => {
    expect(xmlEscape(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    const ex = explainScenario('healthy', { names: { [MAC.www1]: 'dir<&>"1' } });
    const svg = renderFlowSvg(ex.flows[0]!, ex);
    expect(checkXml(svg).errors).toEqual([]);
    expect(svg).toContain('dir&lt;&amp;&gt;&quot;1');
    expect(checkXml(renderHtml(ex, { title: 'T & <x>' })).errors).toEqual([]);
  });

  it('the checker itself rejects what is not well-formed', () => {
    expect(checkXml('<svg><g></svg>').errors.length).toBeGreaterThan(0);
    expect(checkXml('<svg a="1" a="2"/>').errors.length).toBeGreaterThan(0);
    expect(checkXml('<svg>&nbsp;</svg>').errors.length).toBeGreaterThan(0);
    expect(checkXml('<svg>1 < 2</svg>').errors.length).toBeGreaterThan(0);
    expect(checkXml('<a/><b/>').errors.length).toBeGreaterThan(0);
    expect(checkXml('<!DOCTYPE html><html><body/></html>').errors).toEqual([]);
  });
});
