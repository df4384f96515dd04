/**
 * The keyword tables' machinery: a block's statements are dispatched through a table of keywords,
 * each saying how dsrlb handles it (acted on / read and not acted on / refused) and, for the ones it
 * reads, how. The tables are the directive registry the docs table is generated from
 * (registry.ts), so the docs and the code cannot disagree. Value readers report their own errors.
 */
import { ConfigError, ConfigErrors } from '../../errors/index.ts';
import { ipv6ToString, parseIPv4, parseIPv6 } from '../../model/index.ts';
import type { ConfigWarning } from '../ldirectord/types.ts';
import type { LineDiagnostics } from './lines.ts';
import type { Stmt } from './tree.ts';

/** Collects errors and warnings across the included files (keepalived.conf spans several). */
export class KaDiagnostics implements LineDiagnostics {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];

  error(code: string, file: string, line: number, message: string): void {
    this.errors.push(new ConfigError(code, file, line, message));
  }

  warn(code: string, file: string, line: number, message: string): void {
    this.warnings.push({ code, file, line, message });
  }

  finish(): void {
    if (this.errors.length > 0) throw new ConfigErrors(this.errors);
  }
}

export type Handling = 'acted' | 'read' | 'refused';

export interface Keyword<T> {
  handling: Handling;
  /** What dsrlb does with it (docs table). */
  note: string;
  /** Reads the statement into the target (acted/read); refused keywords have none. */
  apply?: (st: Stmt, target: T, ctx: Ctx) => void;
}

export type KeywordTable<T> = Record<string, Keyword<T>>;

export class Ctx {
  constructor(readonly diag: KaDiagnostics) {}

  error(st: Stmt, code: string, message: string): void {
    this.diag.error(code, st.file, st.line, message);
  }

  warn(st: Stmt, code: string, message: string): void {
    this.diag.warn(code, st.file, st.line, message);
  }

  /** The statement's one argument (reports when missing). */
  arg(st: Stmt, i = 0): string | undefined {
    const v = st.args[i];
    if (v === undefined) this.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: missing value`);
    return v;
  }

  uint(st: Stmt, min: number, max: number, i = 0): number | undefined {
    const v = this.arg(st, i);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return Number(v);
  }

  /** Seconds with up to 6 decimals (keepalived's read_decimal_unsigned timers). */
  seconds(st: Stmt, min: number, max: number, i = 0): number | undefined {
    const v = this.arg(st, i);
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d{1,6})?$/.test(v) || Number(v) < min || Number(v) > max) {
      this.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: expected seconds from ${min} to ${max} (decimals allowed), got ${JSON.stringify(v)}`);
      return undefined;
    }
    return Number(v);
  }

  ipv4(st: Stmt, v: string | undefined, what: string): number | undefined {
    if (v === undefined) return undefined;
    const a = parseIPv4(v);
    if (a !== null) return a;
    if (v.includes(':')) this.error(st, 'E_CONFIG_UNSUPPORTED', `${what} ${v}: IPv6 is not supported by dsrlb (IPv4 only)`);
    else this.error(st, 'E_CONFIG_BAD_ADDRESS', `${what}: ${JSON.stringify(v)} is not an IPv4 address`);
    return undefined;
  }

  /**
   * An IPv4 or IPv6 address as keepalived 2.2 takes it for virtual_server, real_server and
   * sorry_server: bare, `2001:db8::10`, never in brackets (its inet_stosockaddr reads `[…]` as
   * an invalid address and skips the server). IPv6 comes back as canonical text (RFC 5952).
   */
  addr(st: Stmt, v: string | undefined, what: string): { address: number; address6?: string } | undefined {
    if (v === undefined) return undefined;
    const a = parseIPv4(v);
    if (a !== null) return { address: a };
    const bare = /^\[(.*)\]$/.exec(v)?.[1];
    if (bare !== undefined && parseIPv6(bare) !== null) {
      this.error(st, 'E_CONFIG_BAD_ADDRESS', `${what}: write the IPv6 address without brackets, as keepalived reads it: ${bare} (keepalived 2.2 skips ${v} as an invalid address)`);
      return undefined;
    }
    const b = v.includes(':') ? parseIPv6(v) : null;
    if (b === null) {
      this.error(st, 'E_CONFIG_BAD_ADDRESS', `${what}: ${JSON.stringify(v)} is not an IPv4 or IPv6 address`);
      return undefined;
    }
    if (b.every((x) => x === 0) || b[0] === 0xff) {
      this.error(st, 'E_CONFIG_BAD_ADDRESS', `${what}: ${v} is ${b[0] === 0xff ? 'a multicast address' : 'not a usable address'}`);
      return undefined;
    }
    return { address: 0, address6: ipv6ToString(b) };
  }

  port(st: Stmt, v: string | undefined, what: string): number | undefined {
    if (v === undefined) {
      this.error(st, 'E_CONFIG_BAD_VALUE', `${what}: missing port`);
      return undefined;
    }
    if (!/^\d+$/.test(v) || Number(v) > 65535) {
      this.error(st, 'E_CONFIG_BAD_VALUE', `${what}: ${JSON.stringify(v)} is not a port (0-65535)`);
      return undefined;
    }
    return Number(v);
  }

  /** All the words after the keyword, joined by one space (script command lines). */
  rest(st: Stmt): string | undefined {
    if (st.args.length === 0) {
      this.error(st, 'E_CONFIG_BAD_VALUE', `${st.name}: missing value`);
      return undefined;
    }
    return st.args.join(' ');
  }

  /** Statements with a block must have one, and the others must not. */
  needBlock(st: Stmt): Stmt[] | undefined {
    if (st.block === null) {
      this.error(st, 'E_CONFIG_SYNTAX', `${st.name} needs a { ... } block`);
      return undefined;
    }
    return st.block;
  }
}

/**
 * Dispatches every statement of a block through `table`: unknown keywords are warned about and
 * skipped (keepalived does the same: "Unknown keyword"), refused ones are errors, read-only ones are
 * read and warned about once, so a user sees what dsrlb does not act on.
 */
export function walk<T>(stmts: readonly Stmt[], table: KeywordTable<T>, target: T, ctx: Ctx, where: string): void {
  for (const st of stmts) {
    const kw = Object.hasOwn(table, st.name) ? table[st.name] : undefined;
    if (!kw) {
      ctx.warn(st, 'E_CONFIG_UNKNOWN_DIRECTIVE', `unknown keyword ${JSON.stringify(st.name)} in ${where}: ignored (as keepalived does)`);
      continue;
    }
    if (kw.handling === 'refused') {
      ctx.error(st, 'E_CONFIG_UNSUPPORTED', `${st.name}: ${kw.note}`);
      continue;
    }
    if (kw.handling === 'read') ctx.warn(st, 'E_CONFIG_NOT_ACTED_ON', `${st.name} in ${where} is read but not acted on by dsrlb: ${kw.note}`);
    kw.apply?.(st, target, ctx);
  }
}

/** A keyword read for its syntax only. */
export function readOnly<T>(note: string): Keyword<T> {
  return { handling: 'read', note };
}

export function refused<T>(note: string): Keyword<T> {
  return { handling: 'refused', note };
}
