/**
 * The live director serving IPv6, end to end (root, namespaces; CI runs it): the dual-stack testbed
 * (`testbed up --ipv6`), dsrlb on www1 with the dual-stack reference file, curl -6 from the client,
 * tcpdump where the truth is. Neighbour discovery for the VIP6 is answered by the director alone,
 * rr spreads the flows over the three reals (www1, the director's own host, through its local path),
 * the reals answer the client directly from the VIP6, the hop limit drops by one on the way through
 * the director, and an echo request to the VIP6 is answered.
 */
import { describe, expect, it } from 'vitest';
import { DUALSTACK_CONFIG } from '../../src/cli/commands/demo.ts';
import { hostMac, hostNamespace, nsExec, VIP6 } from '../../src/testbed/index.ts';
import { countBy, curl, forEachIoBackend, startTcpdump, useLab } from './lab.ts';

const prefix = `dsr6e${process.pid % 10000}`;
const client = hostNamespace(prefix, 'client');
const www1 = hostNamespace(prefix, 'www1');
const www2 = hostNamespace(prefix, 'www2');
const URL6 = `http://[${VIP6}]`;

forEachIoBackend((io) => {
  const lab = useLab(prefix, DUALSTACK_CONFIG, {}, { ipv6: true });

  describe(`live director, IPv6 (${io})`, () => {
    it('resolved every IPv6 real by Neighbor Solicitation (www1 is served locally)', async () => {
      const s = await lab.director.snapshot();
      const v6 = s.services.filter((x) => x.vip6 === VIP6);
      expect(v6.map((x) => x.spec.port).sort()).toEqual([443, 80]);
      for (const r of v6[0]!.reals) {
        if (r.addr6 === '2001:db8::7') expect(r.local).toBe(true);
        else expect(r.mac).toBe(hostMac(r.addr6 === '2001:db8::8' ? 'www2' : 'www3'));
      }
    });

    it('answers the Neighbor Solicitation for the VIP6 itself; no real server answers it', async () => {
      await nsExec(client, ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
      const cap = await startTcpdump(client, ['-i', 'eth0', 'icmp6 and ip6[40] == 136']);
      expect(await curl(client, `${URL6}/ping.cgi`)).toBe('ok');
      const text = await cap.stop();
      // tcpdump -e: "<src MAC> > <dst MAC>, ... neighbor advertisement, tgt is 2001:db8::10, ..."
      const nas = text.split("\n").filter((l) => l.includes(`tgt is ${VIP6},`));
      expect(nas.length, text).toBeGreaterThan(0);
      expect(new Set(nas.map((b) => /^\S+ ([0-9a-f:]{17}) >/.exec(b)?.[1]))).toEqual(new Set([hostMac('www1')]));
      const neigh = await nsExec(client, ['ip', '-j', '-6', 'neigh', 'show', VIP6]);
      expect(JSON.parse(neigh.stdout)[0].lladdr).toBe(hostMac('www1'));
    });

    it('rr over the three reals: 10/10/10 of 30 connections, each from one MAC with the VIP6 as source, nothing from the VIP6 at the director', async () => {
      const before = await lab.director.snapshot();
      const clientCap = await startTcpdump(client, ['-i', 'eth0', '-Q', 'in', `ip6 and src host ${VIP6} and tcp`]);
      const directorCap = await startTcpdump(www1, ['-i', 'eth0', '-Q', 'in', `ip6 and src host ${VIP6}`]);
      const answers: string[] = [];
      for (let i = 0; i < 30; i++) answers.push((await curl(client, `${URL6}/`)) ?? 'failed');
      const atClient = await clientCap.stop();
      const atDirector = await directorCap.stop();
      expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 10, www2: 10, www3: 10 });
      const macsByPort = new Map<string, Set<string>>();
      for (const l of atClient.split('\n')) {
        const m = /^\S+ ([0-9a-f:]{17}) > [0-9a-f:]{17}, .*? 2001:db8::10\.80 > 2001:db8::100\.(\d+):/.exec(l);
        if (m) (macsByPort.get(m[2]!) ?? macsByPort.set(m[2]!, new Set()).get(m[2]!)!).add(m[1]!);
      }
      expect(macsByPort.size).toBe(30);
      for (const macs of macsByPort.values()) expect(macs.size).toBe(1);
      expect(new Set([...macsByPort.values()].map((s) => [...s][0]))).toEqual(new Set([hostMac('www1'), hostMac('www2'), hostMac('www3')]));
      expect(atDirector.trim()).toBe('');
      const after = await lab.director.snapshot();
      expect(after.fromVip).toBe(0);
      const svc = (s: typeof after) => s.services.find((x) => x.vip6 === VIP6 && x.spec.port === 80)!;
      expect(svc(after).conns - svc(before).conns).toBe(30);
      expect(after.forwarded).toBeGreaterThan(before.forwarded);
      expect(after.local).toBeGreaterThan(before.local);
    });

    it('HTTPS over IPv6 with rr too; the SYN reaches the real with the hop limit one lower than the client sent', async () => {
      const atReal = await startTcpdump(www2, ['-i', 'eth0', '-v', '-Q', 'in', `ip6 and dst host ${VIP6} and ip6[6] == 6 and ip6[53] & 2 != 0`]);
      const answers: string[] = [];
      for (let i = 0; i < 9; i++) answers.push((await curl(client, `https://[${VIP6}]/`)) ?? 'failed');
      const text = await atReal.stop();
      expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 3, www2: 3, www3: 3 });
      // The client's stack sends with hop limit 64 (Linux's default); the director forwards with 63.
      const hlims = [...text.matchAll(/hlim (\d+)/g)].map((m) => Number(m[1]));
      expect(hlims.length, text).toBeGreaterThan(0);
      expect(new Set(hlims)).toEqual(new Set([63]));
    });

    it('answers ping -6 to the VIP6 from the director', async () => {
      const cap = await startTcpdump(client, ['-i', 'eth0', '-Q', 'in', 'icmp6 and ip6[40] == 129']);
      const r = await nsExec(client, ['ping', '-6', '-c', '2', '-W', '2', VIP6], { timeoutMs: 8000 });
      const text = await cap.stop();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(new Set(text.split('\n').filter(Boolean).map((l) => /^\S+ ([0-9a-f:]{17}) >/.exec(l)?.[1]))).toEqual(new Set([hostMac('www1')]));
    });
  });
});
