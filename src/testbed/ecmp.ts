/**
 * Pure: the ECMP scale-out topology (issue #12, docs/scale-out.md) -> ordered steps, as topology.ts
 * does for the reference one (which stays untouched and the default).
 *
 *   client (10.77.0.100-107) --- eth1 [router] eth0 --- br0 (in <prefix>-lan) --- d1..dN (directors)
 *                                                                             \-- www1..3 (reals, VIP on lo)
 *
 * The router forwards between the client subnet and the server segment, runs BIRD peering with every
 * director (router.conf, written by the runner from renderRouterBird) and installs the VIP as one
 * multipath route; fib_multipath_hash_policy=1 spreads flows by their L4 5-tuple. Directors have
 * only their own address (the VIP is announced by BGP, never held or ARPed); reals hold the VIP on
 * lo with arp_ignore=1/arp_announce=2 and reply straight to the client through the router.
 */
import { checkPrefix, REALS, REAL_NAMES, VIP, type RealName } from './addresses.ts';
import type { Step } from './topology.ts';
import { DsrlbError } from '../errors/index.ts';

export const ECMP_ROUTER_ADDR = '192.168.0.1';
export const ECMP_ROUTER_CLIENT_ADDR = '10.77.0.1';
/** Several clients on one host: mh hashes the source address (no mh-port), so eight addresses reach every real. */
export const ECMP_CLIENT_ADDRS: readonly string[] = Array.from({ length: 8 }, (_, i) => `10.77.0.${100 + i}`);
export const ECMP_CLIENT_NET = '10.77.0.0/24';
export const ECMP_ROUTER_AS = 65000;
export const ECMP_DIRECTOR_AS = 65001;
export const ECMP_MAX_DIRECTORS = 4;

export interface EcmpHost {
  name: string;
  ns: string;
  addr: string;
  mac: string;
  kind: 'director' | 'real';
  bridgePort: string;
}

export interface EcmpTopology {
  prefix: string;
  lanNs: string;
  routerNs: string;
  clientNs: string;
  vip: string;
  directors: EcmpHost[];
  reals: EcmpHost[];
  /** Router's BIRD files (in the state directory). */
  bird: { conf: string; socket: string; pidFile: string; log: string };
  httpd: { command: readonly string[]; stateDir: string };
}

export function directorAddress(i: number): string {
  return `192.168.0.${20 + i}`;
}

const mac = (a: number, b: number): string => `02:d5:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}`;

export function ecmpTopology(o: { prefix: string; directors: number; httpdCommand: readonly string[]; stateDir: string }): EcmpTopology {
  const prefix = checkPrefix(o.prefix);
  if (!Number.isInteger(o.directors) || o.directors < 1 || o.directors > ECMP_MAX_DIRECTORS) {
    throw new DsrlbError('E_TESTBED_TOPOLOGY', `--directors ${o.directors}: the ECMP testbed has 1..${ECMP_MAX_DIRECTORS} directors`);
  }
  const ns = (h: string): string => `${prefix}-${h}`;
  const directors: EcmpHost[] = Array.from({ length: o.directors }, (_, k) => {
    const addr = directorAddress(k + 1);
    return { name: `d${k + 1}`, ns: ns(`d${k + 1}`), addr, mac: mac(0, Number(addr.split('.')[3])), kind: 'director', bridgePort: `to-d${k + 1}` };
  });
  const reals: EcmpHost[] = REAL_NAMES.map((r: RealName) => ({
    name: r, ns: ns(r), addr: REALS[r], mac: mac(0, Number(REALS[r].split('.')[3])), kind: 'real', bridgePort: `to-${r}`,
  }));
  const sd = o.stateDir;
  return {
    prefix, lanNs: ns('lan'), routerNs: ns('router'), clientNs: ns('client'), vip: VIP, directors, reals,
    bird: { conf: `${sd}/router-bird.conf`, socket: `${sd}/router-bird.ctl`, pidFile: `${sd}/router-bird.pid`, log: `${sd}/router-bird.log` },
    httpd: { command: o.httpdCommand, stateDir: sd },
  };
}

/** Every namespace of an ECMP testbed, the LAN first. */
export function ecmpNamespaces(t: EcmpTopology): string[] {
  return [t.lanNs, t.routerNs, t.clientNs, ...t.directors.map((d) => d.ns), ...t.reals.map((r) => r.ns)];
}

const NO_IPV6 = ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

function ex(id: string, ns: string | null, argv: string[], description: string, undo: string[] | null): Step {
  return { id, kind: 'exec', ns, argv, description, undo: undo ? { kind: 'exec', ns, argv: undo } : null };
}

/** The steps that build `t` (the runner writes the router's BIRD file before running them). */
export function planEcmpSteps(t: EcmpTopology): Step[] {
  const s: Step[] = [];
  for (const n of ecmpNamespaces(t)) {
    s.push(ex(`netns:${n.slice(t.prefix.length + 1)}`, null, ['ip', 'netns', 'add', n], `create namespace ${n}`, ['ip', 'netns', 'del', n]));
  }
  const lan = t.lanNs;
  s.push(ex('ipv6-off:lan', lan, [...NO_IPV6], 'disable IPv6', null));
  s.push(ex('bridge:add', lan, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0'], 'create bridge br0 (the server segment)', ['ip', 'link', 'del', 'br0']));
  s.push(ex('bridge:up', lan, ['ip', 'link', 'set', 'br0', 'up'], 'bring br0 up', null));

  // The router: eth0 on the server segment, eth1 to the client.
  const r = t.routerNs;
  const c = t.clientNs;
  s.push(ex('ipv6-off:router', r, [...NO_IPV6], 'router: disable IPv6', null));
  s.push(ex('lo-up:router', r, ['ip', 'link', 'set', 'lo', 'up'], 'router: lo up', null));
  s.push(ex('veth:router', lan, ['ip', 'link', 'add', 'to-router', 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(0, 1), 'netns', r],
    'router: veth to-router (LAN) <-> eth0', ['ip', 'link', 'del', 'to-router']));
  s.push(ex('port:router', lan, ['ip', 'link', 'set', 'to-router', 'master', 'br0', 'up'], 'router: attach to-router to br0', null));
  s.push(ex('veth:client', r, ['ip', 'link', 'add', 'eth1', 'address', mac(1, 1), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(1, 100), 'netns', c],
    'router eth1 <-> client eth0', ['ip', 'link', 'del', 'eth1']));
  s.push(ex('sysctl:router', r, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1',
    'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'],
    'router: forward, ECMP by L4 hash (fib_multipath_hash_policy=1), no reverse-path filter', null));
  for (const i of ['eth0', 'eth1']) {
    s.push(ex(`offload:router:${i}`, r, ['ethtool', '-K', i, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'],
      `router: ethtool -K ${i} (forward wire-size frames: the directors capture them)`, null));
  }
  s.push(ex('addr:router:eth0', r, ['ip', 'addr', 'add', `${ECMP_ROUTER_ADDR}/24`, 'dev', 'eth0'], `router: ${ECMP_ROUTER_ADDR}/24 on eth0`, null));
  s.push(ex('addr:router:eth1', r, ['ip', 'addr', 'add', `${ECMP_ROUTER_CLIENT_ADDR}/24`, 'dev', 'eth1'], `router: ${ECMP_ROUTER_CLIENT_ADDR}/24 on eth1`, null));
  s.push(ex('up:router:eth0', r, ['ip', 'link', 'set', 'eth0', 'up'], 'router: eth0 up', null));
  s.push(ex('up:router:eth1', r, ['ip', 'link', 'set', 'eth1', 'up'], 'router: eth1 up', null));

  // The client: several source addresses behind the router.
  s.push(ex('ipv6-off:client', c, [...NO_IPV6], 'client: disable IPv6', null));
  s.push(ex('lo-up:client', c, ['ip', 'link', 'set', 'lo', 'up'], 'client: lo up', null));
  s.push(ex('offload:client', c, ['ethtool', '-K', 'eth0', 'tx', 'off', 'tso', 'off', 'gso', 'off'], 'client: complete checksums, wire-size segments', null));
  ECMP_CLIENT_ADDRS.forEach((a, i) => s.push(ex(`addr:client:${i}`, c, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0'], `client: ${a}/24`, null)));
  s.push(ex('up:client', c, ['ip', 'link', 'set', 'eth0', 'up'], 'client: eth0 up', null));
  s.push(ex('route:client', c, ['ip', 'route', 'add', 'default', 'via', ECMP_ROUTER_CLIENT_ADDR], 'client: default route via the router', null));

  // Directors and reals on the server segment.
  for (const h of [...t.directors, ...t.reals]) {
    const n = h.name;
    s.push(ex(`ipv6-off:${n}`, h.ns, [...NO_IPV6], `${n}: disable IPv6`, null));
    s.push(ex(`lo-up:${n}`, h.ns, ['ip', 'link', 'set', 'lo', 'up'], `${n}: lo up`, null));
    s.push(ex(`veth:${n}`, lan, ['ip', 'link', 'add', h.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'address', h.mac, 'netns', h.ns],
      `${n}: veth ${h.bridgePort} (LAN) <-> eth0 ${h.mac}`, ['ip', 'link', 'del', h.bridgePort]));
    s.push(ex(`port:${n}`, lan, ['ip', 'link', 'set', h.bridgePort, 'master', 'br0', 'up'], `${n}: attach ${h.bridgePort} to br0`, null));
    if (h.kind === 'director') {
      s.push(ex(`offload:${n}`, h.ns, ['ethtool', '-K', 'eth0', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], `${n}: capture-friendly offloads`, null));
    } else {
      s.push(ex(`arp-sysctl:${n}`, h.ns, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2',
        'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2'], `${n}: arp_ignore=1 arp_announce=2 (ARP suppression)`, null));
      s.push(ex(`vip:${n}`, h.ns, ['ip', 'addr', 'add', `${t.vip}/32`, 'dev', 'lo'], `${n}: VIP ${t.vip}/32 on lo`, null));
    }
    s.push(ex(`addr:${n}`, h.ns, ['ip', 'addr', 'add', `${h.addr}/24`, 'dev', 'eth0'], `${n}: ${h.addr}/24 on eth0`, null));
    s.push(ex(`up:${n}`, h.ns, ['ip', 'link', 'set', 'eth0', 'up'], `${n}: eth0 up`, null));
    s.push(ex(`route:${n}`, h.ns, ['ip', 'route', 'add', 'default', 'via', ECMP_ROUTER_ADDR], `${n}: default route via the router (replies to the clients)`, null));
  }

  // The router's BGP daemon (the runner writes its configuration first; down kills it by its PID file).
  s.push(ex('bird:router', r, ['bird', '-c', t.bird.conf, '-s', t.bird.socket, '-P', t.bird.pidFile],
    `router: BIRD peering with ${t.directors.map((d) => `${d.name} ${d.addr}`).join(', ')} (AS ${ECMP_ROUTER_AS} <-> ${ECMP_DIRECTOR_AS})`, null));

  // Web servers on the reals.
  for (const h of t.reals) {
    s.push({
      id: `httpd:${h.name}`, kind: 'daemon', ns: h.ns, host: h.name as RealName,
      argv: [...t.httpd.command, '--name', h.name, '--tag', t.prefix, '--http-port', '80', '--https-port', '443',
        '--cert', `${t.httpd.stateDir}/${h.name}.crt`, '--key', `${t.httpd.stateDir}/${h.name}.key`],
      description: `${h.name}: web server on :80 and :443`,
      undo: { kind: 'stop-daemon', ns: h.ns, host: h.name as RealName },
    });
  }
  return s;
}
