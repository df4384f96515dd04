/**
 * The directive registry: every keyword dsrlb knows in keepalived.conf, by block, with how it is
 * handled. It is read from the very tables the parser dispatches through, and docs/keepalived.md's
 * table is generated from it (keepalivedDirectiveTable); a test fails when they disagree.
 */
import { CHECKER_TABLES, REAL_TABLE, URL_TABLE, VS_TABLE } from './lvs.ts';
import { TOP_KEYWORDS } from './parse.ts';
import { AUTH_TABLE, GLOBAL_TABLE, SCRIPT_TABLE, VRRP_TABLE } from './vrrp.ts';
import type { Handling, KeywordTable } from './walk.ts';

export interface KaDirectiveInfo {
  block: string;
  keyword: string;
  handling: Handling;
  note: string;
}

function rows(block: string, t: KeywordTable<never>): KaDirectiveInfo[] {
  return Object.entries(t).map(([keyword, k]) => ({ block, keyword, handling: k.handling, note: k.note }));
}

export function keepalivedDirectives(): KaDirectiveInfo[] {
  return [
    ...rows('(top level)', TOP_KEYWORDS as KeywordTable<never>),
    ...rows('global_defs', GLOBAL_TABLE as KeywordTable<never>),
    ...rows('virtual_server', VS_TABLE as KeywordTable<never>),
    ...rows('real_server', REAL_TABLE as KeywordTable<never>),
    ...rows('TCP_CHECK, PING_CHECK', CHECKER_TABLES.TCP_CHECK as KeywordTable<never>),
    ...rows('HTTP_GET, SSL_GET', Object.fromEntries(Object.entries(CHECKER_TABLES.HTTP_GET).filter(([k]) => !(k in CHECKER_TABLES.TCP_CHECK))) as KeywordTable<never>),
    ...rows('url (in HTTP_GET, SSL_GET)', URL_TABLE as KeywordTable<never>),
    ...rows('MISC_CHECK', Object.fromEntries(Object.entries(CHECKER_TABLES.MISC_CHECK).filter(([k]) => !(k in CHECKER_TABLES.TCP_CHECK))) as KeywordTable<never>),
    ...rows('DNS_CHECK', Object.fromEntries(Object.entries(CHECKER_TABLES.DNS_CHECK).filter(([k]) => !(k in CHECKER_TABLES.TCP_CHECK))) as KeywordTable<never>),
    ...rows('vrrp_instance', VRRP_TABLE as KeywordTable<never>),
    ...rows('authentication', AUTH_TABLE as KeywordTable<never>),
    ...rows('vrrp_script', SCRIPT_TABLE as KeywordTable<never>),
  ];
}

const WORD: Record<Handling, string> = { acted: 'acted on', read: 'read, not acted on', refused: 'refused (error)' };

/** The Markdown table of docs/keepalived.md (between its BEGIN/END markers). */
export function keepalivedDirectiveTable(): string {
  const out = ['| block | keyword | dsrlb | what dsrlb does |', '| --- | --- | --- | --- |'];
  for (const d of keepalivedDirectives()) out.push(`| ${d.block} | \`${d.keyword}\` | ${WORD[d.handling]} | ${(d.note || '—').replace(/\|/g, '\\|')} |`);
  return `${out.join('\n')}\n`;
}
