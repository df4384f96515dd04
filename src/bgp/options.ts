/**
 * The BGP speaker's settings (`dsrlb run --bgp k=v,…` or `--bgp-config FILE`, one `k = v` a line),
 * parsed and checked here (pure). Keys:
 *
 *   local-as=N        this director's AS (1..4294967295)
 *   peer=A.B.C.D      the router's address (repeat for several routers)
 *   peer-as=N         the router's AS
 *   local=A.B.C.D     this director's address for the sessions (default: the address on --iface)
 *   hold=S            BGP hold time, seconds (0, or 3..65535; default 3); keepalive = hold/3
 *   bfd=on|off        BFD on the sessions (default on)
 *   bfd-interval=MS   BFD tx/rx interval (default 100) and bfd-multiplier=N (default 3)
 *   community=A:B     a standard community added to the VIP routes (repeatable)
 */
import { DsrlbError } from '../errors/index.ts';

export interface BgpOptions {
  localAs: number;
  peers: string[];
  peerAs: number;
  local: string | null;
  holdTime: number;
  bfd: { intervalMs: number; multiplier: number } | null;
  communities: Array<[number, number]>;
}

/** Every key `--bgp` takes (docs/scale-out.md lists them; a test keeps the two in step). */
export const BGP_KEYS: readonly string[] = ['local-as', 'peer', 'peer-as', 'local', 'hold', 'bfd', 'bfd-interval', 'bfd-multiplier', 'community'];

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

function bad(msg: string): never {
  throw new DsrlbError('E_BGP_OPTION', msg);
}

function asNumber(key: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 4294967295) bad(`${key}=${v}: an AS number is 1..4294967295`);
  return n;
}

function address(key: string, v: string): string {
  if (!isIpv4(v)) bad(`${key}=${v}: not an IPv4 address`);
  return v;
}

function intIn(key: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < lo || n > hi) bad(`${key}=${v}: expected an integer ${lo}..${hi}`);
  return n;
}

/** Parses `k=v` pairs (from `--bgp a=b,c=d` split on commas, or lines of a file). */
export function parseBgpPairs(pairs: readonly string[]): BgpOptions {
  let localAs: number | null = null;
  let peerAs: number | null = null;
  const peers: string[] = [];
  let local: string | null = null;
  let holdTime = 3;
  let bfdOn = true;
  let intervalMs = 100;
  let multiplier = 3;
  const communities: Array<[number, number]> = [];
  for (const raw of pairs) {
    const p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const m = /^([a-z-]+)\s*=\s*(.*)$/.exec(p);
    if (!m) bad(`"${p}": expected key=value`);
    const [, key, v] = m as unknown as [string, string, string];
    switch (key) {
      case 'local-as': localAs = asNumber(key, v); break;
      case 'peer-as': peerAs = asNumber(key, v); break;
      case 'peer': peers.push(address(key, v)); break;
      case 'local': local = address(key, v); break;
      case 'hold':
        holdTime = intIn(key, v, 0, 65535);
        if (holdTime > 0 && holdTime < 3) bad(`hold=${v}: the hold time is 0 or at least 3 seconds (RFC 4271)`);
        break;
      case 'bfd':
        if (v !== 'on' && v !== 'off') bad(`bfd=${v}: on or off`);
        bfdOn = v === 'on';
        break;
      case 'bfd-interval': intervalMs = intIn(key, v, 10, 10000); break;
      case 'bfd-multiplier': multiplier = intIn(key, v, 1, 255); break;
      case 'community': {
        const c = /^(\d+):(\d+)$/.exec(v);
        if (!c || Number(c[1]) > 65535 || Number(c[2]) > 65535) bad(`community=${v}: expected A:B, each 0..65535`);
        communities.push([Number(c[1]), Number(c[2])]);
        break;
      }
      default: bad(`unknown key "${key}" (${BGP_KEYS.join(', ')})`);
    }
  }
  if (localAs === null) bad('local-as= is required');
  if (peerAs === null) bad('peer-as= is required');
  if (peers.length === 0) bad('peer= is required (the router\'s address)');
  return { localAs, peerAs, peers, local, holdTime, bfd: bfdOn ? { intervalMs, multiplier } : null, communities };
}

/** `--bgp local-as=65001,peer=192.168.0.1,peer-as=65000,bfd=on`. */
export function parseBgpOption(s: string): BgpOptions {
  return parseBgpPairs(s.split(','));
}

/** A `--bgp-config` file: one key=value a line, # comments. */
export function parseBgpFile(text: string): BgpOptions {
  return parseBgpPairs(text.split('\n'));
}
