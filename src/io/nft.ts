/**
 * The director keeps its own IP stack away from virtual-service traffic with an nftables netdev
 * ingress `drop` on the capture interface. AF_PACKET taps see a frame before netdev ingress, so the
 * capture still gets every frame while the local kernel never does (no RST from a local port, no
 * ICMP, no double handling when the VIP is also a local address).
 *
 * One table per interface, `netdev dsrlb_<iface>`: installing replaces it atomically (so a restart
 * after a crash cleans up what the crashed run left), removing it is quiet when it is absent.
 * render* functions are pure; install/remove run `nft -f -` through execFile.
 */
import { execFile } from 'node:child_process';
import { DsrlbError } from '../errors/index.ts';
import { ipToString } from '../model/index.ts';
import { groupServices, groupServices6, type FilterService } from './bpf.ts';
import { assertIfaceName } from './cap.ts';

/**
 * The table name for an interface: `dsrlb_` + the name with every character other than
 * [A-Za-z0-9] written as `_xHH`, so two interface names never share a table.
 */
export function ingressTableName(iface: string): string {
  assertIfaceName(iface);
  return 'dsrlb_' + iface.replace(/[^A-Za-z0-9]/g, (c) => `_x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The nft script that (re)installs the drop table in one transaction: create-if-absent, delete,
 * then define, so the result is exactly one table whatever was there before.
 */
export function renderIngressDrop(iface: string, services: readonly FilterService[]): string {
  const table = ingressTableName(iface);
  const groups = groupServices(services);
  const groups6 = groupServices6(services);
  if (groups.size === 0 && groups6.size === 0) throw new DsrlbError('E_FILTER_EMPTY', 'no virtual service to drop');
  const rules: string[] = [];
  const rule = (family: 'ip' | 'ip6', vip: string, byProto: Map<'tcp' | 'udp', number[]>) => {
    for (const [proto, ports] of byProto) {
      const set = ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`;
      rules.push(`    ${family} daddr ${vip} ${proto} dport ${set} counter drop`);
    }
  };
  for (const [vip, byProto] of groups) rule('ip', ipToString(vip), byProto);
  // IPv6: the same drop, so the host's own stack answers no RST or ICMPv6 for a VIP6 it may hold.
  for (const [vip, byProto] of groups6) rule('ip6', vip, byProto);
  return [
    `add table netdev ${table}`,
    `delete table netdev ${table}`,
    `table netdev ${table} {`,
    `  chain ingress {`,
    `    type filter hook ingress device "${iface}" priority 0; policy accept;`,
    ...rules,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** The script that removes the table; quiet when it does not exist (create-if-absent first). */
export function renderIngressRemove(iface: string): string {
  const table = ingressTableName(iface);
  return `add table netdev ${table}\ndelete table netdev ${table}\n`;
}

export interface NftOptions {
  /** The nft binary (default "nft", found on PATH). */
  nft?: string;
  /** Run inside this network namespace (`ip netns exec NS nft ...`): for testbeds. */
  netns?: string;
  timeoutMs?: number;
}

/** Runs `nft -f -` with `script` on stdin. */
export function runNftScript(script: string, opts: NftOptions = {}): Promise<void> {
  const nft = opts.nft ?? 'nft';
  const [cmd, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, nft, '-f', '-']] : [nft, ['-f', '-']];
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      const text = String(stderr).trim() || err.message;
      if (code === 'ENOENT') {
        reject(new DsrlbError('E_NFT_MISSING', `${cmd} not found: install nftables (apt-get install nftables)`, { cause: err }));
      } else if (/Operation not permitted/i.test(text)) {
        reject(new DsrlbError('E_NFT_PERM', `nft: ${text} (needs CAP_NET_ADMIN in the nft process: run as root or with ambient capabilities; file capabilities on node do not pass to nft)`, { cause: err }));
      } else {
        reject(new DsrlbError('E_NFT', `nft failed: ${text}`, { cause: err }));
      }
    });
    // A child that dies at once (missing binary, no permission) closes its stdin: the write then
    // fails with EPIPE, which the exit callback above already reports.
    child.stdin?.on('error', () => {});
    child.stdin?.end(script);
  });
}

export async function installIngressDrop(iface: string, services: readonly FilterService[], opts: NftOptions = {}): Promise<void> {
  await runNftScript(renderIngressDrop(iface, services), opts);
}

export async function removeIngressDrop(iface: string, opts: NftOptions = {}): Promise<void> {
  await runNftScript(renderIngressRemove(iface), opts);
}
