/**
 * From a parsed ldirectord.cf to the data path: one service per `virtual=` (tcp/udp), its reals in
 * file order — the order ldirectord adds them with ipvsadm, so the kernel's list (newest first)
 * comes out the same — at their configured weights (health checking changes them later).
 */
import { realForwardPort, type LdirectordConfig } from '../config/index.ts';
import { Dataplane, type DataplaneOptions } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';
import type { SchedName } from '../sched/index.ts';
import type { ServiceWithReals } from './protocol.ts';

export function servicesFromConfig(cfg: LdirectordConfig): ServiceWithReals[] {
  return cfg.virtuals.map((v) => {
    if (v.protocol === 'fwm' || v.address === null) {
      throw new DsrlbError('E_UNSUPPORTED', `${cfg.file}:${v.line}: fwmark services are not supported by the dsrlb data path`);
    }
    for (const r of v.reals) {
      if (r.method !== 'gate') {
        throw new DsrlbError('E_UNSUPPORTED', `${cfg.file}:${r.line}: forwarding method ${r.method} is not supported (dsrlb does direct routing: gate)`);
      }
    }
    return {
      spec: {
        proto: v.protocol,
        vip: v.address,
        port: v.port,
        scheduler: v.scheduler as SchedName,
        schedFlags: v.schedFlags,
        persistent: v.persistent,
        netmask: v.netmask,
      },
      reals: v.reals.map((r) => ({
        addr: r.address,
        port: realForwardPort(v, r),
        weight: r.weight,
        uThreshold: r.upperThreshold,
        lThreshold: r.lowerThreshold,
      })),
    };
  });
}

/** Adds services and their reals (in order) to a data plane. */
export function loadServices(dp: Dataplane, services: readonly ServiceWithReals[]): void {
  for (const { spec, reals } of services) {
    const svc = dp.services.addService({ ...spec });
    for (const r of reals) dp.services.addDest(svc, r);
  }
  dp.refreshVips();
}

export function dataplaneFromConfig(cfg: LdirectordConfig, opts: DataplaneOptions): Dataplane {
  const dp = new Dataplane(opts);
  loadServices(dp, servicesFromConfig(cfg));
  return dp;
}
