/**
 * The whole data path against the kernel: every oracle vector is replayed through
 * config → dataplane → replay, and every scheduling choice, every frame left alone, the per-real
 * counters and ActiveConn/InActConn must be what Linux 6.1 IPVS produced for the same pcap.
 */
import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { dataplaneFromConfig, replayFrames } from '../../src/engine/index.ts';
import { readPcapFile } from '../../src/io/index.ts';
import { endpointToString, parseIPv4, parseMac } from '../../src/model/index.ts';
import { ipvsadmRows, ldirectordFor, pcapOf, reference, specOf } from './oracle.ts';

const SYSCTL_KEYS: Record<string, string> = {
  sloppy_tcp: 'sloppyTcp',
  expire_nodest_conn: 'expireNodestConn',
  expire_quiescent_template: 'expireQuiescentTemplate',
};

function run(name: string) {
  const spec = specOf(name);
  const cfg = parseLdirectordConfig(ldirectordFor(spec), `${name}.cf`);
  const sysctls: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(spec.sysctls ?? {})) sysctls[SYSCTL_KEYS[k.replace(/^net\.ipv4\.vs\./, '')]!] = v !== 0;
  const dp = dataplaneFromConfig(cfg, { selfMac: parseMac(spec.director_mac)!, sysctls });
  for (const r of spec.reals) dp.services.setNeighbour(parseIPv4(r.ip)!, parseMac(r.mac)!);
  const input = readPcapFile(pcapOf(spec));
  const out: Array<{ t: number; bytes: Uint8Array }> = [];
  const frames = input.records.map((r) => ({ timeMs: r.timeMs, data: r.data }));
  const summary = replayFrames(dp, frames, (t, bytes, len) => out.push({ t, bytes: bytes.slice(0, len) }));
  return { spec, dp, summary, out, notForwarded: summary.notForwarded, input };
}

describe.each(Object.keys(reference).sort())('oracle vector %s', (name) => {
  const ref = reference[name]!;
  const r = run(name);

  it('schedules every connection to the real the kernel chose, in the same order', () => {
    const ours = r.summary.choices.map((c) => `${c.client}>${c.real}`);
    expect(ours).toEqual(ref.choices);
  });

  it('leaves alone exactly the frames the kernel did not forward', () => {
    expect(r.notForwarded).toEqual(ref.not_forwarded_in_frames);
  });

  it('counts Conns, InPkts, InBytes and ActiveConn/InActConn per real as ipvsadm shows them', () => {
    const rows = ipvsadmRows(ref);
    for (const d of r.dp.services.destsById) {
      const key = endpointToString(d.addr, d.port);
      const row = rows.get(key)!;
      const st = r.dp.services.destStats[d.id]!;
      expect({ key, weight: d.weight, active: d.activeConns, inactive: d.inactConns, conns: st.conns, inPkts: st.inPkts, inBytes: st.inBytes })
        .toEqual({ key, ...row });
    }
  });

  it('rewrites only the MACs, the TTL and the IPv4 checksum; each flow sticks to one real', () => {
    const macOf = new Map(r.spec.reals.map((x) => [x.mac, x.ip]));
    const flowReal = new Map<string, string>();
    const inputs = r.input.records.map((x) => x.data);
    let k = 0;
    for (const o of r.out) {
      if (o.bytes[12] === 0x08 && o.bytes[13] === 0x06) continue; // an ARP reply for the VIP
      // Find the input frame this came from: forwards keep the input order.
      while (k < inputs.length && !sameExceptTtl(inputs[k]!, o.bytes)) k++;
      expect(k).toBeLessThan(inputs.length);
      const input = inputs[k++]!;
      const dst = hex(o.bytes.subarray(0, 6));
      expect(macOf.has(dst)).toBe(true);
      expect(hex(o.bytes.subarray(6, 12))).toBe(r.spec.director_mac);
      expect(o.bytes[22]).toBe(input[22]! - 1);
      expect(ipv4HeaderSum(o.bytes)).toBe(0xffff);
      const flow = `${hex(o.bytes.subarray(26, 30))}:${(o.bytes[34]! << 8) | o.bytes[35]!}`;
      const prev = flowReal.get(flow);
      if (prev !== undefined) expect(dst).toBe(prev);
      flowReal.set(flow, dst);
    }
    expect(r.summary.forwarded).toBeGreaterThan(0);
  });
});

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** True when b is a (TTL, checksum)-rewritten copy of a: bytes from offset 12 equal except 22, 24, 25. */
function sameExceptTtl(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 12; i < a.length; i++) if (i !== 22 && i !== 24 && i !== 25 && a[i] !== b[i]) return false;
  return true;
}

function ipv4HeaderSum(f: Uint8Array): number {
  const ihl = (f[14]! & 15) * 4;
  let s = 0;
  for (let i = 14; i < 14 + ihl; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
