/**
 * Groups the lexed statements into the global section and the virtual sections, checks each
 * directive's name and place, and parses its value. Nothing is resolved here (see resolve.ts):
 * a section is a bag of parsed values with their lines.
 *
 * A virtual section is every indented line after a `virtual=` line, up to the next line that starts
 * in column 0. ldirectord wants 4 spaces or a tab and also ends a section at a blank line; dsrlb takes
 * any indentation and lets blank and comment lines sit inside a section.
 */
import { DIRECTIVES, REFUSED, isKnownName, netmask6 } from './directives.ts';
import type { Diagnostics, Stmt } from './lexer.ts';
import { hostPort, hostPort6, show, uint, type At } from './values.ts';

export interface Setting {
  line: number;
  value: unknown;
}

export interface Section {
  /** Line of the `virtual=` statement; 0 for the global section. */
  line: number;
  values: Map<string, Setting[]>;
}

export type VirtualHeader =
  | { kind: 'addr'; address: number; port: number }
  | { kind: 'addr6'; address6: string; port: number }
  | { kind: 'fwm'; mark: number };

export interface VirtualSection extends Section {
  /** null: the `virtual=` line was invalid (reported); its body is still checked, then dropped. */
  header: VirtualHeader | null;
  /** Opened by `virtual6=`: its reals are `real6=`, its fallback `fallback6=`. */
  ipv6: boolean;
}

export interface Sections {
  global: Section;
  virtuals: VirtualSection[];
}

function suggest(name: string): string {
  const lower = name.toLowerCase();
  if (lower !== name && isKnownName(lower)) return ` (directive names are lower case: ${lower})`;
  return '';
}

function parseHeader(value: string, at: At): VirtualHeader | undefined {
  if (/\s/.test(value)) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, `virtual: unexpected text after the address in ${show(value)}`);
    return undefined;
  }
  if (/^\d+$/.test(value)) {
    const mark = uint(value, { ...at, name: 'virtual firewall mark' }, 1, 0xffffffff);
    return mark === undefined ? undefined : { kind: 'fwm', mark };
  }
  if (!value.startsWith('[') && !value.includes(':')) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line,
      `virtual: ${show(value)} has no port; write ADDRESS:PORT, or a firewall mark number`);
    return undefined;
  }
  const hp = hostPort(value, at, 'virtual');
  if (!hp) return undefined;
  return { kind: 'addr', address: hp.address, port: hp.port ?? 0 };
}

/** virtual6=[ADDRESS]:PORT (ldirectord: an IPv6 address in brackets, then the port). */
function parseHeader6(value: string, at: At): VirtualHeader | undefined {
  if (/\s/.test(value)) {
    at.diag.error('E_CONFIG_SYNTAX', at.line, `virtual6: unexpected text after the address in ${show(value)}`);
    return undefined;
  }
  if (/^\d+$/.test(value)) {
    at.diag.error('E_CONFIG_UNSUPPORTED', at.line,
      'virtual6: an IPv6 firewall-mark service (virtual6=NUMBER) is not supported by dsrlb; write virtual6=[ADDRESS]:PORT');
    return undefined;
  }
  if (value.startsWith('[') && value.endsWith(']')) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `virtual6: ${show(value)} has no port; write [ADDRESS]:PORT`);
    return undefined;
  }
  const hp = hostPort6(value, at, 'virtual6');
  if (!hp) return undefined;
  if (hp.port === null) {
    at.diag.error('E_CONFIG_BAD_VALUE', at.line, `virtual6: ${show(value)} has no port; write [ADDRESS]:PORT`);
    return undefined;
  }
  return { kind: 'addr6', address6: hp.address6, port: hp.port };
}

function newSection(line: number): Section {
  return { line, values: new Map() };
}

function apply(section: Section, s: Stmt, inVirtual: boolean, ipv6: boolean, diag: Diagnostics): void {
  const { name, line } = s;
  if (Object.hasOwn(REFUSED, name)) {
    const r = REFUSED[name]!;
    diag.error(r.code, line, r.message);
    return;
  }
  const spec = Object.hasOwn(DIRECTIVES, name) ? DIRECTIVES[name] : undefined;
  if (!spec) {
    diag.error('E_CONFIG_UNKNOWN_DIRECTIVE', line, `unknown directive "${name}"${suggest(name)}`);
    return;
  }
  if (inVirtual && spec.scope === 'global') {
    diag.error('E_CONFIG_MISPLACED', line, `${name} is a global directive: it cannot be set inside a virtual section`);
    return;
  }
  if (!inVirtual && spec.scope === 'virtual') {
    diag.error('E_CONFIG_MISPLACED', line, `${name} belongs to a virtual section: indent it under a virtual= line`);
    return;
  }
  if (inVirtual && (name === 'real' || name === 'fallback') && ipv6) {
    diag.error('E_CONFIG_MISPLACED', line, `${name}= cannot be used in a virtual6 section: write ${name}6=[ADDRESS]:PORT (as ldirectord wants)`);
    return;
  }
  if (inVirtual && (name === 'real6' || name === 'fallback6') && !ipv6) {
    const base = name.slice(0, -1);
    diag.error('E_CONFIG_MISPLACED', line, `${name}= cannot be used in an IPv4 virtual section: write ${base}= (or open the section with virtual6=)`);
    return;
  }
  let value = s.value;
  if (value === null) {
    if (name !== 'supervised') {
      diag.error('E_CONFIG_SYNTAX', line, `${name} needs a value: ${name}=...`);
      return;
    }
    diag.warn('W_CONFIG_DEPRECATED', line, 'a bare "supervised" line is deprecated; write supervised=yes');
    value = 'yes';
  }
  const parsed = (ipv6 && name === 'netmask' ? netmask6 : spec.parse)(value, { diag, line, name });
  if (parsed === undefined) return;
  if (name === 'checkcount') {
    diag.warn('W_CONFIG_DEPRECATED', line, 'checkcount is deprecated in ldirectord; use failurecount');
  }
  let list = section.values.get(name);
  if (!list) {
    list = [];
    section.values.set(name, list);
  } else if (!spec.multi) {
    diag.warn('W_CONFIG_REPEATED', line, `${name} was already set at line ${list[list.length - 1]!.line}; the last one wins`);
  }
  list.push({ line, value: parsed });
}

export function buildSections(stmts: readonly Stmt[], diag: Diagnostics): Sections {
  const global = newSection(0);
  const virtuals: VirtualSection[] = [];
  let cur: VirtualSection | null = null;

  for (const s of stmts) {
    if (!s.indented) cur = null;
    if (s.bad) continue;
    const at: At = { diag, line: s.line, name: s.name };

    if (s.name === 'virtual' || s.name === 'virtual6') {
      if (s.indented) {
        diag.error('E_CONFIG_MISPLACED', s.line, `${s.name}= must start at the beginning of a line`);
        continue;
      }
      let header: VirtualHeader | null = null;
      if (s.value === null || s.value === '') {
        diag.error('E_CONFIG_SYNTAX', s.line, s.name === 'virtual6'
          ? 'virtual6 needs a value: virtual6=[ADDRESS]:PORT'
          : 'virtual needs a value: virtual=ADDRESS:PORT or virtual=FWMARK');
      } else if (s.name === 'virtual6') {
        header = parseHeader6(s.value, { ...at, name: 'virtual6' }) ?? null;
      } else {
        header = parseHeader(s.value, at) ?? null;
      }
      cur = { ...newSection(s.line), header, ipv6: s.name === 'virtual6' };
      virtuals.push(cur);
      continue;
    }

    if (s.indented && cur === null) {
      const spec = Object.hasOwn(DIRECTIVES, s.name) ? DIRECTIVES[s.name] : undefined;
      const hint = spec && spec.scope !== 'virtual'
        ? `; global directives start at the beginning of the line`
        : '; it must follow a virtual= line';
      diag.error('E_CONFIG_SYNTAX', s.line, `indented line outside a virtual section${hint}`);
      continue;
    }
    apply(cur ?? global, s, cur !== null, cur?.ipv6 ?? false, diag);
  }
  return { global, virtuals };
}

/** Last value set for a directive in a section, with its line. */
export function last<T>(sec: Section, name: string): { line: number; value: T } | undefined {
  const list = sec.values.get(name);
  const s = list?.[list.length - 1];
  return s && { line: s.line, value: s.value as T };
}

export function all<T>(sec: Section, name: string): { line: number; value: T }[] {
  return (sec.values.get(name) ?? []).map((s) => ({ line: s.line, value: s.value as T }));
}
