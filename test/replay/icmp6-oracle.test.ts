/**
 * ICMPv6 errors to a VIP6 and IPv6 datagrams in several fragments, against Linux 6.1: the oracle run
 * test/fixtures/ipvs-oracle/ipv6/icmp6 (make-icmp6.ts says what each case is) replayed through
 * Dataplane.process(). Every frame the kernel sent to a real must come out of dsrlb byte for byte,
 * in the kernel's order (the identification of the fragments the kernel cut anew aside: it is
 * random); the kernel's connections, and per real Conns, InPkts and InBytes as ipvsadm showed them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Dataplane } from '../../src/dataplane/index.ts';
import { Replayer } from '../../src/engine/index.ts';
import { readPcapFile } from '../../src/io/index.ts';
import { endpoint6ToString, parseIPv6, parseMac } from '../../src/model/index.ts';
import type { SchedName } from '../../src/sched/index.ts';
import { ipvsadmRows, ORACLE_DIR, type OracleResult, type Spec6 } from './oracle.ts';

const DIR = `${ORACLE_DIR}/ipv6/icmp6/`;
const load = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const macOf = (f: Uint8Array): string => [...f.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

interface Case { n: number; what: string; frames: number; expect: 'forward' | 'local' | 'fragments' | 'counted-dropped' }
interface Out6 {
  ok: boolean;
  kernel: { release: string };
  connections: { client: string; real: string }[];
}

/** Where the fragment header of an IPv6 frame is (the test's own walk), or -1. */
function fragmentHeaderAt(f: Uint8Array): number {
  let nh = f[20]!;
  let p = 54;
  while (nh === 0 || nh === 43 || nh === 60 || nh === 51) {
    const len = nh === 51 ? (f[p + 1]! + 2) * 4 : (f[p + 1]! + 1) * 8;
    nh = f[p]!;
    p += len;
  }
  return nh === 44 ? p : -1;
}

const fragId = (f: Uint8Array): number => {
  const at = fragmentHeaderAt(f);
  return at < 0 ? -1 : Buffer.from(f.subarray(at + 4, at + 8)).readUInt32BE(0);
};

function withoutFragmentId(f: Uint8Array): string {
  const at = fragmentHeaderAt(f);
  if (at < 0) return hex(f);
  const g = f.slice();
  g.fill(0, at + 4, at + 8);
  return hex(g);
}

describe('ICMPv6 errors and fragmented datagrams to a VIP6, as Linux 6.1 handles them (oracle run icmp6)', () => {
  const spec = load<Spec6>(`${DIR}icmp6.json`);
  const k = load<Out6>(`${DIR}icmp6.out.json`);
  const cases = load<Case[]>(`${DIR}icmp6.manifest.json`);
  const kernelOut = readPcapFile(`${DIR}icmp6.out.director-out.pcap`).records.map((x) => x.data);
  const inputs = readPcapFile(`${DIR}icmp6.pcap`).records;
  const realMacs = new Set(spec.reals.map((x) => x.mac));

  const dp = new Dataplane({ selfMac: parseMac(spec.director_mac)!, connCapacity: 64, conn6Capacity: 64 });
  const svc = dp.services.addService6({ proto: spec.protocol, vip6: parseIPv6(spec.vip)!, port: spec.port, scheduler: spec.scheduler as SchedName });
  for (const r of spec.reals) {
    dp.services.setNeighbour6(parseIPv6(r.ip)!, parseMac(r.mac)!);
    dp.services.addDest6(svc, { addr6: parseIPv6(r.ip)!, port: spec.port, weight: r.weight });
  }
  const out: { inFrame: number; bytes: Uint8Array }[] = [];
  let at = 0;
  const reasons: string[] = [];
  const rep = new Replayer(dp, (_t, bytes, len) => out.push({ inFrame: at, bytes: bytes.slice(0, len) }));
  for (const r of inputs) {
    const before = { ...rep.summary().reasons };
    rep.feed(r.timeMs, r.data);
    const after = rep.summary().reasons;
    reasons.push(Object.keys(after).find((x) => after[x] !== before[x]) ?? '');
    at++;
  }
  const caseOf: Case[] = cases.flatMap((c) => Array.from({ length: c.frames }, () => c));

  it('was recorded by the pinned kernel, with the case list the capture was made from', () => {
    expect(k.ok).toBe(true);
    expect(k.kernel.release).toBe('6.1.0-56-amd64');
    expect(caseOf.length).toBe(inputs.length);
  });

  it('sends every frame the kernel sent to a real, byte for byte and in its order: ICMPv6 errors and re-cut fragments', () => {
    const want = kernelOut.filter((f) => realMacs.has(macOf(f)));
    const got = out.filter((o) => realMacs.has(macOf(o.bytes)));
    expect(want.length).toBe(19);
    expect(got.map((o) => withoutFragmentId(o.bytes))).toEqual(want.map(withoutFragmentId));
    // Besides the frames to reals, only the echo reply to the echo request (the oracle kernel did not
    // answer it: its VIP6 was not on the capture interface); no time exceeded (the one error at hop
    // limit 1 is not answered).
    const others = out.filter((o) => !realMacs.has(macOf(o.bytes)));
    expect(others.map((o) => [caseOf[o.inFrame]!.what, o.bytes[54]])).toEqual([['echo request to the VIP6', 129]]);
    // The cases the kernel sent on are the ones the capture was made to show sent on.
    const sentCases = new Set(got.map((o) => caseOf[o.inFrame]!.n));
    expect(cases.filter((c) => sentCases.has(c.n)).map((c) => c.what)).toEqual(cases.filter((c) => c.expect === 'forward' || c.expect === 'fragments').map((c) => c.what));
  });

  it('cuts a reassembled datagram where its fragments were cut, with one new identification each', () => {
    for (const c of cases.filter((x) => x.expect === 'fragments')) {
      const first = caseOf.indexOf(c);
      const sent = out.filter((o) => caseOf[o.inFrame] === c);
      const kernel = kernelOut.filter((f) => realMacs.has(macOf(f)) && fragId(f) >= 0 && fragmentHeaderAt(f) > 0)
        .filter((f) => sent.some((o) => withoutFragmentId(o.bytes) === withoutFragmentId(f)));
      expect(sent.length, c.what).toBe(kernel.length);
      expect(sent.length, c.what).toBeGreaterThan(1);
      const ids = new Set(sent.map((o) => fragId(o.bytes)));
      expect(ids.size, c.what).toBe(1);
      const inputIds = new Set(inputs.slice(first, first + c.frames).map((r) => fragId(r.data)));
      expect(inputIds.has([...ids][0]!), c.what).toBe(false);
    }
  });

  it('opens the kernel\'s connections, on the kernel\'s reals', () => {
    const ours = rep.summary().choices.map((c) => `${c.client} ${c.real}`);
    const norm = (s: string) => endpoint6ToString(parseIPv6(s.slice(1, s.lastIndexOf(']')))!, +s.slice(s.lastIndexOf(':') + 1));
    expect(ours).toEqual(k.connections.map((c) => `${norm(c.client)} ${norm(c.real)}`));
  });

  it('counts the errors it sends on, and the one at hop limit 1, to the connection\'s real as ipvsadm showed', () => {
    const rows = ipvsadmRows(k as unknown as OracleResult);
    for (const d of dp.services.destsById) {
      const key = endpoint6ToString(d.addr6!, d.port);
      const st = dp.services.destStats[d.id]!;
      const row = rows.get(key)!;
      expect({ key, conns: st.conns, inPkts: st.inPkts, inBytes: st.inBytes }).toEqual({ key, conns: row.conns, inPkts: row.inPkts, inBytes: row.inBytes });
    }
    expect(dp.icmpForwarded).toBe(cases.filter((c) => c.expect === 'forward' && c.what.includes('quoting')).length + 1);
  });

  it('names why it keeps each of the others', () => {
    const by = (what: string) => reasons[caseOf.findIndex((c) => c.what === what)];
    expect(by('Packet Too Big quoting VIP6 -> a client with no connection')).toBe('icmp-no-connection');
    expect(by('Packet Too Big quoting 42 bytes (the IPv6 header and half the ports)')).toBe('icmp-no-connection');
    expect(by('Packet Too Big quoting 30 bytes (a cut IPv6 header)')).toBe('icmp-no-connection');
    expect(by('Packet Too Big quoting client 1 -> VIP6')).toBe('icmp-no-connection');
    expect(by('Packet Too Big quoting a later fragment of VIP6 -> client 1')).toBe('icmp-no-connection');
    expect(by('Packet Too Big quoting VIP6 -> client 2, hop limit 1')).toBe('ipv6-hop-limit-expired');
    expect(by('echo request to the VIP6')).toBe(''); // answered (a reply), not dropped
    // The oracle lists every ICMPv6 error it saw go out as the director's own frame: the ones to a real
    // are the ones dsrlb sent on (above), in the same order.
    expect(reasons.filter((x) => x === 'icmp-no-connection').length).toBe(5);
  });
});
