/**
 * PACKET_FANOUT as `dsrlb run --workers N` uses it (root only; CI runs as root): two packet rings on
 * one interface in one fan-out group (flow hash + defrag), fed from a peer namespace. Every frame
 * reaches exactly one ring; every frame of one flow reaches the same ring; both rings get flows; an
 * ARP request reaches one ring only (so it is answered once). What the kernel does with ARP frames
 * (which ring they reach) is recorded, not assumed: docs/design/workers.md relies only on "one".
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { arpRequest, tcpFrame, udpFrame } from '../../src/packet/index.ts';
import { FIXTURES, isRoot, LineProc, Topology } from './netns.ts';

const MAC_C = '02:10:00:00:01:0c';
const MAC_D = '02:10:00:00:01:0d';
const VIP = '10.78.1.100';
const TOOL = `${FIXTURES}ring-tool.ts`;
const tag = `dsrf${process.pid % 10000}`;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe.runIf(isRoot())('PACKET_FANOUT hash group of two rings (namespaces)', () => {
  const topo = new Topology();
  const nsC = `${tag}c`;
  const nsD = `${tag}d`;
  let client: LineProc;
  const rings: LineProc[] = [];

  beforeAll(async () => {
    for (const ns of [nsC, nsD]) {
      execFileSync('ip', ['netns', 'add', ns]);
      topo.namespaces.push(ns); // removed by topo.destroy(), also when a test fails
    }
    topo.veth({ ns: nsC, dev: 'eth0', mac: MAC_C }, { ns: nsD, dev: 'eth0', mac: MAC_D });
    client = topo.node(nsC, TOOL);
    await client.cmd('open eth0 {} less 1'); // send only
    const group = process.pid & 0xffff;
    for (let i = 0; i < 2; i++) {
      const r = topo.node(nsD, TOOL);
      await r.cmd(`open eth0 ${JSON.stringify({ fanout: { group, mode: 'hash' }, bufferSize: 1 << 20 })} inbound`);
      rings.push(r);
    }
  }, 60_000);
  afterAll(async () => {
    for (const p of [client, ...rings]) await p?.quit().catch(() => {});
    topo.destroy();
  });

  async function received(): Promise<string[][]> {
    await new Promise((r) => setTimeout(r, 300));
    return Promise.all(rings.map(async (r) => (await r.cmd('frames')).frames as string[]));
  }

  it('each frame reaches one ring; each flow stays on one ring; both rings get flows', async () => {
    const flows: string[][] = [];
    for (let f = 0; f < 32; f++) {
      const src = `10.78.1.${10 + (f % 8)}`;
      const frames = f % 2
        ? [0, 1, 2, 3].map((seq) => hex(udpFrame({ srcMac: MAC_C, dstMac: MAC_D, src, dst: VIP, sport: 30000 + f, dport: 9000, payload: new Uint8Array([seq]) })))
        : ['SYN', 'ACK', 'ACK|PSH', 'FIN|ACK'].map((flags) => hex(tcpFrame({ srcMac: MAC_C, dstMac: MAC_D, src, dst: VIP, sport: 30000 + f, dport: 80, flags })));
      flows.push(frames);
    }
    // interleaved: frame k of every flow, then frame k+1 …
    for (let k = 0; k < 4; k++) for (const fl of flows) await client.cmd(`send ${fl[k]}`);
    const got = await received();
    // Each frame we sent arrived exactly once over the two rings (the link may add its own IPv6
    // neighbour discovery frames: not ours, not counted).
    const all = got.flat();
    for (const h of flows.flat()) expect(all.filter((x) => x === h)).toHaveLength(1);
    const ringOf = (h: string) => got.findIndex((list) => list.includes(h));
    const flowsPerRing = [0, 0];
    for (const fl of flows) {
      const where = new Set(fl.map(ringOf));
      expect(where.size).toBe(1);
      flowsPerRing[[...where][0]!]! += 1;
    }
    expect(flowsPerRing.every((n) => n > 0)).toBe(true);
  });

  it('an ARP request for the VIP reaches one ring only, whatever its sender', async () => {
    const reqs = Array.from({ length: 12 }, (_, i) => hex(arpRequest({
      senderMac: parseMac(`02:10:00:00:02:${(i + 16).toString(16)}`)!, senderIp: parseIPv4(`10.78.1.${20 + i}`)!, targetIp: parseIPv4(VIP)!,
    })));
    for (const h of reqs) await client.cmd(`send ${h}`);
    const got = await received();
    for (const h of reqs) expect(got.reduce((n, list) => n + list.filter((x) => x === h).length, 0)).toBe(1);
    const perRing = got.map((list) => reqs.filter((h) => list.includes(h)).length);
    console.log(`ARP requests per ring of the fan-out group: ${perRing.join(' / ')}`);
  });
});
