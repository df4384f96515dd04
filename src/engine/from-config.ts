/**
 * From a parsed ldirectord.cf to the data path: one service per `virtual=` (tcp/udp), its reals in
 * file order — the order ldirectord adds them with ipvsadm, so the kernel's list (newest first)
 * comes out the same — at their configured weights (health checking changes them later).
 *
 * IPv6 services (`virtual6=`) come apart from the IPv4 ones (services6FromConfig): the data plane
 * keeps them in their own maps, and the live director passes them to the packet path as
 * PacketPathInit.services6 (docs/ipv6.md).
 */
import { realForwardPort, type LdirectordConfig, type VirtualService } from '../config/index.ts';
import { Dataplane, type DataplaneOptions } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { parseIPv6 } from '../model/index.ts';
import type { SchedName } from '../sched/index.ts';
import type { Service6WithReals, ServiceWithReals } from './protocol.ts';


function checkForwardable(cfg: LdirectordConfig, v: VirtualService): void {
  if (v.protocol === 'fwm' || (v.address === null && v.address6 === undefined)) {
    throw new DsrlbError('E_UNSUPPORTED', `${v.file ?? cfg.file}:${v.line}: fwmark services are not supported by the dsrlb data path`);
  }
  for (const r of v.reals) {
    if (r.method !== 'gate') {
      throw new DsrlbError('E_UNSUPPORTED', `${v.file ?? cfg.file}:${r.line}: forwarding method ${r.method} is not supported (dsrlb does direct routing: gate)`);
    }
  }
}

function service4(v: VirtualService): ServiceWithReals {
  return {
    spec: {
      proto: v.protocol as 'tcp' | 'udp',
      vip: v.address!,
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
}

function service6(v: VirtualService): Service6WithReals {
  return {
    spec: {
      proto: v.protocol as 'tcp' | 'udp',
      vip6: parseIPv6(v.address6!)!,
      port: v.port,
      scheduler: v.scheduler as SchedName,
      schedFlags: v.schedFlags,
    },
    reals: v.reals.map((r) => ({
      addr6: parseIPv6(r.address6!)!,
      port: realForwardPort(v, r),
      weight: r.weight,
      uThreshold: r.upperThreshold,
      lThreshold: r.lowerThreshold,
    })),
  };
}

/** The IPv4 services for the live director (`dsrlb run`, `dsrlb ha`, a reload), in file order. */
export function servicesFromConfig(cfg: LdirectordConfig): ServiceWithReals[] {
  return allServicesFromConfig(cfg).v4;
}

/** The IPv6 services (virtual6=) for the live director, in file order. */
export function services6FromConfig(cfg: LdirectordConfig): Service6WithReals[] {
  return allServicesFromConfig(cfg).v6;
}

/** Both families, in file order, for the offline data plane. */
export function allServicesFromConfig(cfg: LdirectordConfig): { v4: ServiceWithReals[]; v6: Service6WithReals[] } {
  const v4: ServiceWithReals[] = [];
  const v6: Service6WithReals[] = [];
  for (const v of cfg.virtuals) {
    checkForwardable(cfg, v);
    if (v.address6 !== undefined) v6.push(service6(v));
    else v4.push(service4(v));
  }
  return { v4, v6 };
}

/** Adds services and their reals (in order) to a data plane. */
export function loadServices(dp: Dataplane, services: readonly ServiceWithReals[]): void {
  for (const { spec, reals } of services) {
    const svc = dp.services.addService({ ...spec });
    for (const r of reals) dp.services.addDest(svc, r);
  }
  dp.refreshVips();
}

/** Adds IPv6 services and their reals (in order) to a data plane. */
export function loadServices6(dp: Dataplane, services: readonly Service6WithReals[]): void {
  for (const { spec, reals } of services) {
    const svc = dp.services.addService6({ ...spec });
    for (const r of reals) dp.services.addDest6(svc, r);
  }
}

/** A data plane with every service of the configuration, IPv4 and IPv6 (offline use: replay, tests). */
export function dataplaneFromConfig(cfg: LdirectordConfig, opts: DataplaneOptions): Dataplane {
  const dp = new Dataplane(opts);
  const { v4, v6 } = allServicesFromConfig(cfg);
  loadServices(dp, v4);
  loadServices6(dp, v6);
  return dp;
}
