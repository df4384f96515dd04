/**
 * Builds a data plane from a parsed ldirectord.cf: one service per `virtual=` (tcp/udp), its reals
 * added in file order (so the kernel's list order — newest first — comes out as ipvsadm would make it),
 * every real at its configured weight (health checking decides otherwise later).
 */
import type { LdirectordConfig } from '../config/index.ts';
import { Dataplane, type DataplaneOptions } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';

export function dataplaneFromConfig(cfg: LdirectordConfig, opts: DataplaneOptions): Dataplane {
  const dp = new Dataplane(opts);
  for (const v of cfg.virtuals) {
    if (v.protocol === 'fwm' || v.address === null) {
      throw new DsrlbError('E_UNSUPPORTED', `${cfg.file}:${v.line}: fwmark services are not supported by the dsrlb data path`);
    }
    const svc = dp.services.addService({
      proto: v.protocol,
      vip: v.address,
      port: v.port,
      scheduler: v.scheduler as never,
      schedFlags: v.schedFlags,
      persistent: v.persistent,
      netmask: v.netmask,
    });
    for (const r of v.reals) {
      if (r.method !== 'gate') {
        throw new DsrlbError('E_UNSUPPORTED', `${cfg.file}:${r.line}: forwarding method ${r.method} is not supported (dsrlb does direct routing: gate)`);
      }
      dp.services.addDest(svc, { addr: r.address, port: r.port, weight: r.weight });
    }
  }
  dp.refreshVips();
  return dp;
}
