/**
 * Line lexer for ldirectord.cf: one statement per non-blank line, with its 1-based line number,
 * whether it is indented (belongs to the current virtual section) and `name = value` split.
 *
 * - `#` starts a comment when it is outside double quotes (ldirectord cuts at any `#` inside a
 *   virtual section, quotes or not; dsrlb keeps `receive="#ok"` intact).
 * - Spaces around `=` are allowed, as in ldirectord (`name\s*=\s*value`).
 * - Blank and comment-only lines are skipped and do not end a virtual section.
 */

export interface Diagnostics {
  error(code: string, line: number, message: string): void;
  warn(code: string, line: number, message: string): void;
}

export interface Stmt {
  line: number;
  indented: boolean;
  /** Directive name as written ('' for a line that could not be split). */
  name: string;
  /** Text after '=', trimmed, comment removed; null when the line has no '='. */
  value: string | null;
  /** The line was malformed (already reported); it still delimits virtual sections. */
  bad: boolean;
}

const STMT_RE = /^([A-Za-z][A-Za-z0-9_-]*)[ \t]*(?:=(.*))?$/s;

/** Removes a trailing comment. Returns null when a double quote is left open. */
export function stripComment(s: string): string | null {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) inQuote = !inQuote;
    else if (c === 35 /* # */ && !inQuote) return s.slice(0, i);
  }
  return inQuote ? null : s;
}

function show(s: string): string {
  const t = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return JSON.stringify(t);
}

export function lex(text: string, diag: Diagnostics): Stmt[] {
  const out: Stmt[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const indented = raw.length > 0 && (raw[0] === ' ' || raw[0] === '\t');
    const content = stripComment(raw);
    if (content === null) {
      diag.error('E_CONFIG_SYNTAX', lineNo, 'unterminated double quote');
      out.push({ line: lineNo, indented, name: '', value: null, bad: true });
      continue;
    }
    const trimmed = content.trim();
    if (trimmed === '') continue;
    const m = STMT_RE.exec(trimmed);
    if (!m) {
      diag.error('E_CONFIG_SYNTAX', lineNo, `expected directive=value, got ${show(trimmed)}`);
      out.push({ line: lineNo, indented, name: '', value: null, bad: true });
      continue;
    }
    const value = m[2] === undefined ? null : m[2].trim();
    out.push({ line: lineNo, indented, name: m[1]!, value, bad: false });
  }
  return out;
}
