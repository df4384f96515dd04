/** --sysctl NAME=VALUE options (net.ipv4.vs.* names) to the data path's switches. */
import type { VsSysctls } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';

const SYSCTLS: Record<string, keyof VsSysctls> = {
  sloppy_tcp: 'sloppyTcp',
  expire_nodest_conn: 'expireNodestConn',
  expire_quiescent_template: 'expireQuiescentTemplate',
  conn_reuse_mode: 'connReuseMode',
};

export function parseSysctls(list: readonly string[]): Partial<VsSysctls> {
  const out: Partial<Record<keyof VsSysctls, number | boolean>> = {};
  for (const s of list) {
    const m = /^(?:net\.ipv4\.vs\.)?([a-z_]+)=(\d+)$/.exec(s);
    const key = m ? SYSCTLS[m[1]!] : undefined;
    if (!m || !key) throw new DsrlbError('E_USAGE', `--sysctl "${s}": expected one of ${Object.keys(SYSCTLS).join(', ')} =NUMBER`);
    out[key] = key === 'connReuseMode' ? Number(m[2]) : m[2] !== '0';
  }
  return out as Partial<VsSysctls>;
}
