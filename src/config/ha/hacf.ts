/**
 * parseHaCf(text, file): heartbeat's ha.cf, pure. `directive value…` per line, `#` comments.
 * Timing values take heartbeat's forms: seconds (`30`, `1.5`) or with a unit (`300ms`, `2s`, `500000us`).
 * Unknown directives are errors (heartbeat refuses to start on them); directives heartbeat knows
 * but dsrlb does not implement are accepted and named in a warning.
 */
import { parseIPv4 } from '../../model/index.ts';
import { HaDiag, splitLines } from './lines.ts';
import { HA_DEFAULTS, type AutoFailback, type HaCf, type HaMedium } from './types.ts';

/** Directives of heartbeat 1.2/2.x that dsrlb reads but does not act on. */
export const HA_UNSUPPORTED_DIRECTIVES: ReadonlySet<string> = new Set([
  'serial', 'baud', 'ttl', 'hopfudge', 'stonith', 'stonith_host', 'crm', 'apiauth', 'watchdog', 'realtime',
  'debug', 'compression', 'compression_threshold', 'traditional_compression', 'msgfmt', 'conn_logd_time',
  'autojoin', 'uuidfrom', 'hbgenmethod', 'deadping', 'coredumps', 'max_rexmit_delay', 'rtprio',
  'use_logd', 'ping_group', 'hbaping', 'ppp-udp', 'generation_method', 'client_child_queue_limit', 'env',
  'logfile_daily', 'cluster', 'pengine', 'quorum_server', 'medium_max_rexmit_delay', 'udp',
]);
/** Directives dsrlb reads and acts on (docs: HA_DIRECTIVE_DOCS). */
export const HA_KNOWN_DIRECTIVES: ReadonlySet<string> = new Set([
  'keepalive', 'deadtime', 'warntime', 'initdead', 'udpport', 'bcast', 'mcast', 'ucast', 'node',
  'auto_failback', 'nice_failback', 'logfacility', 'logfile', 'debugfile', 'respawn', 'ping',
]);

/** A heartbeat time value in ms, or null when malformed. */
export function parseHaTime(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|us)?$/.exec(s);
  if (!m) return null;
  const v = Number(m[1]);
  const ms = m[2] === 'ms' ? v : m[2] === 'us' ? v / 1000 : v * 1000;
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : null;
}

function parseBool(s: string): boolean | null {
  const v = s.toLowerCase();
  if (['on', 'yes', 'true', 'y', '1'].includes(v)) return true;
  if (['off', 'no', 'false', 'n', '0'].includes(v)) return false;
  return null;
}

export function parseHaCf(text: string, file: string): HaCf {
  const d = new HaDiag(file);
  const seen = new Map<string, number>();
  const times: Partial<Record<'keepalive' | 'deadtime' | 'warntime' | 'initdead', { ms: number; line: number }>> = {};
  let udpport: number = HA_DEFAULTS.udpport;
  let autoFailback: AutoFailback | null = null;
  let logfacility: string | null = null;
  let logfile: string | null = null;
  let debugfile: string | null = null;
  const media: HaMedium[] = [];
  const nodes: string[] = [];
  const nodeLines = new Map<string, number>();
  const respawn: HaCf['respawn'] = [];
  const ping: number[] = [];

  for (const { line, fields } of splitLines(text, false)) {
    const name = fields[0]!.toLowerCase();
    const args = fields.slice(1);
    if (!HA_KNOWN_DIRECTIVES.has(name)) {
      if (HA_UNSUPPORTED_DIRECTIVES.has(name)) d.warn('W_HA_UNSUPPORTED', line, `${name}: heartbeat directive not supported by dsrlb, ignored`);
      else d.error('E_HA_UNKNOWN_DIRECTIVE', line, `unknown directive ${JSON.stringify(fields[0])}`);
      continue;
    }
    const single = ['keepalive', 'deadtime', 'warntime', 'initdead', 'udpport', 'auto_failback', 'nice_failback', 'logfacility', 'logfile', 'debugfile'];
    if (single.includes(name)) {
      if (args.length !== 1) {
        d.error('E_HA_SYNTAX', line, `${name} takes one value, got ${args.length}`);
        continue;
      }
      const prev = seen.get(name);
      if (prev !== undefined) d.warn('W_HA_DUPLICATE', line, `${name} already set at line ${prev}: this one wins`);
      seen.set(name, line);
    }
    const v = args[0] ?? '';
    switch (name) {
      case 'keepalive':
      case 'deadtime':
      case 'warntime':
      case 'initdead': {
        const ms = parseHaTime(v);
        if (ms === null || ms <= 0) d.error('E_HA_VALUE', line, `${name}: ${JSON.stringify(v)} is not a time (seconds, or with ms/s/us)`);
        else times[name] = { ms, line };
        break;
      }
      case 'udpport': {
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(n >= 1 && n <= 65535)) d.error('E_HA_VALUE', line, `udpport: ${JSON.stringify(v)} is not a port`);
        else udpport = n;
        break;
      }
      case 'auto_failback': {
        const l = v.toLowerCase();
        const b = parseBool(l);
        if (l === 'legacy') autoFailback = 'legacy';
        else if (b === null) d.error('E_HA_VALUE', line, `auto_failback: expected on, off or legacy, got ${JSON.stringify(v)}`);
        else autoFailback = b ? 'on' : 'off';
        break;
      }
      case 'nice_failback': {
        // The pre-1.2 spelling: nice_failback on means auto_failback off.
        const b = parseBool(v);
        if (b === null) d.error('E_HA_VALUE', line, `nice_failback: expected on or off, got ${JSON.stringify(v)}`);
        else {
          d.warn('W_HA_DEPRECATED', line, `nice_failback is deprecated: read as auto_failback ${b ? 'off' : 'on'}`);
          autoFailback ??= b ? 'off' : 'on';
        }
        break;
      }
      case 'logfacility':
        logfacility = v;
        break;
      case 'logfile':
        logfile = v;
        break;
      case 'debugfile':
        debugfile = v;
        break;
      case 'node':
        if (args.length === 0) d.error('E_HA_SYNTAX', line, 'node needs at least one name');
        for (const n of args) {
          const prev = nodeLines.get(n);
          if (prev !== undefined) d.error('E_HA_DUPLICATE', line, `node ${n} already declared at line ${prev}`);
          else {
            nodeLines.set(n, line);
            nodes.push(n);
          }
        }
        break;
      case 'ucast': {
        if (args.length < 2) {
          d.error('E_HA_SYNTAX', line, 'ucast needs an interface and an address: ucast IF ADDR');
          break;
        }
        for (const a of args.slice(1)) {
          const addr = parseIPv4(a);
          if (addr === null) d.error('E_HA_VALUE', line, `ucast: ${JSON.stringify(a)} is not an IPv4 address`);
          else media.push({ kind: 'ucast', line, iface: args[0]!, addr });
        }
        break;
      }
      case 'bcast':
        if (args.length === 0) d.error('E_HA_SYNTAX', line, 'bcast needs at least one interface');
        for (const iface of args) media.push({ kind: 'bcast', line, iface });
        break;
      case 'mcast': {
        if (args.length !== 5) {
          d.error('E_HA_SYNTAX', line, 'mcast takes five values: mcast IF GROUP PORT TTL LOOP');
          break;
        }
        const [iface, g, p, t, l] = args as [string, string, string, string, string];
        const group = parseIPv4(g);
        const port = /^\d+$/.test(p) ? Number(p) : NaN;
        const ttl = /^\d+$/.test(t) ? Number(t) : NaN;
        if (group === null || group >>> 28 !== 14) d.error('E_HA_VALUE', line, `mcast: ${JSON.stringify(g)} is not a multicast group (224.0.0.0/4)`);
        else if (!(port >= 1 && port <= 65535)) d.error('E_HA_VALUE', line, `mcast: ${JSON.stringify(p)} is not a port`);
        else if (!(ttl >= 1 && ttl <= 255)) d.error('E_HA_VALUE', line, `mcast: ttl ${JSON.stringify(t)} is not 1..255`);
        else if (l !== '0' && l !== '1') d.error('E_HA_VALUE', line, `mcast: loop must be 0 or 1, got ${JSON.stringify(l)}`);
        else media.push({ kind: 'mcast', line, iface, group, port, ttl, loop: l === '1' });
        break;
      }
      case 'respawn':
        if (args.length < 2) d.error('E_HA_SYNTAX', line, 'respawn needs a user and a command');
        else {
          respawn.push({ line, user: args[0]!, command: args.slice(1).join(' ') });
          d.warn('W_HA_UNSUPPORTED', line, `respawn ${args[1]}: dsrlb does not run respawn programs, ignored`);
        }
        break;
      case 'ping':
        if (args.length === 0) d.error('E_HA_SYNTAX', line, 'ping needs at least one address');
        for (const a of args) {
          const addr = parseIPv4(a);
          if (addr === null) d.error('E_HA_VALUE', line, `ping: ${JSON.stringify(a)} is not an IPv4 address`);
          else ping.push(addr);
        }
        if (args.length > 0) d.warn('W_HA_UNSUPPORTED', line, 'ping nodes (ipfail) are not supported by dsrlb, ignored');
        break;
    }
  }

  const keepaliveMs = times.keepalive?.ms ?? HA_DEFAULTS.keepaliveMs;
  const deadtimeMs = times.deadtime?.ms ?? HA_DEFAULTS.deadtimeMs;
  const warntimeMs = times.warntime?.ms ?? deadtimeMs / 2;
  const initdeadMs = times.initdead?.ms ?? deadtimeMs;
  const at = (k: keyof typeof times) => times[k]?.line ?? 0;
  if (keepaliveMs >= deadtimeMs) d.error('E_HA_TIMING', at('keepalive') || at('deadtime'), `keepalive (${keepaliveMs} ms) must be shorter than deadtime (${deadtimeMs} ms)`);
  if (times.warntime && warntimeMs >= deadtimeMs) d.error('E_HA_TIMING', at('warntime'), `warntime (${warntimeMs} ms) must be shorter than deadtime (${deadtimeMs} ms)`);
  if (times.warntime && warntimeMs <= keepaliveMs) d.warn('W_HA_TIMING', at('warntime'), `warntime (${warntimeMs} ms) is not longer than keepalive (${keepaliveMs} ms): every late heartbeat will be warned about`);
  if (times.initdead && initdeadMs < deadtimeMs) d.error('E_HA_TIMING', at('initdead'), `initdead (${initdeadMs} ms) must not be shorter than deadtime (${deadtimeMs} ms)`);
  else if (times.initdead && initdeadMs < 2 * deadtimeMs) d.warn('W_HA_TIMING', at('initdead'), `initdead (${initdeadMs} ms) should be at least twice deadtime (${deadtimeMs} ms)`);
  if (autoFailback === null) d.warn('W_HA_AUTO_FAILBACK', 0, 'auto_failback not set: heartbeat\'s default is legacy (the resources go back to their owner)');
  if (nodes.length === 0) d.error('E_HA_NODES', 0, 'no node directive: list the two cluster members (node NAME)');
  else if (nodes.length > 2) d.error('E_HA_NODES', nodeLines.get(nodes[2]!)!, `dsrlb runs pairs: ${nodes.length} nodes declared (${nodes.join(', ')})`);
  if (media.length === 0) d.error('E_HA_NO_MEDIA', 0, 'no heartbeat medium: add ucast IF ADDR, bcast IF or mcast IF GROUP PORT TTL LOOP');
  d.finish();
  return {
    file, keepaliveMs, deadtimeMs, warntimeMs, initdeadMs, udpport, media, nodes,
    autoFailback: autoFailback ?? HA_DEFAULTS.autoFailback, logfacility, logfile, debugfile, respawn, ping, warnings: d.warnings,
  };
}
