/**
 * Tests that cannot look green when they are not (docs/design/conventions.md, "Testing"). Every
 * test/**\/*.ts file is parsed (TypeScript's own parser) and these are refused:
 * - a skip (`it.skip`, `describe.skip`, `.skipIf`, `.runIf`, `.todo`, `.only`, `ctx.skip(...)`)
 *   anywhere but in the approved condition helper test/helpers/root.ts (root-only suites fail
 *   under CI), unless ALLOWED below names the file, the exact call and why;
 * - a `try` whose block asserts and whose `catch` does not rethrow (it swallows the assertion
 *   error), and any `expect` inside a `catch` (it runs only when something threw: use
 *   `expect(() => …).toThrow(…)` or `rejects`);
 * - a test body whose every `expect` sits under an `if`, a `? :`, `&&`/`||` or a `catch`: the
 *   test passes without asserting when the condition is false.
 * The checks themselves are tested on planted snippets at the end.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));
const SELF = 'arch/honesty.test.ts';

/** Approved skip helpers: the only files where skip/runIf/skipIf may appear at all. */
const SKIP_HELPERS = ['helpers/root.ts'];

/** Named exceptions: file (relative to test/), the call's text (its start), and why it is honest. */
const ALLOWED: { file: string; rule: Rule; call: string; why: string }[] = [
  {
    file: 'io/host-checks.ns.test.ts',
    rule: 'skip',
    call: 'ctx.skip(checkoutUnreadableByNobody()',
    why: 'the unprivileged-user test cannot run when uid 65534 cannot read the checkout (e.g. under /root); ' +
      'the condition is asked of the kernel as that uid, and any other failure of the probe fails the test',
  },
];

type Rule = 'skip' | 'swallow' | 'catch-expect' | 'if-only';
interface Finding {
  file: string;
  line: number;
  rule: Rule;
  text: string;
}

const SKIP_MEMBERS = new Set(['skip', 'skipIf', 'runIf', 'todo', 'only']);
const TEST_FNS = new Set(['it', 'test', 'itAsRoot']);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts)$/.test(n) ? [p] : [];
  });
}

const isExpectCall = (n: ts.Node): boolean => {
  if (!ts.isCallExpression(n)) return false;
  let e: ts.Expression = n.expression;
  while (ts.isPropertyAccessExpression(e) || ts.isCallExpression(e)) e = ts.isCallExpression(e) ? e.expression : e.expression;
  return ts.isIdentifier(e) && e.text === 'expect';
};

function contains(n: ts.Node, pred: (x: ts.Node) => boolean): boolean {
  let found = false;
  const visit = (x: ts.Node): void => {
    if (found) return;
    if (pred(x)) found = true;
    else ts.forEachChild(x, visit);
  };
  visit(n);
  return found;
}

function collect(n: ts.Node, pred: (x: ts.Node) => boolean): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (x: ts.Node): void => {
    if (pred(x)) out.push(x);
    ts.forEachChild(x, visit);
  };
  visit(n);
  return out;
}

/** Whether `n` runs only on some branch between itself and `root`. */
function conditional(n: ts.Node, root: ts.Node): boolean {
  for (let c = n, p = n.parent; p && c !== root; c = p, p = p.parent) {
    if (ts.isIfStatement(p) && c !== p.expression) {
      // if/else asserting on both sides covers every path at this level.
      const other = c === p.thenStatement ? p.elseStatement : p.thenStatement;
      if (!other || !alwaysAsserts(other)) return true;
      continue;
    }
    if (ts.isConditionalExpression(p) && c !== p.condition) return true;
    if (ts.isCatchClause(p)) return true;
    if (ts.isBinaryExpression(p) && c === p.right && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(p.operatorToken.kind)) return true;
  }
  return false;
}

/** Whether every path through `n` runs an expect. */
function alwaysAsserts(n: ts.Node): boolean {
  return collect(n, isExpectCall).some((x) => !conditional(x, n));
}

/** The member chain of a callee: `describe.skipIf(x)` → ['describe', 'skipIf']. */
function chain(e: ts.Expression): string[] {
  if (ts.isIdentifier(e)) return [e.text];
  if (ts.isPropertyAccessExpression(e)) return [...chain(e.expression), e.name.text];
  if (ts.isCallExpression(e)) return chain(e.expression);
  return [];
}

export function findings(file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Finding[] = [];
  const add = (n: ts.Node, rule: Rule) => {
    const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    out.push({ file, line, rule, text: n.getText(sf).split('\n')[0]!.slice(0, 120) });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const c = chain(n.expression);
      // it.skip / describe.runIf(...) / test.only ... and ctx.skip(...): the last member names it.
      if (c.length >= 2 && (SKIP_MEMBERS.has(c[c.length - 1]!) || c.slice(1).some((m) => SKIP_MEMBERS.has(m)))) {
        if (!ts.isCallExpression(n.parent) || n.parent.expression !== n) add(n, 'skip');
      }
      const callee = ts.isIdentifier(n.expression) ? n.expression.text : '';
      if (TEST_FNS.has(callee)) {
        const body = n.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a));
        if (body) {
          const expects = collect(body, isExpectCall);
          if (expects.length > 0 && expects.every((x) => conditional(x, body))) add(n, 'if-only');
        }
      }
    }
    if (ts.isTryStatement(n) && n.catchClause) {
      const rethrows = contains(n.catchClause.block, (x) => ts.isThrowStatement(x));
      if (contains(n.tryBlock, isExpectCall) && !rethrows) add(n, 'swallow');
      if (contains(n.catchClause.block, isExpectCall)) add(n.catchClause, 'catch-expect');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function allowed(f: Finding): boolean {
  if (f.rule === 'skip' && SKIP_HELPERS.includes(f.file)) return true;
  return ALLOWED.some((a) => a.file === f.file && a.rule === f.rule && f.text.startsWith(a.call));
}

describe('test honesty', () => {
  const files = walk(TEST_DIR).map((p) => relative(TEST_DIR, p)).filter((r) => r !== SELF);
  const all = files.flatMap((r) => findings(r, readFileSync(join(TEST_DIR, r), 'utf8')));
  const show = (fs: Finding[]) => fs.map((f) => `test/${f.file}:${f.line} [${f.rule}] ${f.text}`);

  it('scans the test tree (this file excepted: it names the patterns it looks for)', () => {
    expect(files.length).toBeGreaterThan(90);
    expect(files).toContain('io/host-checks.ns.test.ts');
  });

  it('no skip outside the approved root gate and the named exceptions', () => {
    expect(show(all.filter((f) => f.rule === 'skip' && !allowed(f)))).toEqual([]);
  });

  it('no catch swallows an assertion error, no expect runs only in a catch', () => {
    expect(show(all.filter((f) => (f.rule === 'swallow' || f.rule === 'catch-expect') && !allowed(f)))).toEqual([]);
  });

  it('no test whose every expect is under a condition', () => {
    expect(show(all.filter((f) => f.rule === 'if-only' && !allowed(f)))).toEqual([]);
  });

  it('every named exception is still needed (its file still has that call) and is named in the conventions', () => {
    const conventions = readFileSync(join(TEST_DIR, '../docs/design/conventions.md'), 'utf8');
    for (const a of ALLOWED) {
      expect(all.some((f) => f.file === a.file && f.rule === a.rule && f.text.startsWith(a.call)), `${a.file}: ${a.call}`).toBe(true);
      expect(conventions).toContain(`test/${a.file}`);
    }
  });

  it('the checks themselves: each pattern planted in a snippet is reported, the honest forms are not', () => {
    const rules = (src: string) => findings('planted.test.ts', src).map((f) => f.rule);
    expect(rules("describe.runIf(isRoot())('x', () => {});")).toEqual(['skip']);
    expect(rules("describe.skipIf(!root)('x', () => {});")).toEqual(['skip']);
    expect(rules("it.skip('x', () => { expect(1).toBe(1); });")).toEqual(['skip']);
    expect(rules("it.only('x', () => { expect(1).toBe(1); });")).toEqual(['skip']);
    expect(rules("it('x', (ctx) => { ctx.skip(); expect(1).toBe(1); });")).toEqual(['skip']);
    expect(rules("it('x', () => { try { expect(f()).toBe(1); } catch { /* flaky */ } });")).toEqual(['swallow']);
    expect(rules("it('x', () => { try { f(); } catch (e) { expect(e.code).toBe('E_X'); } });")).toEqual(['if-only', 'catch-expect']);
    expect(rules("it('x', () => { if (f()) expect(1).toBe(1); else if (g()) expect(2).toBe(2); });")).toEqual(['if-only']);
    expect(rules("it('x', () => { const v = f(); if (v) { expect(v).toBe(1); } });")).toEqual(['if-only']);
    expect(rules("it('x', () => { const v = f(); v && expect(v).toBe(1); });")).toEqual(['if-only']);
    expect(rules("it('x', () => { for (const v of f()) if (v.bad) expect(v.why).toBe(''); });")).toEqual(['if-only']);
    // Honest forms: unconditional expects (one may also be conditional), try/finally, a rethrow.
    expect(rules("it('x', () => { expect(() => f()).toThrow(expect.objectContaining({ code: 'E_X' })); });")).toEqual([]);
    expect(rules("it('x', () => { let n = 0; if (g()) { n++; expect(n).toBe(1); } expect(n).toBeGreaterThan(0); });")).toEqual([]);
    expect(rules("it('x', async () => { try { expect(await f()).toBe(1); } finally { done(); } });")).toEqual([]);
    expect(rules("it('x', () => { try { expect(f()).toBe(1); } catch (e) { log(e); throw e; } });")).toEqual([]);
    expect(rules("it('x', () => { if (expect(f()).toBe(1)) g(); });")).toEqual([]);
    expect(rules("it('x', () => { const o = f(); if (o.ok) { expect(o.v).toBe(1); } else { expect(o.error).toBeDefined(); } });")).toEqual([]);
    expect(rules("describeAsRoot('x', () => { it('y', () => { expect(1).toBe(1); }); });")).toEqual([]);
  });
});
