/**
 * A tiny stand-in for an IPVS virtual service, enough to drive a scheduler the way the kernel does:
 * dests are added at the head of the list, deleted from it, edited in place, and the scheduler is
 * told after each change. Each pick can open an active connection on the chosen dest.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEST_F_OVERLOAD, newDest, newDest6, parseIPv4, parseIPv6 } from '../../src/model/index.ts';
import type { Dest } from '../../src/model/index.ts';
import { createScheduler } from '../../src/sched/index.ts';
import type { SchedFlags, SchedName, SchedOptions, Scheduler } from '../../src/sched/index.ts';

export function ip(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad IPv4 ${s}`);
  return n;
}

export class Service {
  readonly dests: Dest[] = [];
  readonly sched: Scheduler;
  private nextId = 0;

  constructor(name: SchedName, flags: SchedFlags = {}, opts: SchedOptions = {}, readonly vip = ip('10.123.0.100'), readonly vport = 80) {
    this.sched = createScheduler(name, flags, opts);
  }

  add(addr: string | number, weight = 1, port = this.vport, uThreshold = 0): Dest {
    const d = newDest(this.nextId++, typeof addr === 'string' ? ip(addr) : addr, port, weight);
    d.uThreshold = uThreshold;
    this.dests.unshift(d);
    this.sched.destsChanged(this.dests, 'add', d);
    return d;
  }

  /** A real of an IPv6 service (its `addr` is the address's 32-bit fold, as the kernel hashes it). */
  add6(addr: string, weight = 1, port = this.vport, uThreshold = 0): Dest {
    const a = parseIPv6(addr);
    if (a === null) throw new Error(`bad IPv6 ${addr}`);
    const d = newDest6(this.nextId++, a, port, weight);
    d.uThreshold = uThreshold;
    this.dests.unshift(d);
    this.sched.destsChanged(this.dests, 'add', d);
    return d;
  }

  del(d: Dest): void {
    const i = this.dests.indexOf(d);
    if (i < 0) throw new Error('not a dest of this service');
    this.dests.splice(i, 1);
    d.available = false;
    this.sched.destsChanged(this.dests, 'del', d);
  }

  edit(d: Dest, weight: number, flags = d.flags): void {
    d.weight = weight;
    d.flags = flags;
    this.sched.destsChanged(this.dests, 'edit', d);
  }

  pick(saddr: number, sport: number): Dest | null {
    return this.sched.schedule(this.dests, saddr, sport, this.vip, this.vport);
  }

  /**
   * A new flow: schedule it and count it active on the chosen dest, as a SYN in SYN_RECV is. Like
   * ip_vs_bind_dest(), a dest whose connections reach its upper threshold becomes overloaded.
   */
  connect(saddr: number, sport: number): Dest | null {
    const d = this.pick(saddr, sport);
    if (d) {
      d.activeConns++;
      if (d.uThreshold !== 0 && d.activeConns + d.inactConns >= d.uThreshold) d.flags |= DEST_F_OVERLOAD;
    }
    return d;
  }
}

const FIXTURES = fileURLToPath(new URL('../fixtures/ipvs-oracle/', import.meta.url));

export interface OracleSpec {
  vip: string;
  port: number;
  protocol: string;
  scheduler: SchedName;
  sched_flags?: string[];
  client_prefix: string;
  flows: number;
  clients?: number;
  reals: { ip: string; weight: number; port?: number; u_threshold?: number }[];
}

export interface OracleResult {
  spec: { reals: { ip: string; weight: number; port: number }[] };
  choices: string[];
}

export function loadReference(): Record<string, OracleResult> {
  return JSON.parse(readFileSync(FIXTURES + 'reference.json', 'utf8')) as Record<string, OracleResult>;
}

export function loadSpec(name: string): OracleSpec {
  return JSON.parse(readFileSync(`${FIXTURES}tests/${name}.json`, 'utf8')) as OracleSpec;
}

export function fixturePath(rel: string): string {
  return FIXTURES + rel;
}

/**
 * The new flows of a mkpcap.py capture, in the order IPVS schedules them: flow i comes from
 * client_prefix + (1 + i % clients), source port 20000 + 2i; then the "SYN with IPv4 options" noise
 * frame from client 1, port 43000, sent while every flow is still active.
 */
export function mkpcapFlows(spec: OracleSpec): { client: string; sport: number }[] {
  const clients = spec.clients ?? 5;
  const out: { client: string; sport: number }[] = [];
  for (let i = 0; i < spec.flows; i++) out.push({ client: spec.client_prefix + String(1 + (i % clients)), sport: 20000 + 2 * i });
  out.push({ client: spec.client_prefix + '1', sport: 43000 });
  return out;
}
