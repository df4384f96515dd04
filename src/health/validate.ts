/**
 * Config-time checks of the health-check settings: what dsrlb cannot check yet is an error at
 * `config check`, never a silent pass at run time. Pure; uses the same spec builder as the runner.
 */
import type { LdirectordConfig } from '../config/index.ts';
import { ConfigError } from '../errors/index.ts';
import { kindsOf, specFor } from './spec.ts';

/**
 * Every health-check problem of a parsed configuration, one ConfigError each (file:line, code):
 * - E_CHECK_UNSUPPORTED: a negotiate check (checktype=negotiate or N) of a service dsrlb does not
 *   speak yet (ftp, smtp, ldap, mysql, ... — supported: http, https, simpletcp, dns, none);
 * - E_CHECK_NO_PORT: a check that needs a port, with none to be found (no real port, no checkport,
 *   no well-known port for the service);
 * - E_CHECK_BAD_RECEIVE: a `receive` that is not a usable regular expression.
 * The same problem on several reals of a virtual is reported once per line.
 */
export function validateChecks(cfg: LdirectordConfig): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  for (const vs of cfg.virtuals) {
    const kinds = kindsOf(vs);
    if (kinds.length === 0) continue;
    for (const r of vs.reals) {
      for (const kind of kinds) {
        const res = specFor(vs, r, kind);
        if (res.ok) continue;
        const { code, line, message } = res.problem;
        const key = `${code}|${line}|${message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(new ConfigError(code, vs.file ?? cfg.file, line, message));
      }
    }
  }
  return out.sort((a, b) => a.line - b.line);
}
