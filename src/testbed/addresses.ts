/**
 * The reference topology's names and addresses (shared/seed-configs/README.md), as they live inside
 * the testbed namespaces. Nothing here touches the system.
 */

import { DsrlbError } from '../errors/index.ts';

/** The virtual service address, held on `lo` of every real server. */
export const VIP = '192.168.0.10';
/** The testbed client (not in the seed: any free address on the /24). */
export const CLIENT_ADDR = '192.168.0.100';
/** Prefix length of the one shared LAN. */
export const LAN_PREFIX_LEN = 24;

export type RealName = 'www1' | 'www2' | 'www3';
export type HostName = 'client' | RealName;

/** Real servers' own addresses (RIP), as in ldirectord.cf. */
export const REALS: Readonly<Record<RealName, string>> = Object.freeze({
  www1: '192.168.0.7',
  www2: '192.168.0.8',
  www3: '192.168.0.9',
});

/**
 * The IPv6 side (`testbed up --ipv6`): one /64 from the documentation prefix (RFC 3849), used only
 * inside the testbed namespaces. The interface identifiers follow the IPv4 last octets, so www1 is
 * 192.168.0.7 and 2001:db8::7.
 */
export const LAN6_PREFIX_LEN = 64;
/** The IPv6 virtual service address (VIP6), held on `lo` of every real server. */
export const VIP6 = '2001:db8::10';
/** The testbed client's IPv6 address. */
export const CLIENT_ADDR6 = '2001:db8::100';
/** Real servers' own IPv6 addresses. */
export const REALS6: Readonly<Record<RealName, string>> = Object.freeze({
  www1: '2001:db8::7',
  www2: '2001:db8::8',
  www3: '2001:db8::9',
});

export const REAL_NAMES: readonly RealName[] = Object.freeze(['www1', 'www2', 'www3']);
export const HOST_NAMES: readonly HostName[] = Object.freeze(['client', 'www1', 'www2', 'www3']);
/** Hosts that run heartbeat + the director in the seed (and so need capture-friendly offloads). */
export const DIRECTOR_NAMES: readonly RealName[] = Object.freeze(['www1', 'www2']);

export const DEFAULT_PREFIX = 'dsr';
/** The namespace that holds the bridge (the "switch"). */
export const LAN_HOST = 'lan';
export const BRIDGE_NAME = 'br0';
/** Interface name inside every host, as in the seed's arptables file. */
export const HOST_IFACE = 'eth0';

const PREFIX_RE = /^[a-z][a-z0-9]{0,11}$/;

/** Throws unless `prefix` is 1..12 chars of [a-z0-9] starting with a letter (no '-': it separates the host part). */
export function checkPrefix(prefix: string): string {
  if (!PREFIX_RE.test(prefix)) {
    throw new DsrlbError(
      'E_TESTBED_PREFIX',
      `bad testbed prefix ${JSON.stringify(prefix)}: use 1-12 characters a-z0-9, starting with a letter`,
    );
  }
  return prefix;
}

/** Namespace of one testbed host (or of the LAN bridge): `<prefix>-<host>`, e.g. `dsr-www1`. */
export function hostNamespace(prefix: string, host: HostName | typeof LAN_HOST): string {
  return `${checkPrefix(prefix)}-${host}`;
}

/** All namespaces of a testbed, bridge first. */
export function allNamespaces(prefix: string): string[] {
  return [hostNamespace(prefix, LAN_HOST), ...HOST_NAMES.map((h) => hostNamespace(prefix, h))];
}

/** The host's own address on the LAN. */
export function hostAddress(host: HostName): string {
  return host === 'client' ? CLIENT_ADDR : REALS[host];
}

/** The host's own IPv6 address on the LAN (with `--ipv6`). */
export function hostAddress6(host: HostName): string {
  return host === 'client' ? CLIENT_ADDR6 : REALS6[host];
}

/**
 * A fixed, locally administered MAC per host (02:d5:00:00:00:<last octet>), so captures and
 * neighbour tables read the same on every run. Each testbed has its own bridge, so two testbeds
 * with the same MACs never meet.
 */
export function hostMac(host: HostName): string {
  const last = Number(hostAddress(host).split('.')[3]);
  return `02:d5:00:00:00:${last.toString(16).padStart(2, '0')}`;
}

/** Name of the bridge port (in the LAN namespace) that leads to `host`: `to-<host>` (≤ 15 chars). */
export function bridgePortName(host: HostName): string {
  return `to-${host}`;
}

export function isReal(host: HostName): host is RealName {
  return host !== 'client';
}

export function isDirector(host: HostName): boolean {
  return (DIRECTOR_NAMES as readonly string[]).includes(host);
}
