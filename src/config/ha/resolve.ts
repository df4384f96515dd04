/**
 * resolveHaSetup: the three heartbeat files seen from one node (pure). Which node we are, the peer,
 * the preferred node (the owner of the resource group), the group's addresses and ldirectord file.
 */
import { ConfigError, ConfigErrors } from '../../errors/index.ts';
import type { AuthKeys, HaCf, HaResource, HaResourceGroup, HaResources } from './types.ts';

export interface HaSetup {
  hacf: HaCf;
  auth: AuthKeys;
  self: string;
  peer: string;
  /** The owner of the resource group in haresources. */
  preferred: string;
  group: HaResourceGroup;
  ips: Array<HaResource & { kind: 'ip' }>;
  /** IPv6addr resources: the VIP6s that move with the group. */
  ips6: Array<HaResource & { kind: 'ip6' }>;
  /** The ldirectord resource's file as written (relative names are looked up in the config dir). */
  ldirectord: string | null;
}

export function resolveHaSetup(hacf: HaCf, res: HaResources, auth: AuthKeys, self: string): HaSetup {
  const errs: ConfigError[] = [];
  if (!hacf.nodes.includes(self)) {
    errs.push(new ConfigError('E_HA_NODE', hacf.file, 0, `this node (${self}) is not a node of the cluster (${hacf.nodes.join(', ')}): use --node NAME`));
  }
  const peers = hacf.nodes.filter((n) => n !== self);
  if (hacf.nodes.length !== 2) errs.push(new ConfigError('E_HA_NODES', hacf.file, 0, `dsrlb runs pairs: declare exactly two nodes (have ${hacf.nodes.length})`));
  if (res.groups.length > 1) errs.push(new ConfigError('E_HA_UNSUPPORTED', res.file, res.groups[1]!.line, 'dsrlb runs one resource group (one director pair per VIP set)'));
  const group = res.groups[0]!;
  if (group && !hacf.nodes.includes(group.owner)) {
    errs.push(new ConfigError('E_HA_NODE', res.file, group.line, `owner ${group.owner} is not a node in ${hacf.file} (${hacf.nodes.join(', ')})`));
  }
  const lds = group ? group.resources.filter((r) => r.kind === 'ldirectord') : [];
  if (lds.length > 1) errs.push(new ConfigError('E_HA_UNSUPPORTED', res.file, lds[1]!.line, 'more than one ldirectord resource in the group'));
  if (errs.length) throw new ConfigErrors(errs);
  return {
    hacf, auth, self, peer: peers[0]!, preferred: group!.owner, group: group!,
    ips: group!.resources.filter((r): r is HaResource & { kind: 'ip' } => r.kind === 'ip'),
    ips6: group!.resources.filter((r): r is HaResource & { kind: 'ip6' } => r.kind === 'ip6'),
    ldirectord: lds[0]?.file ?? null,
  };
}
