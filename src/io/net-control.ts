/**
 * The host side of the director (ports/NetControl): the nft ingress drop, this host's addresses,
 * and the veth pair through which frames for this host's own real server reach its stack.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import { DsrlbError } from '../errors/index.ts';
import { canonicalIPv6, parseIPv4 } from '../model/index.ts';
import type { LocalPath, NetControl, ServiceMatch } from '../ports/index.ts';
import { installIngressDrop, removeIngressDrop } from './nft.ts';

const run = promisify(execFile);

/** The two ends of the local delivery pair: frames go out of LOCAL_TX and arrive at LOCAL_RX's stack. */
export const LOCAL_TX = 'dsrlb-l0';
export const LOCAL_RX = 'dsrlb-l1';
/** Link-local /32 addresses of the two ends (RFC 3927 range; no subnet route is added). */
export const LOCAL_TX_ADDR = '169.254.113.1';
export const LOCAL_RX_ADDR = '169.254.113.2';

/** conf/all/rp_filter = 1 (strict) makes every interface strict: the local path cannot work then. */
export function strictRpFilterEverywhere(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv4/conf/all/rp_filter', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

async function ip(args: string[], okIfMissing = false): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    if (okIfMissing && /Cannot find device|does not exist/.test(msg)) return;
    throw new DsrlbError('E_NET_CONTROL', `ip ${args.join(' ')}: ${msg}`, { cause: e });
  }
}

function setSysctl(path: string, value: string): void {
  try {
    writeFileSync(`/proc/sys/${path}`, value);
  } catch (e) {
    throw new DsrlbError('E_NET_CONTROL', `cannot set ${path.replaceAll('/', '.')}=${value}: ${(e as Error).message}`, { cause: e });
  }
}

export const hostNetControl: NetControl = {
  installIngressDrop: (iface: string, services: readonly ServiceMatch[]) => installIngressDrop(iface, services),
  removeIngressDrop: (iface: string) => removeIngressDrop(iface),

  localAddresses(): number[] {
    const out: number[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.family === 'IPv4' && a.address !== LOCAL_TX_ADDR && a.address !== LOCAL_RX_ADDR) out.push(parseIPv4(a.address)!);
      }
    }
    return out;
  },

  addressOn(iface: string): number | null {
    const a = networkInterfaces()[iface]?.find((x) => x.family === 'IPv4');
    return a ? parseIPv4(a.address) : null;
  },

  localAddresses6(): string[] {
    const out: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.family !== 'IPv6' || a.scopeid !== 0 || a.address === '::1') continue;
        const c = canonicalIPv6(a.address);
        if (c !== null && !out.includes(c)) out.push(c);
      }
    }
    return out;
  },

  addressOn6(iface: string): string | null {
    const list = (networkInterfaces()[iface] ?? []).filter((x) => x.family === 'IPv6');
    // A global address first (the reals answer it on-link like any other); else the link-local one.
    const a = list.find((x) => x.scopeid === 0) ?? list[0];
    return a ? canonicalIPv6(a.address.replace(/%.*$/, '')) : null;
  },

  ipv6Forwarding(iface: string): boolean {
    try {
      return readFileSync(`/proc/sys/net/ipv6/conf/${iface}/forwarding`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  },

  async createLocalPath(): Promise<LocalPath> {
    await ip(['link', 'del', LOCAL_TX], true);
    await ip(['link', 'add', LOCAL_TX, 'type', 'veth', 'peer', 'name', LOCAL_RX]);
    // Frames for the VIP arrive at LOCAL_RX with the client's address as source, which is routed
    // out of the wire interface: strict reverse-path filtering (1) drops them. Loose (2) keeps the
    // check meaningful (the source must be routable somewhere) and wins over conf/all = 0 (the
    // kernel applies the max of the two). Loose mode also fails on an interface WITHOUT an IPv4
    // address (fib_validate_source's last resort), so each end gets a link-local /32 that adds
    // no subnet route. The addresses also keep libpcap from warning about an address-less device.
    setSysctl(`net/ipv4/conf/${LOCAL_RX}/rp_filter`, '2');
    await ip(['addr', 'add', `${LOCAL_TX_ADDR}/32`, 'dev', LOCAL_TX, 'scope', 'link']);
    await ip(['addr', 'add', `${LOCAL_RX_ADDR}/32`, 'dev', LOCAL_RX, 'scope', 'link']);
    try {
      // LOCAL_RX takes the frames of local IPv6 reals (a VIP6 on lo), so IPv6 stays on there, quiet:
      // no address of its own (addr_gen_mode 1), no DAD, no router advertisements; the sending end
      // needs none of it.
      writeFileSync(`/proc/sys/net/ipv6/conf/${LOCAL_RX}/addr_gen_mode`, '1');
      writeFileSync(`/proc/sys/net/ipv6/conf/${LOCAL_RX}/accept_dad`, '0');
      writeFileSync(`/proc/sys/net/ipv6/conf/${LOCAL_RX}/accept_ra`, '0');
      writeFileSync(`/proc/sys/net/ipv6/conf/${LOCAL_RX}/disable_ipv6`, '0');
      writeFileSync(`/proc/sys/net/ipv6/conf/${LOCAL_TX}/disable_ipv6`, '1');
    } catch {
      // IPv6 may be off on this host; nothing to set up then.
    }
    await ip(['link', 'set', LOCAL_RX, 'up']);
    await ip(['link', 'set', LOCAL_TX, 'up']);
    const peerMac = readFileSync(`/sys/class/net/${LOCAL_RX}/address`, 'utf8').trim();
    return { iface: LOCAL_TX, peerMac };
  },

  removeLocalPath: () => ip(['link', 'del', LOCAL_TX], true),
};
