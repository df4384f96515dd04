/**
 * Pure: a topology description -> the ordered list of steps that builds it, each with its undo.
 * No I/O here; runner.ts executes the steps.
 *
 * Layout (see docs/testbed.md): one namespace `<prefix>-lan` holds the bridge `br0`; every host
 * (`<prefix>-client`, `<prefix>-www1..3`) has an `eth0` whose veth peer `to-<host>` sits in the LAN
 * namespace, enslaved to the bridge. Each veth pair is created from inside the LAN namespace with
 * its host end moved straight into the host namespace, so the root namespace never holds a testbed
 * link or address. The only steps that run in the root namespace create or delete namespaces.
 */

import {
  BRIDGE_NAME,
  HOST_IFACE,
  HOST_NAMES,
  LAN_HOST,
  LAN6_PREFIX_LEN,
  LAN_PREFIX_LEN,
  VIP,
  VIP6,
  bridgePortName,
  checkPrefix,
  hostAddress,
  hostAddress6,
  hostMac,
  hostNamespace,
  isDirector,
  isReal,
  type HostName,
  type RealName,
} from './addresses.ts';
import { NFT_NDP_TABLE, nftNdpCommands } from './ndp-rules.ts';
import { NFT_ARP_TABLE, deleteArgv, nftArpCommands, renderArptablesRules, ruleToArgv, type ArptablesDialect } from './arp-rules.ts';

export type ArpStyle = 'arptables' | 'sysctl' | 'nft';
export const ARP_STYLES: readonly ArpStyle[] = ['arptables', 'sysctl', 'nft'];

/** A command: argv run in namespace `ns` (null = the root namespace, only for `ip netns add|del`). */
export interface Cmd {
  ns: string | null;
  argv: readonly string[];
}

/**
 * How to undo a step: run a command, stop the web server a daemon step started, or nothing
 * (null: the step changed a setting whose earlier value is not known here, e.g. a sysctl or an
 * offload; it goes away with its namespace, which a later undo deletes).
 */
export type Undo =
  | { kind: 'exec'; ns: string | null; argv: readonly string[] }
  | { kind: 'stop-daemon'; ns: string; host: RealName }
  | null;

export interface Step {
  /** Stable id, e.g. `netns:www1`, `veth:www1`, `httpd:www3` (used to name a step in tests and failure injection). */
  id: string;
  /** 'exec': run argv to completion; 'daemon': start argv as a long-lived server (the web server of `host`). */
  kind: 'exec' | 'daemon';
  ns: string | null;
  argv: readonly string[];
  description: string;
  undo: Undo;
  host?: HostName;
}

export interface TopologyHost {
  name: HostName;
  ns: string;
  addr: string;
  /** Its IPv6 address on the LAN (used only when the topology has `ipv6`). */
  addr6: string;
  mac: string;
  /** Holds the VIP on lo, suppresses ARP for it and runs a web server. */
  real: boolean;
  /** Director-capable (www1, www2): capture-friendly offloads. */
  director: boolean;
  /** Its veth peer in the LAN namespace. */
  bridgePort: string;
}

export interface Topology {
  prefix: string;
  lanNs: string;
  bridge: string;
  vip: string;
  /** Dual-stack (`testbed up --ipv6`): the /64, the VIP6 on the reals' lo, NDP suppression. */
  ipv6: boolean;
  vip6: string;
  iface: string;
  arpStyle: ArpStyle;
  arptables: { bin: string; dialect: ArptablesDialect };
  hosts: TopologyHost[];
  /** Web servers: `command` (e.g. [node, --import, tsx-loader, httpd.ts]) and where certificates live. */
  httpd: { command: readonly string[]; stateDir: string; httpPort: number; httpsPort: number };
}

export interface ReferenceOptions {
  prefix: string;
  arpStyle: ArpStyle;
  httpdCommand: readonly string[];
  stateDir: string;
  arptablesBin?: string;
  arptablesDialect?: ArptablesDialect;
  /** Dual-stack (default false: IPv6 is switched off in every namespace, as before). */
  ipv6?: boolean;
}

/** The seed's topology: client + www1, www2 (directors and reals) + www3 (real), VIP 192.168.0.10. */
export function referenceTopology(o: ReferenceOptions): Topology {
  const prefix = checkPrefix(o.prefix);
  return {
    prefix,
    lanNs: hostNamespace(prefix, LAN_HOST),
    bridge: BRIDGE_NAME,
    vip: VIP,
    ipv6: o.ipv6 === true,
    vip6: VIP6,
    iface: HOST_IFACE,
    arpStyle: o.arpStyle,
    arptables: { bin: o.arptablesBin ?? 'arptables', dialect: o.arptablesDialect ?? 'netfilter' },
    hosts: HOST_NAMES.map((name) => ({
      name,
      ns: hostNamespace(prefix, name),
      addr: hostAddress(name),
      addr6: hostAddress6(name),
      mac: hostMac(name),
      real: isReal(name),
      director: isDirector(name),
      bridgePort: bridgePortName(name),
    })),
    httpd: { command: o.httpdCommand, stateDir: o.stateDir, httpPort: 80, httpsPort: 443 },
  };
}

/** Certificate and key paths of one real's web server. */
export function certPaths(stateDir: string, host: string): { cert: string; key: string } {
  return { cert: `${stateDir}/${host}.crt`, key: `${stateDir}/${host}.key` };
}

/** The full argv of one real's web server (tagged with the prefix so teardown can recognise it). */
export function httpdArgv(t: Topology, host: RealName): string[] {
  const { cert, key } = certPaths(t.httpd.stateDir, host);
  return [
    ...t.httpd.command,
    '--name', host,
    '--tag', t.prefix,
    '--http-port', String(t.httpd.httpPort),
    '--https-port', String(t.httpd.httpsPort),
    '--cert', cert,
    '--key', key,
    // '::' listens on IPv6 and (IPv4-mapped) IPv4 alike; without --ipv6 the namespaces have no IPv6.
    ...(t.ipv6 ? ['--host', '::'] : []),
  ];
}

/** Offload flags per host (PITFALLS.md): see docs/testbed.md. */
export function offloadArgs(h: TopologyHost): string[] | null {
  if (h.director) return ['tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];
  if (h.name === 'client') return ['tx', 'off', 'tso', 'off', 'gso', 'off'];
  return null;
}

/** The ARP sysctls each real gets: 1/2 for the sysctl style; 0/0 (explicitly, as a new namespace
 * inherits the root's IPv4 settings) for the arptables and nft styles, so only the rules suppress ARP. */
export function arpSysctls(style: ArpStyle, iface: string): string[] {
  const [ignore, announce] = style === 'sysctl' ? [1, 2] : [0, 0];
  return [
    `net.ipv4.conf.all.arp_ignore=${ignore}`,
    `net.ipv4.conf.all.arp_announce=${announce}`,
    `net.ipv4.conf.${iface}.arp_ignore=${ignore}`,
    `net.ipv4.conf.${iface}.arp_announce=${announce}`,
  ];
}

const NO_IPV6 = ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
/**
 * A dual-stack host: IPv6 on, no duplicate address detection (every address on the segment is ours
 * and fixed, and DAD would leave them tentative, unusable, for a second or more after `up`), no
 * router advertisements taken (there is no router; nothing may add addresses or routes of its own).
 * `default` matters for eth0, which is created after this step.
 */
export const IPV6_ON_SYSCTLS: readonly string[] = Object.freeze(
  ['all', 'default'].flatMap((c) => [`net.ipv6.conf.${c}.disable_ipv6=0`, `net.ipv6.conf.${c}.accept_dad=0`, `net.ipv6.conf.${c}.dad_transmits=0`, `net.ipv6.conf.${c}.accept_ra=0`]),
);

function exec(id: string, ns: string | null, argv: string[], description: string, undo: string[] | null, host?: HostName): Step {
  const s: Step = { id, kind: 'exec', ns, argv, description, undo: undo ? { kind: 'exec', ns, argv: undo } : null };
  if (host) s.host = host;
  return s;
}

/** The ordered steps that build `t`. Every step but `ip netns add` runs inside a testbed namespace. */
export function planSteps(t: Topology): Step[] {
  const steps: Step[] = [];
  const lan = t.lanNs;
  const cidr = (a: string, len: number): string => `${a}/${len}`;

  // 1. Namespaces (the only root-namespace steps).
  for (const ns of [lan, ...t.hosts.map((h) => h.ns)]) {
    const host = ns.slice(t.prefix.length + 1);
    steps.push(exec(`netns:${host}`, null, ['ip', 'netns', 'add', ns], `create namespace ${ns}`, ['ip', 'netns', 'del', ns]));
  }

  // 2. The switch: a bridge in its own namespace (no STP: ports forward as soon as they are up).
  steps.push(exec('ipv6-off:lan', lan, [...NO_IPV6], 'disable IPv6 (keeps captures to the IPv4 under study)', null));
  steps.push(
    exec('bridge:add', lan, ['ip', 'link', 'add', t.bridge, 'type', 'bridge', 'stp_state', '0'], `create bridge ${t.bridge}`, [
      'ip', 'link', 'del', t.bridge,
    ]),
  );
  steps.push(exec('bridge:up', lan, ['ip', 'link', 'set', t.bridge, 'up'], `bring ${t.bridge} up`, ['ip', 'link', 'set', t.bridge, 'down']));

  // 3. Hosts.
  for (const h of t.hosts) {
    const n = h.name;
    if (t.ipv6) {
      steps.push(exec(`ipv6-on:${n}`, h.ns, ['sysctl', '-q', '-w', ...IPV6_ON_SYSCTLS], `${n}: enable IPv6, no DAD, no router advertisements`, null, n));
    } else {
      steps.push(exec(`ipv6-off:${n}`, h.ns, [...NO_IPV6], `${n}: disable IPv6`, null, n));
    }
    steps.push(exec(`lo-up:${n}`, h.ns, ['ip', 'link', 'set', 'lo', 'up'], `${n}: bring lo up`, ['ip', 'link', 'set', 'lo', 'down'], n));
    steps.push(
      exec(
        `veth:${n}`,
        lan,
        ['ip', 'link', 'add', h.bridgePort, 'type', 'veth', 'peer', 'name', t.iface, 'address', h.mac, 'netns', h.ns],
        `${n}: veth ${h.bridgePort} (LAN) <-> ${t.iface} ${h.mac} (in ${h.ns})`,
        ['ip', 'link', 'del', h.bridgePort],
        n,
      ),
    );
    steps.push(
      exec(`port:${n}`, lan, ['ip', 'link', 'set', h.bridgePort, 'master', t.bridge], `${n}: attach ${h.bridgePort} to ${t.bridge}`, [
        'ip', 'link', 'set', h.bridgePort, 'nomaster',
      ], n),
    );
    steps.push(
      exec(`port-up:${n}`, lan, ['ip', 'link', 'set', h.bridgePort, 'up'], `${n}: bring ${h.bridgePort} up`, [
        'ip', 'link', 'set', h.bridgePort, 'down',
      ], n),
    );
    const off = offloadArgs(h);
    if (off) {
      const why = h.director
        ? 'capture-friendly offloads for a director: no GRO super-frames, no partial checksums'
        : 'send complete TCP checksums (a userspace director re-sends the frame as captured)';
      steps.push(exec(`offload:${n}`, h.ns, ['ethtool', '-K', t.iface, ...off], `${n}: ethtool -K ${t.iface} ${off.join(' ')} (${why})`, null, n));
    }
    if (h.real) {
      // ARP suppression first, VIP second, eth0 up last: the real never answers ARP for the VIP.
      steps.push(
        exec(`arp-sysctl:${n}`, h.ns, ['sysctl', '-q', '-w', ...arpSysctls(t.arpStyle, t.iface)], `${n}: ${
          t.arpStyle === 'sysctl' ? 'arp_ignore=1 arp_announce=2 (ARP suppression, sysctl style)' : 'arp_ignore=0 arp_announce=0 (the rules do the work)'
        }`, null, n),
      );
      if (t.arpStyle === 'nft') {
        nftArpCommands({ vip: t.vip, rip: h.addr, iface: t.iface }).forEach((cmd, i) => {
          steps.push(
            exec(`nft-arp:${n}:${i}`, h.ns, ['nft', ...cmd], `${n}: nft ${cmd.join(' ')}`, i === 0 ? ['nft', 'delete', 'table', 'arp', NFT_ARP_TABLE] : null, n),
          );
        });
      }
      if (t.arpStyle === 'arptables') {
        const rules = renderArptablesRules({ vip: t.vip, rip: h.addr, iface: t.iface, dialect: t.arptables.dialect });
        rules.forEach((line, i) => {
          steps.push(
            exec(`arptables:${n}:${i}`, h.ns, [t.arptables.bin, ...ruleToArgv(line)], `${n}: arptables ${line}`, [
              t.arptables.bin, ...deleteArgv(line),
            ], n),
          );
        });
      }
      steps.push(
        exec(`vip:${n}`, h.ns, ['ip', 'addr', 'add', cidr(t.vip, 32), 'dev', 'lo'], `${n}: VIP ${t.vip}/32 on lo`, [
          'ip', 'addr', 'del', cidr(t.vip, 32), 'dev', 'lo',
        ], n),
      );
      if (t.ipv6) {
        // The IPv6 form of the same order: NDP suppression for the VIP6 first, then the VIP6.
        nftNdpCommands({ vip6: t.vip6, iface: t.iface }).forEach((cmd, i) => {
          steps.push(
            exec(`nft-ndp:${n}:${i}`, h.ns, ['nft', ...cmd], `${n}: nft ${cmd.join(' ')}`, i === 0 ? ['nft', 'delete', 'table', 'ip6', NFT_NDP_TABLE] : null, n),
          );
        });
        steps.push(
          exec(`vip6:${n}`, h.ns, ['ip', '-6', 'addr', 'add', cidr(t.vip6, 128), 'dev', 'lo', 'nodad'], `${n}: VIP6 ${t.vip6}/128 on lo`, [
            'ip', '-6', 'addr', 'del', cidr(t.vip6, 128), 'dev', 'lo',
          ], n),
        );
      }
    }
    steps.push(
      exec(`addr:${n}`, h.ns, ['ip', 'addr', 'add', cidr(h.addr, LAN_PREFIX_LEN), 'dev', t.iface], `${n}: ${h.addr}/${LAN_PREFIX_LEN} on ${t.iface}`, [
        'ip', 'addr', 'del', cidr(h.addr, LAN_PREFIX_LEN), 'dev', t.iface,
      ], n),
    );
    if (t.ipv6) {
      steps.push(
        exec(`addr6:${n}`, h.ns, ['ip', '-6', 'addr', 'add', cidr(h.addr6, LAN6_PREFIX_LEN), 'dev', t.iface, 'nodad'], `${n}: ${h.addr6}/${LAN6_PREFIX_LEN} on ${t.iface}`, [
          'ip', '-6', 'addr', 'del', cidr(h.addr6, LAN6_PREFIX_LEN), 'dev', t.iface,
        ], n),
      );
    }
    steps.push(exec(`up:${n}`, h.ns, ['ip', 'link', 'set', t.iface, 'up'], `${n}: bring ${t.iface} up`, ['ip', 'link', 'set', t.iface, 'down'], n));
  }

  // 4. Web servers on the reals (HTTP + HTTPS, bound to 0.0.0.0: own address and VIP).
  for (const h of t.hosts) {
    if (!isReal(h.name)) continue;
    steps.push({
      id: `httpd:${h.name}`,
      kind: 'daemon',
      ns: h.ns,
      argv: httpdArgv(t, h.name),
      description: `${h.name}: web server on :${t.httpd.httpPort} and :${t.httpd.httpsPort}`,
      undo: { kind: 'stop-daemon', ns: h.ns, host: h.name },
      host: h.name,
    });
  }
  return steps;
}

/** The undo actions of `steps` (those that have one), in the order to run them: reverse. */
export function undoPlan(steps: readonly Step[]): Exclude<Undo, null>[] {
  const out: Exclude<Undo, null>[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const u = steps[i]!.undo;
    if (u) out.push(u);
  }
  return out;
}

/** One line per step, for `--dry-run` and docs. */
export function describeSteps(steps: readonly Step[]): string[] {
  return steps.map((s, i) => `${String(i + 1).padStart(3)}. [${s.ns ?? 'root'}] ${s.description}: ${s.argv.join(' ')}`);
}

