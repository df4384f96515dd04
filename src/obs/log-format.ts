/**
 * Turning pino's JSON log records into text: one line "message key=value …" for syslog, a short
 * human line for a terminal, and the syslog priority of a pino level. Pure (the record's `time` is
 * the only clock).
 */
import { DsrlbError } from '../errors/index.ts';

/** syslog(3) facility codes (RFC 5424 table 1; authpriv and ftp as Linux numbers them). */
export const SYSLOG_FACILITY_CODES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export function facilityCode(name: string): number {
  const c = SYSLOG_FACILITY_CODES[name];
  if (c === undefined) throw new DsrlbError('E_LOG_FACILITY', `unknown syslog facility "${name}" (local0..local7, daemon, user, …)`);
  return c;
}

/** pino level → syslog severity: fatal crit(2), error err(3), warn warning(4), info info(6), debug/trace debug(7). */
export function syslogSeverity(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

export function syslogPri(facility: number, level: number): number {
  return facility * 8 + syslogSeverity(level);
}

export const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields pino adds to every record, left out of the text forms. */
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** "key=value key2=value2" of a record's own fields; nested objects flatten to dotted keys. */
export function fieldsText(rec: Record<string, unknown>, skip: ReadonlySet<string> = SKIP): string {
  const out: string[] = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 4) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, x, depth + 1);
    } else if (v !== undefined) {
      out.push(`${prefix}=${valueText(v)}`);
    }
  };
  for (const [k, v] of Object.entries(rec)) if (!skip.has(k)) walk(k, v, 0);
  return out.join(' ');
}

/** The message of a syslog datagram for this record: "msg key=value …" on one line. */
export function syslogMessage(rec: Record<string, unknown>): string {
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const f = fieldsText(rec);
  return `${msg}${msg && f ? ' ' : ''}${f}`.replace(/[\r\n]+/g, ' ');
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A terminal line: "HH:MM:SS.mmm INFO  msg key=value" (local time of the record). */
export function prettyLine(rec: Record<string, unknown>): string {
  const t = new Date(typeof rec.time === 'number' ? rec.time : 0);
  const ms = String(t.getMilliseconds()).padStart(3, '0');
  const lvl = (LEVEL_NAMES[Number(rec.level)] ?? String(rec.level)).padEnd(5);
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const f = fieldsText(rec);
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${ms} ${lvl} ${msg}${msg && f ? ' ' : ''}${f}`;
}
