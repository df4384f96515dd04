/**
 * A small XML well-formedness check for the SVG and HTML that teach/ writes: one root element,
 * every tag closed in order, attributes quoted and unique, only the five predefined entities or
 * character references, no '<' or stray '&' in text. Comments, processing instructions, CDATA
 * and one DOCTYPE before the root are allowed. Returns the problems found (empty: well-formed) and
 * the element names seen, so tests can also ask "is there an <svg> with <line>s in it".
 */
export interface XmlCheck {
  errors: string[];
  elements: Map<string, number>;
  root: string | null;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;

function checkText(s: string, at: number, errors: string[]): void {
  if (s.includes('<')) errors.push(`'<' in text at ${at}`);
  const re = /&([^;\s]*);?/g;
  for (const m of s.matchAll(re)) {
    const ent = m[0];
    if (!/^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);$/.test(ent)) errors.push(`bad entity ${JSON.stringify(ent.slice(0, 12))} at ${at + (m.index ?? 0)}`);
  }
}

export function checkXml(src: string): XmlCheck {
  const errors: string[] = [];
  const elements = new Map<string, number>();
  const stack: string[] = [];
  let root: string | null = null;
  let closedRoot = false;
  let i = 0;
  while (i < src.length && errors.length < 20) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    const txt = src.slice(i, textEnd);
    if (txt.trim() !== '') {
      if (stack.length === 0) errors.push(`text outside the root element at ${i}: ${JSON.stringify(txt.trim().slice(0, 20))}`);
      checkText(txt, i, errors);
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) { errors.push(`unterminated comment at ${i}`); break; }
      i = end + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i);
      if (end < 0) { errors.push(`unterminated CDATA at ${i}`); break; }
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i);
      if (end < 0) { errors.push(`unterminated processing instruction at ${i}`); break; }
      i = end + 2;
      continue;
    }
    if (src.startsWith('<!DOCTYPE', i) || src.startsWith('<!doctype', i)) {
      if (root !== null) errors.push(`DOCTYPE after the root at ${i}`);
      const end = src.indexOf('>', i);
      if (end < 0) { errors.push(`unterminated DOCTYPE at ${i}`); break; }
      i = end + 1;
      continue;
    }
    // A tag: find its end, honouring quotes.
    let j = i + 1;
    let quote = '';
    while (j < src.length) {
      const c = src[j]!;
      if (quote) {
        if (c === quote) quote = '';
        else if (c === '<') { errors.push(`'<' inside an attribute value at ${j}`); }
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
      j++;
    }
    if (j >= src.length) { errors.push(`unterminated tag at ${i}`); break; }
    const body = src.slice(i + 1, j);
    i = j + 1;
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      const open = stack.pop();
      if (open !== name) errors.push(`</${name}> closes <${open ?? 'nothing'}> at ${j}`);
      if (stack.length === 0) closedRoot = true;
      continue;
    }
    const selfClosing = body.endsWith('/');
    const inner = selfClosing ? body.slice(0, -1) : body;
    const nm = NAME.exec(inner);
    if (!nm) { errors.push(`bad tag name at ${j}: ${JSON.stringify(inner.slice(0, 20))}`); continue; }
    const name = nm[0];
    if (stack.length === 0) {
      if (root !== null || closedRoot) errors.push(`second root element <${name}> at ${j}`);
      root ??= name;
    }
    elements.set(name, (elements.get(name) ?? 0) + 1);
    let rest = inner.slice(name.length);
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(rest)![0];
      rest = rest.slice(ws.length);
      if (rest === '') break;
      if (ws === '') { errors.push(`attributes of <${name}> not separated at ${j}`); break; }
      const m = /^([A-Za-z_:][A-Za-z0-9_.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
      if (!m) { errors.push(`bad attribute in <${name}> at ${j}: ${JSON.stringify(rest.slice(0, 24))}`); break; }
      if (seen.has(m[1]!)) errors.push(`attribute ${m[1]} repeated in <${name}> at ${j}`);
      seen.add(m[1]!);
      checkText(m[3] ?? m[4] ?? '', j, errors);
      rest = rest.slice(m[0].length);
    }
    if (!selfClosing) stack.push(name);
    else if (stack.length === 0) closedRoot = true;
  }
  if (stack.length) errors.push(`unclosed: ${stack.map((s) => `<${s}>`).join(' ')}`);
  if (root === null) errors.push('no root element');
  return { errors, elements, root };
}
