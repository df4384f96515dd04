/**
 * parseHaResources(text, file): heartbeat's haresources, pure. One resource group per statement
 * (a trailing `\` continues it): the owner (preferred) node, then the resources in start order.
 * A resource is `NAME` or `NAME::arg1::arg2…`; a bare IPv4 address is short for `IPaddr::ADDR`;
 * `IPv6addr::ADDR6/LEN/IF` moves an IPv6 VIP.
 */
import { ipv6ToString, parseIPv4, parseIPv6 } from '../../model/index.ts';
import { HaDiag, splitLines } from './lines.ts';
import type { HaResource, HaResourceGroup, HaResources } from './types.ts';

export const DEFAULT_LDIRECTORD_CF = 'ldirectord.cf';

function parseIpSpec(spec: string, line: number, raw: string, agent: 'IPaddr' | 'IPaddr2', d: HaDiag): HaResource | null {
  // ADDR[/LEN[/IF[/BCAST]]]
  const parts = spec.split('/');
  const addr = parseIPv4(parts[0] ?? '');
  if (addr === null) {
    d.error('E_HA_RESOURCE', line, `${raw}: ${JSON.stringify(parts[0])} is not an IPv4 address`);
    return null;
  }
  let prefixLen: number | null = null;
  if (parts[1] !== undefined && parts[1] !== '') {
    const n = /^\d+$/.test(parts[1]) ? Number(parts[1]) : NaN;
    if (!(n >= 1 && n <= 32)) {
      d.error('E_HA_RESOURCE', line, `${raw}: prefix length ${JSON.stringify(parts[1])} is not 1..32`);
      return null;
    }
    prefixLen = n;
  }
  const iface = parts[2] !== undefined && parts[2] !== '' ? parts[2] : null;
  if (parts.length > 4) d.warn('W_HA_RESOURCE', line, `${raw}: extra fields after the broadcast address ignored`);
  return { kind: 'ip', line, raw, agent, addr, prefixLen, iface };
}

/**
 * `IPv6addr::ADDR[/LEN[/IF]]`. heartbeat splits a resource's arguments at every `::`, so a
 * compressed address reaches its IPv6addr script in pieces: dsrlb takes everything after the agent's
 * name as the address, and warns that heartbeat itself needs it written out in full.
 */
function parseIp6Spec(spec: string, line: number, raw: string, d: HaDiag): HaResource | null {
  const parts = spec.split('/');
  const b = parseIPv6(parts[0] ?? '');
  if (b === null || b[0] === 0xff || b.every((x) => x === 0)) {
    d.error('E_HA_RESOURCE', line, `${raw}: ${JSON.stringify(parts[0])} is not a unicast IPv6 address`);
    return null;
  }
  let prefixLen: number | null = null;
  if (parts[1] !== undefined && parts[1] !== '') {
    const n = /^\d+$/.test(parts[1]) ? Number(parts[1]) : NaN;
    if (!(n >= 1 && n <= 128)) {
      d.error('E_HA_RESOURCE', line, `${raw}: prefix length ${JSON.stringify(parts[1])} is not 1..128`);
      return null;
    }
    prefixLen = n;
  }
  if (parts[0]!.includes('::')) {
    d.warn('W_HA_RESOURCE', line, `${raw}: heartbeat splits resource arguments at '::', so its IPv6addr would get the address in pieces; write it in full (${ipv6Full(b)}) to share this file with heartbeat`);
  }
  if (parts.length > 3) d.warn('W_HA_RESOURCE', line, `${raw}: extra fields after the interface ignored`);
  return { kind: 'ip6', line, raw, agent: 'IPv6addr', addr6: ipv6ToString(b), prefixLen, iface: parts[2] !== undefined && parts[2] !== '' ? parts[2] : null };
}

/** All eight groups, no compression: the form heartbeat's argument splitting leaves whole. */
function ipv6Full(b: Uint8Array): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return g.join(':');
}

function parseResource(raw: string, line: number, d: HaDiag): HaResource | null {
  const [agent, ...args] = raw.split('::');
  if (agent === 'IPv6addr') return parseIp6Spec(raw.slice('IPv6addr::'.length), line, raw, d);
  if (parseIPv4(raw.split('/')[0]!) !== null) return parseIpSpec(raw, line, raw, 'IPaddr', d);
  if (agent === 'IPaddr' || agent === 'IPaddr2') {
    if (args.length !== 1) {
      d.error('E_HA_RESOURCE', line, `${raw}: expected ${agent}::ADDR[/LEN[/IF]]`);
      return null;
    }
    return parseIpSpec(args[0]!, line, raw, agent, d);
  }
  if (agent === 'ldirectord') {
    if (args.length > 1) {
      d.error('E_HA_RESOURCE', line, `${raw}: expected ldirectord or ldirectord::FILE`);
      return null;
    }
    const file = args[0] ?? DEFAULT_LDIRECTORD_CF;
    if (file === '') {
      d.error('E_HA_RESOURCE', line, `${raw}: empty file name`);
      return null;
    }
    return { kind: 'ldirectord', line, raw, file };
  }
  if (!/^[A-Za-z0-9_.+-]+$/.test(agent ?? '')) {
    d.error('E_HA_RESOURCE', line, `${JSON.stringify(raw)} is not a resource (NAME or NAME::ARG…)`);
    return null;
  }
  d.warn('W_HA_UNSUPPORTED', line, `resource ${agent}: dsrlb runs only IP addresses and ldirectord, ignored`);
  return { kind: 'other', line, raw, agent: agent!, args };
}

export function parseHaResources(text: string, file: string): HaResources {
  const d = new HaDiag(file);
  const groups: HaResourceGroup[] = [];
  for (const { line, fields } of splitLines(text, true)) {
    const owner = fields[0]!;
    if (owner.includes('::') || parseIPv4(owner) !== null) {
      d.error('E_HA_SYNTAX', line, `a resource group starts with its owner node name, not ${JSON.stringify(owner)}`);
      continue;
    }
    const resources: HaResource[] = [];
    const ips = new Map<number, HaResource & { kind: 'ip' }>();
    const ips6 = new Set<string>();
    for (const raw of fields.slice(1)) {
      const r = parseResource(raw, line, d);
      if (r === null) continue;
      if (r.kind === 'ip6') {
        if (ips6.has(r.addr6)) {
          d.warn('W_HA_DUPLICATE', line, `${raw}: address already in this group; ignored`);
          continue;
        }
        ips6.add(r.addr6);
      }
      if (r.kind === 'ip') {
        const prev = ips.get(r.addr);
        if (prev) {
          // The seed lists the VIP twice (bare, then IPaddr::VIP/24/eth0): heartbeat runs both, the
          // second finds the address up. dsrlb keeps one, completed with the details given.
          prev.prefixLen ??= r.prefixLen;
          prev.iface ??= r.iface;
          d.warn('W_HA_DUPLICATE', line, `${raw}: address already in this group as ${prev.raw}; merged`);
          continue;
        }
        ips.set(r.addr, r);
      }
      resources.push(r);
    }
    if (resources.length === 0) d.warn('W_HA_RESOURCE', line, `resource group of ${owner} has no resource`);
    groups.push({ line, owner, resources });
  }
  if (groups.length === 0) d.error('E_HA_RESOURCE', 0, 'no resource group: expected "NODE RESOURCE…"');
  d.finish();
  return { file, groups, warnings: d.warnings };
}
