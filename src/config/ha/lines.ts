/**
 * Line splitting shared by the heartbeat files (ha.cf, haresources, authkeys): `#` starts a comment
 * anywhere on a line, fields are separated by blanks, and (haresources only) a trailing backslash
 * continues the statement on the next line. Each statement keeps the 1-based line it starts on.
 */

export interface HaLine {
  line: number;
  fields: string[];
}

export function splitLines(text: string, continuation: boolean): HaLine[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raw = body.split('\n');
  const out: HaLine[] = [];
  let pending: HaLine | null = null;
  for (let i = 0; i < raw.length; i++) {
    let s = raw[i]!;
    if (s.endsWith('\r')) s = s.slice(0, -1);
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    let cont = false;
    if (continuation && /\\\s*$/.test(s)) {
      cont = true;
      s = s.replace(/\\\s*$/, '');
    }
    const fields = s.split(/[ \t]+/).filter((f) => f !== '');
    if (pending) pending.fields.push(...fields);
    else if (fields.length > 0 || cont) pending = { line: i + 1, fields };
    if (!cont && pending) {
      if (pending.fields.length > 0) out.push(pending);
      pending = null;
    }
  }
  if (pending && pending.fields.length > 0) out.push(pending);
  return out;
}

/** Collects every error and warning of one heartbeat file (see ../diagnostics.ts). */
export { DiagnosticCollector as HaDiag } from '../diagnostics.ts';
