/**
 * BIRD 2 configurations (pure text): the director's speaker and the router's (testbed and
 * docs/scale-out.md). The director's file names the VIPs to announce as blackhole static routes of
 * the protocol `dsrlb_vips`, exported to the router only; BIRD installs nothing in the director's
 * kernel (there is no kernel protocol). dsrlb rewrites the file and runs `birdc configure` on every
 * change: the static protocol is reconfigured in place, the BGP sessions stay up.
 */
import type { BgpOptions } from './options.ts';

export const VIPS_PROTOCOL = 'dsrlb_vips';

export interface DirectorBirdParams {
  routerId: string;
  /** The address the sessions leave from. */
  local: string;
  bgp: BgpOptions;
  /** The VIPs announced now (the /32 routes). */
  announced: readonly string[];
  /** BIRD's log file (default: syslog). */
  log?: string;
}

function bfdBlock(bfd: BgpOptions['bfd']): string[] {
  if (!bfd) return [];
  return [
    'protocol bfd dsrlb_bfd {',
    `  interface "*" { min rx interval ${bfd.intervalMs} ms; min tx interval ${bfd.intervalMs} ms; idle tx interval 1000 ms; multiplier ${bfd.multiplier}; };`,
    '}',
  ];
}

function logLine(file: string | undefined): string[] {
  return file === undefined ? [] : [`log "${file}" { info, warning, error, fatal, remote, auth };`];
}

function timers(holdTime: number): string[] {
  // hold 0 = no keepalives (RFC 4271); else keepalive = hold/3, at least 1 s.
  const keep = holdTime === 0 ? [] : [`  keepalive time ${Math.max(1, Math.floor(holdTime / 3))};`];
  return [`  hold time ${holdTime};`, `  startup hold time ${Math.max(holdTime, 3)};`, ...keep, '  connect retry time 1;', '  error wait time 1, 5;'];
}

export function renderDirectorBird(p: DirectorBirdParams): string {
  const { bgp } = p;
  const comm = bgp.communities.map(([a, b]) => `bgp_community.add((${a}, ${b})); `).join('');
  const lines = [
    '# Written by dsrlb run --bgp: do not edit (rewritten on every announcement change).',
    `router id ${p.routerId};`,
    ...logLine(p.log),
    'protocol device { scan time 10; }',
    '',
    `# The VIPs this director can serve now: /32 blackhole routes, exported to the router(s) only.`,
    `protocol static ${VIPS_PROTOCOL} {`,
    '  ipv4;',
    ...p.announced.map((v) => `  route ${v}/32 blackhole;`),
    '}',
    '',
    ...bfdBlock(bgp.bfd),
    '',
    ...bgp.peers.flatMap((peer, i) => [
      `protocol bgp dsrlb_peer${i + 1} {`,
      `  local ${p.local} as ${bgp.localAs};`,
      `  neighbor ${peer} as ${bgp.peerAs};`,
      ...timers(bgp.holdTime),
      '  graceful restart off;',
      `  bfd ${bgp.bfd ? 'on' : 'off'};`,
      '  ipv4 {',
      '    import none;',
      `    export filter { if proto = "${VIPS_PROTOCOL}" then { ${comm}accept; } reject; };`,
      '    next hop self;',
      '  };',
      '}',
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

export interface RouterBirdParams {
  routerId: string;
  local: string;
  localAs: number;
  directors: ReadonlyArray<{ name: string; address: string; as: number }>;
  holdTime: number;
  bfd: BgpOptions['bfd'];
  log?: string;
}

/**
 * The router: one eBGP session per director, routes accepted only as /32s, and a kernel protocol
 * with `merge paths on` so that equal routes from several directors become ONE multipath route
 * (Linux ECMP; the hash policy is a sysctl, net.ipv4.fib_multipath_hash_policy=1 for L4).
 */
export function renderRouterBird(p: RouterBirdParams): string {
  const lines = [
    '# Router side of the dsrlb ECMP testbed (docs/scale-out.md).',
    `router id ${p.routerId};`,
    ...logLine(p.log),
    'protocol device { scan time 10; }',
    '',
    '# Install the best routes in the kernel; equal BGP routes from several directors merge into one',
    '# multipath route (ECMP).',
    'protocol kernel dsrlb_kernel {',
    '  ipv4 { import none; export where source = RTS_BGP; };',
    '  merge paths on;',
    '}',
    '',
    ...bfdBlock(p.bfd),
    '',
    'template bgp dsrlb_director {',
    `  local ${p.local} as ${p.localAs};`,
    ...timers(p.holdTime),
    '  graceful restart off;',
    `  bfd ${p.bfd ? 'on' : 'off'};`,
    '  ipv4 {',
    '    import where net.len = 32;',
    '    export none;',
    '  };',
    '}',
    '',
    ...p.directors.map((d) => `protocol bgp ${d.name} from dsrlb_director { neighbor ${d.address} as ${d.as}; }`),
  ];
  return `${lines.join('\n')}\n`;
}
