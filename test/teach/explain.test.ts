/**
 * dsrlb explain on captures recorded from the namespace testbed (test/fixtures/captures/, made by
 * test/teach/record-fixtures.ts): a healthy DSR run, www3 answering ARP for the VIP, and the
 * client's tx checksum offload left on. Roles, arrows and findings.
 */
import { describe, expect, it } from 'vitest';
import { explainCaptures, renderText, type Arrow, type Flow } from '../../src/teach/index.ts';
import { MAC, VIP, explainScenario, loadScenario } from './helpers.ts';

const kinds = (fl: Flow): string[] => fl.arrows.map((a) => a.kind);
const first = (fl: Flow, p: (a: Arrow) => boolean): Arrow => {
  const a = fl.arrows.find(p);
  if (!a) throw new Error(`no such arrow in flow ${fl.id}: ${fl.arrows.map((x) => `${x.kind} ${x.label}`).join(' | ')}`);
  return a;
};
const problems = (codes: { code: string; severity: string }[]): string[] => codes.filter((f) => f.severity === 'problem').map((f) => f.code).sort();

describe('healthy DSR, roles inferred from ARP and MACs', () => {
  const ex = explainScenario('healthy');

  it('merges the four capture points into one timeline', () => {
    expect(ex.captures.map((c) => c.name)).toEqual(['client', 'www1', 'www2', 'www3']);
    const total = ex.captures.reduce((s, c) => s + c.frames, 0);
    expect(ex.frames.length).toBeLessThan(total);
    // The client's SYN is one frame on the wire, seen at the client and at the director.
    const syn = ex.flows[0]!.arrows.find((a) => a.kind === 'to-director' && a.frame.l4!.flags.includes('SYN'))!;
    expect(syn.frame.seenAt.map((s) => s.point).sort()).toEqual(['client', 'www1']);
  });

  it('finds the VIP, the service, the client, the director (also a real) and the reals', () => {
    expect(ex.roles.source).toBe('inferred');
    expect(ex.roles.vips).toEqual([VIP]);
    expect(ex.roles.services).toEqual([{ vip: VIP, port: 80, proto: 'tcp' }]);
    expect([...ex.roles.directorMacs]).toEqual([MAC.www1]);
    const byMac = (m: string) => ex.roles.byMac.get(m)!;
    expect(byMac(MAC.client)).toMatchObject({ ip: '192.168.0.100', roles: ['client'], name: 'client' });
    expect(byMac(MAC.www1)).toMatchObject({ ip: '192.168.0.7', roles: ['director', 'real'] });
    expect(byMac(MAC.www2)).toMatchObject({ ip: '192.168.0.8', roles: ['real'] });
    expect(byMac(MAC.www3)).toMatchObject({ ip: '192.168.0.9', roles: ['real'] });
    expect(ex.roles.realIps).toEqual(['192.168.0.7', '192.168.0.8', '192.168.0.9']);
    expect(ex.roles.hosts.map((h) => h.name)).toEqual(['client', 'www1', 'www2', 'www3']);
  });

  it('has three connections, one per real (rr), the third one served by the director itself', () => {
    expect(ex.flows.length).toBe(3);
    expect(ex.flows.map((f) => f.realMacs)).toEqual([[MAC.www3], [MAC.www2], [MAC.www1]]);
    expect(ex.flows.map((f) => f.local)).toEqual([false, false, true]);
    expect(ex.flows.every((f) => f.handshake && f.vip === VIP && f.port === 80 && f.clientIp === '192.168.0.100')).toBe(true);
  });

  it('draws the DSR ladder: ARP for the VIP, SYN to the director, the same SYN to the real, SYN-ACK straight back', () => {
    const fl = ex.flows[0]!;
    const who = first(fl, (a) => a.kind === 'arp-request' && a.frame.arp!.tpa === VIP);
    expect(who).toMatchObject({ from: MAC.client, to: 'broadcast', label: `ARP who-has ${VIP}?` });
    const answer = first(fl, (a) => a.kind === 'arp-reply' && a.frame.arp!.spa === VIP);
    expect(answer).toMatchObject({ from: MAC.www1, to: MAC.client, problem: false });
    expect(answer.label).toBe(`ARP ${VIP} is-at ${MAC.www1}`);
    expect(answer.frame.n).toBeGreaterThan(who.frame.n);

    const syn = first(fl, (a) => a.kind === 'to-director' && a.label === 'SYN');
    expect(syn).toMatchObject({ from: MAC.client, to: MAC.www1, macs: `${MAC.client} → ${MAC.www1}` });
    expect(syn.detail).toMatch(/^192\.168\.0\.100:\d+ → 192\.168\.0\.10:80 ttl 64$/);
    const fwd = first(fl, (a) => a.kind === 'forwarded' && a.label === 'SYN');
    expect(fwd).toMatchObject({ from: MAC.www1, to: MAC.www3, problem: false });
    expect(fwd.frame.ip!.ttl).toBe(syn.frame.ip!.ttl - 1);
    expect(fwd.frame.l4!.seq).toBe(syn.frame.l4!.seq);
    expect(fwd.frame.ip!.src).toBe(syn.frame.ip!.src);
    expect(fwd.frame.ip!.dst).toBe(VIP);
    expect(ex.roles.forwardOf.get(fwd.frame.n)).toBe(syn.frame.n);
    expect(fwd.notes.join(' ')).toMatch(/only the MACs changed and the TTL \(64 → 63\)/);

    const synAck = first(fl, (a) => a.label === 'SYN,ACK');
    expect(synAck).toMatchObject({ kind: 'dsr-reply', from: MAC.www3, to: MAC.client, problem: false });
    expect(synAck.frame.ip!.src).toBe(VIP);
    expect(synAck.frame.n).toBeGreaterThan(fwd.frame.n);
    // The rest of the exchange: data forwarded, replies direct, nothing back through the director.
    expect(kinds(fl)).not.toContain('reply-via-director');
    expect(fl.arrows.filter((a) => a.kind === 'forwarded').length).toBe(fl.arrows.filter((a) => a.kind === 'to-director').length);
    expect(fl.arrows.some((a) => a.label.startsWith('FIN'))).toBe(true);
  });

  it('shows the local real: SYN to the director and SYN-ACK from the director\'s MAC, nothing forwarded on the wire', () => {
    const fl = ex.flows[2]!;
    expect(kinds(fl)).not.toContain('forwarded');
    expect(first(fl, (a) => a.label === 'SYN').notes.join(' ')).toMatch(/its own stack/);
    expect(first(fl, (a) => a.label === 'SYN,ACK')).toMatchObject({ kind: 'dsr-reply', from: MAC.www1, to: MAC.client });
  });

  it('reports no problem; notes the real whose kernel leaves checksums to the offload', () => {
    expect(problems(ex.findings)).toEqual([]);
    const note = ex.findings.find((f) => f.code === 'sender-offload')!;
    expect(note.severity).toBe('note');
    expect(note.title).toContain(MAC.www3);
  });

  it('names the rest: the capture priming probe and the director resolving the reals', () => {
    expect([...ex.other.kinds.keys()].join('\n')).toMatch(/priming probe[\s\S]*resolving the real servers/);
  });

  it('gives the same roles with the ldirectord.cf', () => {
    const withCfg = explainScenario('healthy', { withConfig: true });
    expect(withCfg.roles.source).toBe('config');
    expect(withCfg.roles.services).toEqual(ex.roles.services);
    expect(withCfg.roles.realIps).toEqual(['192.168.0.7', '192.168.0.8', '192.168.0.9']);
    expect(withCfg.flows.map((f) => f.realMacs)).toEqual(ex.flows.map((f) => f.realMacs));
  });

  it('prints the ladder as text', () => {
    const t = renderText(ex);
    expect(t).toContain('Flow 1: 192.168.0.100:');
    expect(t).toMatch(/\|-+ who-has -+>\|/);
    expect(t).toMatch(/\|~+ SYN ~+>\|/);
    expect(t).toMatch(/\|<-+ SYN,ACK -+\|/);
    expect(t).toContain('Findings: no problem found');
  });

  it('works from the client\'s capture alone (the director\'s forwarding is then unseen)', () => {
    const only = explainCaptures(loadScenario('healthy').filter((c) => c.name === 'client'));
    expect(only.roles.vips).toEqual([VIP]);
    expect(only.flows.length).toBe(3);
    expect([...only.roles.directorMacs]).toContain(MAC.www1);
    expect(problems(only.findings)).toEqual([]);
  });
});

describe('the ARP problem: www3 answers ARP for the VIP', () => {
  const ex = explainScenario('arp-problem');

  it('finds the VIP from the two ARP answers and the director from its gratuitous ARP', () => {
    expect(ex.roles.vips).toEqual([VIP]);
    expect([...ex.roles.directorMacs]).toEqual([MAC.www1]);
    expect(ex.roles.byMac.get(MAC.www3)!.roles).toEqual(['real']);
  });

  it('names both MACs answering for the VIP', () => {
    const f = ex.findings.find((x) => x.code === 'arp-multiple-macs')!;
    expect(f.severity).toBe('problem');
    expect(f.title).toContain(MAC.www1);
    expect(f.title).toContain(MAC.www3);
    expect(f.title).toMatch(/^2 MACs answer ARP for the VIP 192\.168\.0\.10/);
    expect(f.fix).toContain('arptables -A INPUT -d 192.168.0.10 -j DROP');
    expect(f.fix).toContain('--mangle-ip-s 192.168.0.9');
    const shas = new Set(f.frames.map((n) => ex.frames[n - 1]!.arp!.sha));
    expect(shas).toEqual(new Set([MAC.www1, MAC.www3]));
  });

  it('shows every connection going straight to www3, bypassing the director', () => {
    expect(problems(ex.findings)).toEqual(['arp-multiple-macs', 'bypass-director']);
    for (const fl of ex.flows) {
      expect(fl.realMacs).toEqual([MAC.www3]);
      const syn = first(fl, (a) => a.label === 'SYN');
      expect(syn).toMatchObject({ kind: 'bypass', from: MAC.client, to: MAC.www3, problem: true });
      const bad = first(fl, (a) => a.kind === 'arp-reply' && a.from === MAC.www3);
      expect(bad.problem).toBe(true);
    }
  });
});

describe('tx checksum offload left on at the client', () => {
  const ex = explainScenario('offload');

  it('sees the director forward the SYN with the client\'s unfinished checksum, and no SYN-ACK', () => {
    const fl = ex.flows[0]!;
    const fwd = fl.arrows.filter((a) => a.kind === 'forwarded');
    expect(fwd.length).toBeGreaterThanOrEqual(1);
    for (const a of fwd) {
      expect(a.problem).toBe(true);
      expect(a.frame.l4!.checksumOk).toBe(false);
      expect(a.notes.join(' ')).toMatch(/bad TCP checksum after forwarding/);
    }
    expect(fl.handshake).toBe(false);
  });

  it('names the offload as the cause and says how to fix it', () => {
    expect(problems(ex.findings)).toEqual(['checksum-after-forward', 'handshake-incomplete']);
    const f = ex.findings.find((x) => x.code === 'checksum-after-forward')!;
    expect(f.fix).toContain('ethtool -K eth0 tx off');
    expect(f.fix).toContain(MAC.client);
  });
});
