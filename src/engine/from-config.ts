/**
 * From a parsed ldirectord.cf to the data path: one service per `virtual=` (tcp/udp), its reals in
 * file order — the order ldirectord adds them with ipvsadm, so the kernel's list (newest first)
 * comes out the same — at their configured weights (health checking changes them later).
 *
 * IPv6 services (`virtual6=`) go into a data plane built here for the offline paths (`dsrlb replay`,
 * tests). The live director does not capture IPv6 yet (docs/ipv6.md): servicesFromConfig, which
 * feeds it (`dsrlb run`, `dsrlb ha`, reload), refuses them with E_RUN_IPV6.
 */
import { realForwardPort, type LdirectordConfig, type VirtualService } from '../config/index.ts';
import { Dataplane, type DataplaneOptions } from '../dataplane/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { parseIPv6 } from '../model/index.ts';
import type { SchedName } from '../sched/index.ts';
import type { Service6WithReals, ServiceWithReals } from './protocol.ts';


/** The IPv6 services of a configuration, as text for a message ("TCP [2001:db8::10]:80 (x.cf:3)"). */
export function ipv6ServicesOf(cfg: LdirectordConfig): string[] {
  return cfg.virtuals.filter((v) => v.address6 !== undefined)
    .map((v) => `${v.protocol.toUpperCase()} [${v.address6}]:${v.port} (${v.file ?? cfg.file}:${v.line})`);
}

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

/** Throws E_RUN_IPV6 when the configuration has an IPv6 service: the live director cannot serve it yet. */
export function refuseIPv6Services(cfg: LdirectordConfig): void {
  const v6 = ipv6ServicesOf(cfg);
  if (v6.length > 0) {
    throw new DsrlbError('E_RUN_IPV6',
      `the live director does not capture IPv6 yet (docs/ipv6.md), so it cannot serve ${v6.join(', ')}; ` +
      'remove the virtual6= sections to run (dsrlb replay and dsrlb config check take them)');
  }
}

/** The IPv4 services for the live director; an IPv6 service is refused (E_RUN_IPV6). */
export function servicesFromConfig(cfg: LdirectordConfig): ServiceWithReals[] {
  refuseIPv6Services(cfg);
  return cfg.virtuals.map((v) => {
    checkForwardable(cfg, v);
    return service4(v);
  });
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
