/**
 * parseLdirectordConfig(text, file): the whole ldirectord.cf pipeline, pure (no I/O).
 * lexer.ts (lines) -> sections.ts (names, places, values) -> resolve.ts (defaults, inheritance,
 * cross-checks). Every error found is collected; if there is any, one ConfigErrors carrying all of
 * them (sorted by line) is thrown. Nothing else is ever thrown for any input text.
 */
import { DiagnosticCollector } from '../diagnostics.ts';
import { ipToString } from '../../model/index.ts';
import { portForService } from './constants.ts';
import { lex } from './lexer.ts';
import { resolveGlobals, resolveVirtual, virtualKey } from './resolve.ts';
import { buildSections } from './sections.ts';
import type { LdirectordConfig, RealServer, VirtualService } from './types.ts';


function describe(vs: VirtualService): string {
  if (vs.protocol === 'fwm') return `FWM ${vs.fwmark}`;
  const host = vs.address6 !== undefined ? `[${vs.address6}]` : ipToString(vs.address!);
  return `${vs.protocol.toUpperCase()} ${host}:${vs.port}`;
}

export function parseLdirectordConfig(text: string, file: string): LdirectordConfig {
  const diag = new DiagnosticCollector(file);
  const sections = buildSections(lex(text, diag), diag);
  const globals = resolveGlobals(sections.global);
  const virtuals: VirtualService[] = [];
  const seen = new Map<string, number>();
  for (const sec of sections.virtuals) {
    const vs = resolveVirtual(sec, globals, diag);
    if (!vs) continue;
    const key = virtualKey(vs);
    const prev = seen.get(key);
    if (prev !== undefined) {
      diag.error('E_CONFIG_DUPLICATE', vs.line, `virtual ${describe(vs)} is already defined at line ${prev}`);
      continue;
    }
    seen.set(key, vs.line);
    virtuals.push(vs);
  }
  diag.finish();
  return { file, globals, virtuals, warnings: diag.warnings };
}

/**
 * The port a health check connects to, as ldirectord's ld_checkport(): checkport, else the real's
 * own port when it has one, else the well-known port of the check service; null when none applies.
 */
export function checkPortFor(vs: VirtualService, r: RealServer): number | null {
  if (vs.checkport !== null) return vs.checkport;
  if (r.port > 0) return r.port;
  return portForService(vs.service);
}

/** The request/receive pair a check of this real uses (the real's own pair overrides the virtual's). */
export function checkStringsFor(vs: VirtualService, r: RealServer): { request: string; receive: string } {
  if (r.request !== undefined && r.receive !== undefined) return { request: r.request, receive: r.receive };
  return { request: vs.request, receive: vs.receive };
}
