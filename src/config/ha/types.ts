/**
 * The model of heartbeat v1's three files (/etc/ha.d/ha.cf, haresources, authkeys) with heartbeat's
 * defaults applied. Times are milliseconds; addresses IPv4 u32 (src/model/addr.ts).
 */
import type { ConfigWarning } from '../ldirectord/index.ts';

export type AutoFailback = 'on' | 'off' | 'legacy';

export type HaMedium =
  | { kind: 'ucast'; line: number; iface: string; addr: number }
  | { kind: 'bcast'; line: number; iface: string }
  | { kind: 'mcast'; line: number; iface: string; group: number; port: number; ttl: number; loop: boolean };

export interface HaCf {
  file: string;
  /** Interval between heartbeats (default 1 s). */
  keepaliveMs: number;
  /** A peer silent this long is dead (default 30 s). */
  deadtimeMs: number;
  /** A peer silent this long is warned about (default deadtime / 2). */
  warntimeMs: number;
  /** Dead time right after start-up, when the peer may still be booting (default: deadtime). */
  initdeadMs: number;
  /** UDP port of bcast and ucast heartbeats (default 694). */
  udpport: number;
  media: HaMedium[];
  /** Cluster members as written (`uname -n` names), in file order. */
  nodes: string[];
  autoFailback: AutoFailback;
  /** Syslog facility (`none` = no syslog), null when unset. */
  logfacility: string | null;
  logfile: string | null;
  /** ha.cf debugfile: a file for every record down to debug. */
  debugfile: string | null;
  /** respawn lines: parsed and reported, not run by dsrlb. */
  respawn: Array<{ line: number; user: string; command: string }>;
  /** ping nodes (pseudo-members for ipfail): parsed and reported, not used by dsrlb. */
  ping: number[];
  warnings: ConfigWarning[];
}

export type HaResource =
  /** An address the cluster moves: `VIP`, `IPaddr::VIP[/len[/if[/bcast]]]` or `IPaddr2::…`. */
  | { kind: 'ip'; line: number; raw: string; agent: 'IPaddr' | 'IPaddr2'; addr: number; prefixLen: number | null; iface: string | null }
  /** An IPv6 address the cluster moves: heartbeat's `IPv6addr::VIP6[/len[/if]]`. */
  | { kind: 'ip6'; line: number; raw: string; agent: 'IPv6addr'; addr6: string; prefixLen: number | null; iface: string | null }
  /** The director: `ldirectord` (ldirectord.cf) or `ldirectord::FILE`. */
  | { kind: 'ldirectord'; line: number; raw: string; file: string }
  /** Any other resource script (not run by dsrlb; reported). */
  | { kind: 'other'; line: number; raw: string; agent: string; args: string[] };

export interface HaResourceGroup {
  line: number;
  /** The preferred node: the group lives there when it is up (auto_failback decides when it goes back). */
  owner: string;
  /** In start order; giveup runs them in reverse. */
  resources: HaResource[];
}

export interface HaResources {
  file: string;
  groups: HaResourceGroup[];
  warnings: ConfigWarning[];
}

export type AuthMethod = 'crc' | 'md5' | 'sha1' | 'sha256';

export interface AuthKey {
  line: number;
  index: number;
  method: AuthMethod;
  /** The secret (empty for crc, which has none and authenticates nothing). */
  key: string;
}

export interface AuthKeys {
  file: string;
  /** The key used to sign what this node sends (`auth N`). */
  active: AuthKey;
  /** Every key, by index: received messages may use any of them (heartbeat does the same). */
  keys: Map<number, AuthKey>;
  warnings: ConfigWarning[];
}

export const HA_DEFAULTS = {
  keepaliveMs: 1000,
  deadtimeMs: 30_000,
  udpport: 694,
  autoFailback: 'legacy' as AutoFailback,
} as const;
