/**
 * The IPv6 decoder against what Linux 6.1 IPVS did with the IPv6 edge-case captures
 * (test/fixtures/ipvs-oracle/ipv6/edges/: extension-header chains, hop-by-hop options, bad sources,
 * odd TCP/UDP headers, fragments, hop limits). Each case is a new flow from its own client; the
 * kernel opened a connection for it or not. The decoder must say "a new flow of the service" for
 * exactly the cases the kernel opened a connection for, and for every frame the kernel forwarded
 * unchanged but for the hop limit, decrementHopLimit on the sent frame must give the kernel's bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPcapFile } from '../../src/io/index.ts';
import { parseIPv6 } from '../../src/model/index.ts';
import { IPPROTO_TCP, IPPROTO_UDP, Ipv6Info, TCP_RST, TCP_SYN, decodeIPv6Frame, decrementHopLimit } from '../../src/packet/index.ts';

const DIR = new URL('../fixtures/ipvs-oracle/ipv6/edges/', import.meta.url).pathname;

interface Case { n: number; client: string; sport: number; what: string; frames: number }
interface Out {
  ok: boolean;
  kernel: { release: string };
  connections: { client: string }[];
  forwarded: { in_frame: number | null; out_frame: number; change: string | null }[];
}

const load = <T>(p: string): T => JSON.parse(readFileSync(DIR + p, 'utf8')) as T;

for (const name of ['edges6', 'edges6-udp']) {
  describe(`${name}: the decoder opens a flow exactly where IPVS did`, () => {
    const spec = load<{ vip: string; port: number; protocol: 'tcp' | 'udp' }>(`${name}.json`);
    const cases = load<Case[]>(`${name}.manifest.json`);
    const out = load<Out>(`${name}.out.json`);
    const sent = readPcapFile(`${DIR}${name}.pcap`).records.map((r) => r.data);
    const kernelOut = readPcapFile(`${DIR}${name}.out.director-out.pcap`).records.map((r) => r.data);
    const vip = parseIPv6(spec.vip)!;
    const proto = spec.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
    const opened = new Set(out.connections.map((c) => c.client));

    it('was recorded by the pinned kernel, and some cases were refused', () => {
      expect(out.ok).toBe(true);
      expect(out.kernel.release).toBe('6.1.0-56-amd64');
      expect(sent.length).toBe(cases.reduce((a, c) => a + c.frames, 0));
      expect(opened.size).toBeGreaterThan(0);
      expect(opened.size).toBeLessThan(cases.length);
    });

    let at = 0;
    for (const c of cases) {
      const frames = sent.slice(at, at + c.frames);
      at += c.frames;
      const key = `[${c.client}]:${c.sport}`;
      const kernel = opened.has(key);
      it(`${c.n} ${c.what}: ${kernel ? 'a new connection' : 'no connection'}`, () => {
        let flow = false;
        for (const f of frames) {
          const info = new Ipv6Info();
          if (!decodeIPv6Frame(f, f.length, info)) continue;
          if (info.upperProto !== proto || info.l4Off < 0 || info.dstPort !== spec.port) continue;
          if (!vip.every((b, i) => f[info.dstOff + i] === b)) continue;
          if (proto === IPPROTO_TCP && ((info.tcpFlags & TCP_SYN) === 0 || (info.tcpFlags & TCP_RST) !== 0)) continue;
          flow = true;
        }
        expect(flow).toBe(kernel);
      });
    }

    it('every frame forwarded with only the hop limit changed is decrementHopLimit of the sent frame', () => {
      const same = out.forwarded.filter((f) => f.change === 'hlim-1');
      expect(same.length).toBeGreaterThan(5);
      for (const f of same) {
        const mine = sent[f.in_frame!]!.slice();
        const info = new Ipv6Info();
        expect(decodeIPv6Frame(mine, mine.length, info)).toBe(true);
        expect(decrementHopLimit(mine, info.l3Off)).toBe(true);
        expect([...mine.subarray(12)]).toEqual([...kernelOut[f.out_frame]!.subarray(12)]);
      }
    });
  });
}
