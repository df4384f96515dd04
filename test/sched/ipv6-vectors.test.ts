/**
 * IPv6 kernel vectors: what Linux 6.1 IPVS chose for IPv6 clients of an IPv6 service, recorded with
 * tools/ipvs-oracle (test/fixtures/ipvs-oracle/ipv6/README.md says how), replayed through dsrlb's
 * schedulers. The captures are read frame by frame with dsrlb's IPv6 decoder; a frame opens a new
 * connection as it does in IPVS (tcp_conn_schedule / udp_conn_schedule): the first TCP segment of a
 * client address and port with SYN set and RST clear, or the first UDP datagram, to VIP6:port, behind
 * whatever extension headers. Every choice must be the kernel's, in the kernel's order.
 *
 * The hashing schedulers (sh, mh, dh) see the addresses through the kernel's 32-bit fold; with it
 * broken these vectors fail (checked when the fold was written, see the fixture README).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPcapFile } from '../../src/io/index.ts';
import { endpoint6ToString, foldIPv6, ipv6ToString, parseIPv6 } from '../../src/model/index.ts';
import { Ipv6Info, IPPROTO_TCP, IPPROTO_UDP, TCP_RST, TCP_SYN, decodeIPv6Frame } from '../../src/packet/index.ts';
import { isSchedName, parseSchedFlags, scheduleIPv6 } from '../../src/sched/index.ts';
import type { SchedName } from '../../src/sched/index.ts';
import { Service, fixturePath } from './harness.ts';

interface Spec6 {
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  scheduler: string;
  sched_flags?: string[];
  reals: { ip: string; weight: number; port?: number; u_threshold?: number }[];
}
interface Out6 {
  ok: boolean;
  kernel: { release: string; package: string };
  spec: { vip: string; scheduler: string; reals: { ip: string; weight: number; port: number }[] };
  connections: { client: string; real: string; protocol: string }[];
}

const DIR = fixturePath('ipv6/');
const NAMES = readdirSync(DIR + 'specs').filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
/** Recorded for the record (the kernel has them), but dsrlb has no such scheduler, IPv4 or IPv6. */
const NOT_IN_DSRLB = ['lblc', 'lblcr', 'fo', 'ovf'];

const load = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** The new connections of a capture, as `[client]:port`, with the frame they start at. */
function newFlows(spec: Spec6, pcap: string): { frame: Uint8Array; info: Ipv6Info; client: string }[] {
  const vip = parseIPv6(spec.vip)!;
  const proto = spec.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
  const seen = new Set<string>();
  const out: { frame: Uint8Array; info: Ipv6Info; client: string }[] = [];
  for (const r of readPcapFile(pcap).records) {
    const info = new Ipv6Info();
    if (!decodeIPv6Frame(r.data, r.data.length, info)) continue;
    if (info.upperProto !== proto || info.l4Off < 0 || info.dstPort !== spec.port) continue;
    if (!r.data.subarray(info.dstOff, info.dstOff + 16).every((b, i) => b === vip[i])) continue;
    const client = endpoint6ToString(r.data, info.srcPort, info.srcOff);
    if (seen.has(client)) continue;
    if (proto === IPPROTO_TCP && ((info.tcpFlags & TCP_SYN) === 0 || (info.tcpFlags & TCP_RST) !== 0)) continue;
    seen.add(client);
    out.push({ frame: r.data, info, client });
  }
  return out;
}

describe('IPv6 kernel vectors (test/fixtures/ipvs-oracle/ipv6)', () => {
  it('holds a recorded run for every spec, from the pinned kernel, for every scheduler the kernel has', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(20);
    const scheds = new Set<string>();
    for (const name of NAMES) {
      const out = `${DIR}out/${name}.json`;
      expect(existsSync(out), `${name} has out/${name}.json`).toBe(true);
      const o = load<Out6>(out);
      expect(o.ok, name).toBe(true);
      expect(o.kernel.release).toBe('6.1.0-56-amd64');
      expect(o.spec.vip).toBe(load<Spec6>(`${DIR}specs/${name}.json`).vip);
      scheds.add(o.spec.scheduler);
    }
    expect([...scheds].sort()).toEqual(['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'nq', 'ovf', 'rr', 'sed', 'sh', 'wlc', 'wrr']);
  });

  it('replays every scheduler dsrlb has (a kernel scheduler dsrlb gains must be replayed here too)', () => {
    for (const s of NOT_IN_DSRLB) expect(isSchedName(s), `${s} is now a dsrlb scheduler: replay its vectors`).toBe(false);
  });

  for (const name of NAMES) {
    const spec = load<Spec6>(`${DIR}specs/${name}.json`);
    if (NOT_IN_DSRLB.includes(spec.scheduler)) continue;
    it(`${name}: every connection goes where the kernel sent it`, () => {
      const out = load<Out6>(`${DIR}out/${name}.json`);
      // The reals the kernel was given are the ones replayed, in the same order.
      expect(out.spec.reals.map((r) => `${r.ip}/${r.weight}`)).toEqual(spec.reals.map((r) => `${ipv6ToString(parseIPv6(r.ip)!)}/${r.weight}`));
      const vip = parseIPv6(spec.vip)!;
      const svc = new Service(spec.scheduler as SchedName, parseSchedFlags(spec.sched_flags ?? []), {}, foldIPv6(vip), spec.port);
      const byDest = new Map<number, string>();
      for (const r of spec.reals) {
        const d = svc.add6(r.ip, r.weight, r.port ?? spec.port, r.u_threshold ?? 0);
        byDest.set(d.id, endpoint6ToString(d.addr6!, d.port));
      }
      const got: string[] = [];
      for (const { frame, info, client } of newFlows(spec, `${DIR}pcap/${name}.pcap`)) {
        const d = scheduleIPv6(svc.sched, svc.dests, frame, info.srcOff, info.srcPort, info.dstOff, info.dstPort);
        if (d === null) continue; // no connection, as in the kernel
        d.activeConns++;
        got.push(`${client}>${byDest.get(d.id)!}`);
      }
      const want = out.connections.map((c) => `${c.client}>${c.real}`);
      expect(want.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    });
  }
});
