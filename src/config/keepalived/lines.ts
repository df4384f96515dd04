/**
 * keepalived.conf's line layer, as keepalived 2.2's lib/parser.c read_line() has it: every file of
 * an `include` glob in turn, comments (`#`, `!` outside double quotes; `\#` `\!` escape them),
 * `@ID` / `@^ID` lines (kept only when the configuration id matches / does not match), `$NAME=value`
 * definitions (a trailing `\` continues a multi-line one) and `$NAME` / `${NAME}` substitution, and a
 * line cut before and after its first `{` or `}` outside quotes (so `x {` and `} }` are separate
 * lines). Pure: files are read through the FileSource given.
 *
 * Not implemented (refused with E_CONFIG_UNSUPPORTED, never misread): `~SEQ(...)`/`~LST(...)`
 * repetition, definitions with parameters (`$NAME(a,b)`), and the include variants
 * `includer`/`includem`/`includew`/`includeb`/`includea` (read as plain `include`).
 */

/** How the parser reads files: a path (already absolute) to its text, null when it cannot. */
export interface FileSource {
  read(path: string): string | null;
  /** The files a glob pattern matches, sorted (like glob(3)); [] when none. */
  glob(pattern: string): string[];
  /** Directory name of a path ('.'-free), for relative includes. */
  dirname(path: string): string;
}

export interface SourceLine {
  file: string;
  line: number;
  text: string;
}

export interface LineDiagnostics {
  error(code: string, file: string, line: number, message: string): void;
  warn(code: string, file: string, line: number, message: string): void;
}

export interface LineOptions {
  /** keepalived's `-i ID` (config_id); null when not given, as then every `@ID` line is skipped. */
  configId: string | null;
}

const MAX_INCLUDE_DEPTH = 32;
const MAX_LINES = 200_000;

/** keepalived's decomment(): strips comments and surrounding blanks; reports an open quote. */
export function decomment(s: string): { text: string; openQuote: boolean; continued: boolean } {
  let out = '';
  let quote = false;
  let continued = false;
  const t = s.replace(/^[ \t]+/, '');
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === '"') {
      quote = !quote;
      out += c;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= t.length) {
        continued = true;
        break;
      }
      const n = t[i + 1]!;
      if (!quote && (n === '#' || n === '!')) out += n;
      else out += c + n;
      i++;
      continue;
    }
    if (!quote && (c === '#' || c === '!')) break;
    out += c;
  }
  return { text: out.replace(/[ \t]+$/, ''), openQuote: quote, continued };
}

interface Definition {
  value: string;
  multiline: boolean;
}

const STD_DEFS: Record<string, string> = { _HASH: '#', _BANG: '!' };

export class LineReader {
  private readonly defs = new Map<string, Definition>();
  private readonly out: SourceLine[] = [];
  private depth = 0;

  constructor(private readonly src: FileSource, private readonly diag: LineDiagnostics, private readonly opts: LineOptions) {
    for (const [k, v] of Object.entries(STD_DEFS)) this.defs.set(k, { value: v, multiline: false });
  }

  /** Every logical line of `file` and what it includes, in keepalived's order. */
  readAll(file: string, text: string): SourceLine[] {
    this.readFile(file, text);
    return this.out;
  }

  private readFile(file: string, text: string): void {
    const raw = text.split('\n');
    let pendingDef: { name: string; def: Definition } | null = null;
    for (let i = 0; i < raw.length; i++) {
      if (this.out.length > MAX_LINES) {
        this.diag.error('E_CONFIG_SYNTAX', file, i + 1, `more than ${MAX_LINES} lines after expansion: stopping`);
        return;
      }
      const lineNo = i + 1;
      const stripped = raw[i]!.replace(/\r+$/, '');
      if (pendingDef) {
        // A multi-line definition goes on while lines end with '\'.
        if (stripped.trim() === '') {
          pendingDef = null;
          continue;
        }
        const d = decomment(stripped);
        if (d.text !== '') pendingDef.def.value += (pendingDef.def.value === '' ? '' : '\n') + d.text;
        if (!d.continued) pendingDef = null;
        continue;
      }
      if (stripped.trim() === '') continue;
      const d = decomment(stripped);
      if (d.openQuote) this.diag.error('E_CONFIG_SYNTAX', file, lineNo, `unterminated double quote in ${show(d.text)}`);
      let textLine = d.text;
      if (textLine === '') continue;
      // @ID / @^ID, then a definition, then substitution (which may produce another @ or $).
      for (let guard = 0; guard < 16; guard++) {
        if (textLine.startsWith('@')) {
          const rev = textLine[1] === '^';
          const m = /^@\^?(\S*)[ \t]+(.*)$/.exec(textLine);
          if (!m) {
            textLine = '';
            break;
          }
          const matches = this.opts.configId !== null && m[1] === this.opts.configId;
          if (matches === rev) {
            textLine = '';
            break;
          }
          textLine = m[2]!;
        }
        if (textLine.startsWith('$')) {
          const dm = /^\$([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$/.exec(textLine);
          if (dm) {
            let value = dm[2]!;
            const multi = d.continued;
            value = value.replace(/[ \t]+$/, '');
            const def: Definition = { value, multiline: multi };
            this.defs.set(dm[1]!, def);
            if (multi) pendingDef = { name: dm[1]!, def };
            textLine = '';
            break;
          }
        }
        if (/^~(SEQ|LST)\b/.test(textLine)) {
          this.diag.error('E_CONFIG_UNSUPPORTED', file, lineNo, `${textLine.slice(0, 4)}(...) repetition is not supported by dsrlb: write the lines out`);
          textLine = '';
          break;
        }
        if (!textLine.includes('$')) break;
        const r = this.substitute(textLine, file, lineNo);
        if (r === null) break;
        textLine = r;
        if (!textLine.startsWith('@') && !textLine.includes('$')) break;
      }
      if (textLine === '') continue;
      // A substitution may bring several lines (a multi-line definition); keepalived decomments the
      // substituted text again, and only then.
      for (const piece of textLine.split('\n')) {
        const p = textLine === d.text ? piece : decomment(piece).text;
        if (p === '') continue;
        const inc = /^include([rmwba]?)[ \t]+(.*)$/.exec(p);
        if (inc) {
          this.include(file, lineNo, inc[2]!.trim());
          continue;
        }
        this.pushSplit(file, lineNo, p);
      }
    }
  }

  /** Replaces every known $NAME / ${NAME}; null when nothing was replaced. */
  private substitute(s: string, file: string, line: number): string | null {
    let changed = false;
    const r = s.replace(/\$(\{([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?\}|([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?)/g, (all, _b, n1, p1, n2, p2) => {
      const name = (n1 ?? n2) as string;
      const def = this.defs.get(name);
      if (!def) return all;
      if (p1 !== undefined || p2 !== undefined) {
        this.diag.error('E_CONFIG_UNSUPPORTED', file, line, `definition $${name} is used with parameters, which dsrlb does not support`);
        return '';
      }
      changed = true;
      return def.value;
    });
    return changed ? r : null;
  }

  private include(file: string, line: number, pattern: string): void {
    if (pattern === '') {
      this.diag.error('E_CONFIG_SYNTAX', file, line, 'include: no file given');
      return;
    }
    if (this.depth >= MAX_INCLUDE_DEPTH) {
      this.diag.error('E_CONFIG_SYNTAX', file, line, `include nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`);
      return;
    }
    const words = pattern.split(/[ \t]+/);
    for (const w of words) {
      const pat = w.startsWith('/') ? w : `${this.src.dirname(file)}/${w}`;
      const files = this.src.glob(pat);
      if (files.length === 0) {
        // keepalived: "Unable to find config file(s)", and it goes on.
        this.diag.warn('E_CONFIG_NOT_FOUND', file, line, `include ${w}: no file matches`);
        continue;
      }
      for (const f of files) {
        const t = this.src.read(f);
        if (t === null) {
          this.diag.error('E_CONFIG_READ', file, line, `include ${w}: cannot read ${f}`);
          continue;
        }
        this.depth++;
        this.readFile(f, t);
        this.depth--;
      }
    }
  }

  /** Cuts a line before and after its first '{' or '}' outside double quotes, as read_line() does. */
  private pushSplit(file: string, line: number, text: string): void {
    let t = text;
    for (let guard = 0; guard < 10_000 && t !== ''; guard++) {
      let idx = -1;
      let q = false;
      for (let i = 0; i < t.length; i++) {
        const c = t[i];
        if (c === '"') q = !q;
        else if (!q && (c === '{' || c === '}')) {
          idx = i;
          break;
        }
      }
      if (idx < 0) {
        this.out.push({ file, line, text: t });
        return;
      }
      if (idx > 0) {
        this.out.push({ file, line, text: t.slice(0, idx).replace(/[ \t]+$/, '') });
        t = t.slice(idx);
        continue;
      }
      this.out.push({ file, line, text: t[0]! });
      t = t.slice(1).replace(/^[ \t]+/, '');
    }
  }
}

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
