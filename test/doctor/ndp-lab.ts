/**
 * A small IPv6 segment in namespaces for the NDP tests (the reference testbed turns IPv6 off):
 * `<prefix>-lan` holds a bridge; hosts c (client, 2001:db8::1), r1 (::2), r2 (::3) and d (::4, a
 * stand-in director) each have an eth0 on it with IPv6 on, their own address added `nodad` so they
 * are usable at once. Nothing is added to the root namespace but the namespaces themselves.
 */
import { fileURLToPath } from 'node:url';
import { nsExec } from '../../src/testbed/index.ts';
import { rootExec } from '../../src/testbed/ns.ts';

export const VIP6 = '2001:db8::10';
export const HOSTS = ['c', 'r1', 'r2', 'd'] as const;
export type Host = (typeof HOSTS)[number];
export const ADDR: Record<Host, string> = { c: '2001:db8::1', r1: '2001:db8::2', r2: '2001:db8::3', d: '2001:db8::4' };
export const MAC: Record<Host, string> = { c: '02:d6:00:00:00:01', r1: '02:d6:00:00:00:02', r2: '02:d6:00:00:00:03', d: '02:d6:00:00:00:04' };

export interface Lab {
  prefix: string;
  ns(h: Host | 'lan'): string;
  /** Runs argv in the host's namespace; throws unless it exits 0. */
  sh(h: Host, argv: string[]): Promise<string>;
  /** NDP probe from the host's eth0 (as the client asks): every MAC that answered for `target`. */
  probe(from: Host, target: string, unicastMac?: string): Promise<{ sent: number; answers: Array<{ mac: string; count: number }> }>;
  /** The IPv6 addresses of a device with their flags. */
  addrs(h: Host, dev: string): Promise<Array<{ local: string; tentative: boolean; dadfailed: boolean }>>;
  down(): Promise<void>;
}

const PROBE = fileURLToPath(new URL('./ndp-probe.ts', import.meta.url));
const DSRLB = fileURLToPath(new URL('../../src/cli/dsrlb.mjs', import.meta.url));

/** argv that runs dsrlb (this checkout) inside a namespace. */
export function dsrlbArgv(args: string[]): string[] {
  return [process.execPath, DSRLB, ...args];
}

export async function labUp(prefix: string): Promise<Lab> {
  const ns = (h: Host | 'lan'): string => `${prefix}-${h}`;
  const made: string[] = [];
  const down = async (): Promise<void> => {
    for (const n of made.reverse()) await rootExec(['ip', 'netns', 'del', n]);
  };
  const sh = async (h: Host | 'lan', argv: string[]): Promise<string> => (await nsExec(ns(h), argv, { check: true, timeoutMs: 20_000 })).stdout;
  try {
    for (const h of ['lan', ...HOSTS] as const) {
      await rootExec(['ip', 'netns', 'add', ns(h)], { check: true });
      made.push(ns(h));
    }
    await sh('lan', ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await sh('lan', ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0']);
    await sh('lan', ['ip', 'link', 'set', 'br0', 'up']);
    for (const h of HOSTS) {
      await sh(h, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0']);
      await sh(h, ['ip', 'link', 'set', 'lo', 'up']);
      await sh('lan', ['ip', 'link', 'add', `to-${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'address', MAC[h], 'netns', ns(h)]);
      await sh('lan', ['ip', 'link', 'set', `to-${h}`, 'master', 'br0']);
      await sh('lan', ['ip', 'link', 'set', `to-${h}`, 'up']);
      await sh(h, ['ip', 'addr', 'add', `${ADDR[h]}/64`, 'dev', 'eth0', 'nodad']);
      await sh(h, ['ip', 'link', 'set', 'eth0', 'up']);
    }
  } catch (e) {
    await down();
    throw e;
  }
  return {
    prefix,
    ns,
    sh,
    down,
    async probe(from, target, unicastMac) {
      const out = await sh(from, [process.execPath, '--import', 'tsx', PROBE, 'eth0', target, ADDR[from], ...(unicastMac ? [unicastMac] : [])]);
      return JSON.parse(out) as { sent: number; answers: Array<{ mac: string; count: number }> };
    },
    async addrs(h, dev) {
      const list = JSON.parse(await sh(h, ['ip', '-j', '-6', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ local: string; tentative?: boolean; dadfailed?: boolean }> }>;
      return list.flatMap((l) => l.addr_info.map((a) => ({ local: a.local, tentative: a.tentative === true, dadfailed: a.dadfailed === true })));
    },
  };
}
