/**
 * From keepalived.conf's logical lines to a tree of statements: words split as keepalived's
 * alloc_strvec_quoted_escaped() splits them (blanks separate words; "..." and '...' quote, the quotes
 * themselves are dropped; backslash escapes \n \t \xHH \NNN ...), and a statement followed by a `{`
 * line owns the statements up to the matching `}`. Pure.
 */
import type { LineDiagnostics, SourceLine } from './lines.ts';

export interface Stmt {
  file: string;
  line: number;
  /** The keyword (first word). */
  name: string;
  /** The words after the keyword. */
  args: string[];
  /** The statements of its `{ ... }` block; null when it has no block. */
  block: Stmt[] | null;
}

const ESC: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Splits a line into words; null (after reporting) on an unterminated quote. */
export function splitWords(s: string): string[] | { error: string } {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    let w = '';
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') {
        i++;
        if (i >= s.length) return { error: 'a backslash ends the line' };
        const n = s[i]!;
        if (n === 'x' && /[0-9a-fA-F]/.test(s[i + 1] ?? '')) {
          let v = 0;
          while (/[0-9a-fA-F]/.test(s[i + 1] ?? '')) v = ((v << 4) | parseInt(s[++i]!, 16)) & 0xff;
          w += String.fromCharCode(v);
        } else if (n === 'c' && i + 1 < s.length) {
          w += String.fromCharCode(s.charCodeAt(++i) & 0x1f);
        } else if (n >= '0' && n <= '7') {
          let v = Number(n);
          for (let k = 0; k < 2 && (s[i + 1] ?? '') >= '0' && (s[i + 1] ?? '') <= '7'; k++) v = v * 8 + Number(s[++i]);
          w += String.fromCharCode(v & 0xff);
        } else w += ESC[n] ?? n;
        continue;
      }
      if (quote !== null) {
        if (c === quote) quote = null;
        else w += c;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        continue;
      }
      if (c === ' ' || c === '\t') break;
      w += c;
    }
    if (quote !== null) return { error: `missing terminating ${quote}` };
    words.push(w);
  }
  return words;
}

/** Builds the statement tree; reports unbalanced braces and unterminated quotes. */
export function buildTree(lines: readonly SourceLine[], diag: LineDiagnostics): Stmt[] {
  const root: Stmt[] = [];
  const stack: { list: Stmt[]; opener: Stmt | null }[] = [{ list: root, opener: null }];
  let last: Stmt | null = null;
  for (const l of lines) {
    const top = stack[stack.length - 1]!;
    if (l.text === '{') {
      if (last === null || last.block !== null) {
        diag.error('E_CONFIG_SYNTAX', l.file, l.line, "'{' does not follow a keyword");
        // Still open a level, so that the matching '}' balances.
        const anon: Stmt = { file: l.file, line: l.line, name: '', args: [], block: [] };
        stack.push({ list: anon.block!, opener: anon });
      } else {
        last.block = [];
        stack.push({ list: last.block, opener: last });
      }
      last = null;
      continue;
    }
    if (l.text === '}') {
      if (stack.length === 1) diag.error('E_CONFIG_SYNTAX', l.file, l.line, "extra '}'");
      else stack.pop();
      last = null;
      continue;
    }
    const w = splitWords(l.text);
    if (!Array.isArray(w)) {
      diag.error('E_CONFIG_SYNTAX', l.file, l.line, `${w.error} in ${JSON.stringify(l.text)}`);
      last = null;
      continue;
    }
    if (w.length === 0) continue;
    const st: Stmt = { file: l.file, line: l.line, name: w[0]!, args: w.slice(1), block: null };
    top.list.push(st);
    last = st;
  }
  for (let i = stack.length - 1; i > 0; i--) {
    const o = stack[i]!.opener!;
    diag.error('E_CONFIG_SYNTAX', o.file, o.line, `the block of ${o.name || "'{'"} is never closed (missing '}')`);
  }
  return root;
}
