/**
 * dsrlb explain on IPv6 captures recorded in namespaces (test/fixtures/captures/healthy6 and
 * ndp-problem6, made by test/teach/record-fixtures6.ts): a Linux director forwarding with nft
 * `fwd ip6 to`, two reals holding the VIP6 on lo (healthy6), or real1 holding it on eth0
 * (ndp-problem6). Roles, the ladder's rows, the findings, the text/SVG/HTML renderings.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { describeFrame, type WireFrame } from '../../src/teach/frames.ts';
import { explainCaptures, renderFlowSvg, renderHtml, renderText, type Arrow, type Flow } from '../../src/teach/index.ts';
import { CAPTURES, loadScenario } from './helpers.ts';
import { checkXml } from './xml.ts';

const VIP6 = '2001:db8::10';
const M = { client: '02:d6:00:00:00:64', director: '02:d6:00:00:00:02', real1: '02:d6:00:00:00:21', real2: '02:d6:00:00:00:22' } as const;
const NAMES = Object.fromEntries(Object.entries(M).map(([k, v]) => [v, k]));

const explain = (scenario: string, withConfig = false) => {
  const file = `${CAPTURES}${scenario}/ldirectord.cf`;
  return explainCaptures(loadScenario(scenario), {
    names: NAMES,
    config: withConfig ? parseLdirectordConfig(readFileSync(file, 'utf8'), file) : undefined,
  });
};
const first = (fl: Flow, p: (a: Arrow) => boolean): Arrow => {
  const a = fl.arrows.find(p);
  if (!a) throw new Error(`no such arrow in flow ${fl.id}: ${fl.arrows.map((x) => `${x.kind} ${x.label}`).join(' | ')}`);
  return a;
};
const problems = (ex: ReturnType<typeof explain>): string[] => ex.findings.filter((f) => f.severity === 'problem').map((f) => f.code).sort();

describe('healthy6: IPv6 DSR, roles inferred', () => {
  const ex = explain('healthy6');

  it('finds the VIP6, its service, the client, the director and both reals', () => {
    expect(ex.captures.map((c) => c.name)).toEqual(['client', 'director', 'real1', 'real2']);
    expect(ex.roles.source).toBe('inferred');
    expect(ex.roles.vips).toEqual([VIP6]);
    expect(ex.roles.services).toEqual([{ vip: VIP6, port: 80, proto: 'tcp' }]);
    expect([...ex.roles.directorMacs]).toEqual([M.director]);
    const h = (m: string) => ex.roles.byMac.get(m)!;
    expect(h(M.client)).toMatchObject({ ip: '2001:db8::100', roles: ['client'] });
    expect(h(M.director).roles).toEqual(['director']);
    // A host's global address names it, not its link-local one (both appear in its NDP).
    expect(h(M.real1)).toMatchObject({ ip: '2001:db8::21', roles: ['real'] });
    expect(h(M.real2)).toMatchObject({ ip: '2001:db8::22', roles: ['real'] });
    expect(ex.roles.realIps).toEqual(['2001:db8::21', '2001:db8::22']);
    expect(ex.roles.hosts.map((x) => x.name)).toEqual(['client', 'director', 'real1', 'real2']);
  });

  it('two connections, source port parity: even to real1, odd to real2, both complete', () => {
    expect(ex.flows.map((f) => [f.clientIp, f.clientPort, f.vip, f.port])).toEqual([
      ['2001:db8::100', 40000, VIP6, 80],
      ['2001:db8::100', 40001, VIP6, 80],
    ]);
    expect(ex.flows.map((f) => f.realMacs)).toEqual([[M.real1], [M.real2]]);
    expect(ex.flows.every((f) => f.handshake && !f.local)).toBe(true);
  });

  it('draws the ladder: NS for the VIP6, NA from the director, SYN to it, the same SYN to the real one hop less, SYN-ACK straight back', () => {
    const fl = ex.flows[0]!;
    const ns = first(fl, (a) => a.kind === 'arp-request' && a.frame.arp!.tpa === VIP6);
    expect(ns).toMatchObject({ from: M.client, to: 'broadcast', label: `NS who-has ${VIP6}?`, detail: 'tell 2001:db8::100' });
    expect(ns.frame.dstMac).toBe('33:33:ff:00:00:10');
    const na = first(fl, (a) => a.kind === 'arp-reply' && a.frame.arp!.spa === VIP6);
    expect(na).toMatchObject({ from: M.director, to: M.client, problem: false, label: `NA ${VIP6} is-at ${M.director}` });
    expect(na.notes).toContain('the director answers for the VIP');
    expect(na.frame.n).toBeGreaterThan(ns.frame.n);

    const syn = first(fl, (a) => a.kind === 'to-director' && a.label === 'SYN');
    expect(syn).toMatchObject({ from: M.client, to: M.director });
    expect(syn.detail).toBe(`[2001:db8::100]:40000 → [${VIP6}]:80 hlim 64`);
    const fwd = first(fl, (a) => a.kind === 'forwarded' && a.label === 'SYN');
    expect(fwd).toMatchObject({ from: M.director, to: M.real1, problem: false });
    expect(fwd.frame.ip!).toMatchObject({ v6: true, ttl: 63, src: '2001:db8::100', dst: VIP6 });
    expect(fwd.frame.l4!.seq).toBe(syn.frame.l4!.seq);
    expect(fwd.frame.l4!.checksumOk).toBe(true);
    expect(ex.roles.forwardOf.get(fwd.frame.n)).toBe(syn.frame.n);
    expect(fwd.notes.join(' ')).toContain('only the MACs changed and the hop limit (64 → 63); IPs and ports untouched');

    const synAck = first(fl, (a) => a.label === 'SYN,ACK');
    expect(synAck).toMatchObject({ kind: 'dsr-reply', from: M.real1, to: M.client, problem: false });
    expect(synAck.frame.ip!.src).toBe(VIP6);
    expect(synAck.frame.ip!.ttl).toBe(64);
    // The real resolves the client itself (NDP from real1), and nothing comes back through the director.
    const realNs = first(fl, (a) => a.kind === 'arp-request' && a.from === M.real1);
    expect(realNs.label).toBe('NS who-has 2001:db8::100?');
    expect(fl.arrows.filter((a) => a.frame.ip && a.frame.ip.src === VIP6).every((a) => a.kind === 'dsr-reply' && a.from === M.real1 && a.to === M.client)).toBe(true);
    expect(fl.arrows.filter((a) => a.kind === 'forwarded').length).toBe(fl.arrows.filter((a) => a.kind === 'to-director').length);
    expect(fl.arrows.some((a) => a.label.startsWith('FIN'))).toBe(true);
  });

  it('finds no problem, and sorts the rest of the traffic', () => {
    expect(problems(ex)).toEqual([]);
    expect(ex.other.kinds.get('NDP: the director resolving the real servers')).toBe(2);
    expect(ex.other.kinds.get('NDP: the real servers answering the director')).toBe(2);
    expect(ex.other.kinds.get('other ICMPv6 (MLDv2 listener report)')).toBeGreaterThan(0);
    expect(ex.other.kinds.has('frames that do not decode')).toBe(false);
  });

  it('takes the VIP6 and the reals from an ldirectord.cf with virtual6=', () => {
    const c = explain('healthy6', true);
    expect(c.roles.source).toBe('config');
    expect(c.roles.services).toEqual([{ vip: VIP6, port: 80, proto: 'tcp' }]);
    expect(c.roles.realIps).toEqual(['2001:db8::21', '2001:db8::22']);
    expect(c.flows.map((f) => f.realMacs)).toEqual([[M.real1], [M.real2]]);
    expect(problems(c)).toEqual([]);
  });

  it('renders text, SVG and HTML with bracketed IPv6 endpoints', () => {
    const text = renderText(ex);
    expect(text).toContain(`tcp [${VIP6}]:80`);
    expect(text).toContain(`Flow 1: [2001:db8::100]:40000 → [${VIP6}]:80 (tcp)`);
    expect(text).toContain(`NS who-has ${VIP6}?`);
    expect(text).toContain('DSR as it should be');
    const svg = renderFlowSvg(ex.flows[0]!, ex);
    expect(checkXml(svg).errors).toEqual([]);
    expect(svg).toContain('hlim 63');
    const html = renderHtml(ex);
    expect(checkXml(html).errors).toEqual([]);
    expect(html).toContain(`[${VIP6}]:80`);
  });
});

describe('ndp-problem6: a real holds the VIP6 on eth0', () => {
  const ex = explain('ndp-problem6');

  it('two MACs answer the NS for the VIP6: ndp-multiple-macs, and the first connection bypasses the director', () => {
    expect(problems(ex)).toEqual(['bypass-director', 'ndp-multiple-macs']);
    const f = ex.findings.find((x) => x.code === 'ndp-multiple-macs')!;
    expect(f.title).toContain(`answer Neighbor Solicitations for the VIP ${VIP6}`);
    expect(f.title).toContain(M.real1);
    expect(f.title).toContain(M.director);
    expect(f.fix).toContain(`ip -6 addr del ${VIP6}/128 dev eth0; ip -6 addr add ${VIP6}/128 dev lo`);
    expect(f.fix).toContain('real1');
    expect(f.flows).toEqual([1]);
    const fl = ex.flows[0]!;
    const bad = first(fl, (a) => a.kind === 'arp-reply' && a.from === M.real1 && a.frame.arp!.spa === VIP6);
    expect(bad.problem).toBe(true);
    expect(bad.notes.join(' ')).toContain('not on lo');
    const syn = first(fl, (a) => a.label === 'SYN');
    expect(syn).toMatchObject({ kind: 'bypass', from: M.client, to: M.real1, problem: true });
    expect(syn.notes.join(' ')).toContain('neighbour (NDP) entry');
    // The director's own answer is no problem; the second connection goes through it.
    expect(ex.flows[1]!.arrows.some((a) => a.kind === 'forwarded' && a.to === M.real2)).toBe(true);
  });

  it('no ARP finding for an IPv6 VIP, and no NDP finding for the IPv4 ARP problem', () => {
    expect(ex.findings.some((x) => x.code.startsWith('arp-'))).toBe(false);
    const v4 = explainCaptures(loadScenario('arp-problem'));
    expect(v4.findings.map((x) => x.code)).toContain('arp-multiple-macs');
    expect(v4.findings.some((x) => x.code.startsWith('ndp-'))).toBe(false);
  });
});

describe('IPv6 frame decoding', () => {
  const frames = (): WireFrame[] => explain('healthy6').frames;

  it('checks the TCP checksum over the IPv6 pseudo-header', () => {
    const fwd = frames().find((f) => f.ip?.v6 && f.l4?.flags.includes('SYN') && f.ip.ttl === 63)!;
    const rec = loadScenario('healthy6').find((c) => c.name === fwd.seenAt[0]!.point)!.records[fwd.seenAt[0]!.index - 1]!;
    expect(describeFrame(rec.data, rec.origLen).l4!.checksumOk).toBe(true);
    const bad = rec.data.slice();
    bad[bad.length - 1]! ^= 0x01;
    expect(describeFrame(bad, bad.length).l4!.checksumOk).toBe(false);
    // The hop limit is blanked in the key that pairs a forward with its original.
    const syn = frames().find((f) => f.ip?.v6 && f.l4?.flags.includes('SYN') && !f.l4.flags.includes('ACK') && f.ip.ttl === 64)!;
    expect(syn.l3Key).toBe(fwd.l3Key);
  });

  it('reads an ICMPv6 packet too big and the flow it quotes', () => {
    const syn = frames().find((f) => f.ip?.v6 && f.l4?.flags.includes('SYN') && f.l4.flags.includes('ACK'))!;
    const rec = loadScenario('healthy6').find((c) => c.name === syn.seenAt[0]!.point)!.records[syn.seenAt[0]!.index - 1]!;
    const quoted = rec.data.slice(14, 14 + 40 + 40);
    const icmp = new Uint8Array(8 + quoted.length);
    icmp[0] = 2;
    icmp.set([0, 0, 0x05, 0x00], 4);
    icmp.set(quoted, 8);
    const f = new Uint8Array(14 + 40 + icmp.length);
    f.set(rec.data.slice(6, 12), 0);
    f.set([2, 0, 0, 0, 0, 1], 6);
    f.set([0x86, 0xdd, 0x60, 0, 0, 0, icmp.length >> 8, icmp.length & 255, 58, 64], 12);
    f.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22);
    f.set(rec.data.slice(22, 38), 38);
    f.set(icmp, 54);
    const d = describeFrame(f, f.length);
    expect(d.icmp).toMatchObject({ type: 2, mtu: 1280, v6: true });
    expect(d.icmp!.quoted).toEqual({ proto: 'tcp', src: VIP6, dst: '2001:db8::100', srcPort: 80, dstPort: 40000 });
  });
});
