/**
 * The IPv6 recording, live (root; CI runs it): builds the h6e LAN of test/teach/record6.ts
 * under a prefix of its own, with real1 holding the VIP6 on eth0, records at every host while
 * the client makes two requests, tears the LAN down, and explains the recording: the NDP
 * problem is found, and both reals answered through the nft director's DSR.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readPcapFile } from '../../src/io/index.ts';
import { explainCaptures } from '../../src/teach/index.ts';
import { describeAsRoot } from '../helpers/root.ts';
import { HOSTS6, namespaces6, record6, teardown6, VIP6 } from './record6.ts';

const prefix = `h6e${process.pid % 1000}`;
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-h6e-'));

afterAll(() => {
  teardown6(prefix);
  rmSync(tmp, { recursive: true, force: true });
});

describeAsRoot('IPv6 teaching recording', () => {
  it('records a real answering NS for the VIP6 and explain finds the NDP problem', async () => {
    const r = await record6({ scenario: 'ndp-problem6', dir: tmp, prefix });
    expect(r.answers.every((a) => a === 'real1' || a === 'real2')).toBe(true);
    expect(namespaces6(prefix).some((n) => existsSync(`/run/netns/${n}`))).toBe(false);
    const caps = ['client', 'director', 'real1', 'real2'].map((name) => {
      const p = readPcapFile(join(tmp, `${name}.pcap`));
      return { name, linkType: p.linkType, records: p.records };
    });
    const ex = explainCaptures(caps);
    expect(ex.roles.vips).toEqual([VIP6]);
    expect([...ex.roles.directorMacs]).toEqual([HOSTS6.director.mac]);
    const ndp = ex.findings.find((f) => f.code === 'ndp-multiple-macs');
    expect(ndp?.title).toContain(HOSTS6.real1.mac);
    // Which answer the client holds when a connection starts is a race (a later advertisement
    // overrides the entry): each connection either bypasses the director to real1, or is forwarded
    // by it one hop less, and its real replies from the VIP6 straight to the client.
    expect(ex.flows.length).toBe(2);
    for (const fl of ex.flows) {
      const syn = fl.arrows.find((a) => a.label === 'SYN' && a.from === HOSTS6.client.mac)!;
      if (syn.kind === 'bypass') {
        expect(syn.to).toBe(HOSTS6.real1.mac);
      } else {
        expect(syn.kind).toBe('to-director');
        const fwd = fl.arrows.find((a) => a.kind === 'forwarded' && a.label === 'SYN')!;
        expect(fwd.to).toBe(fl.clientPort % 2 === 0 ? HOSTS6.real1.mac : HOSTS6.real2.mac);
        expect(fwd.frame.ip!.ttl).toBe(syn.frame.ip!.ttl - 1);
      }
      expect(fl.arrows.some((a) => a.kind === 'dsr-reply' && a.frame.ip!.src === VIP6 && a.to === HOSTS6.client.mac)).toBe(true);
    }
  }, 60_000);
});
