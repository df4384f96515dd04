/**
 * The libpcap adapter in namespaces (root only; CI runs as root): the first frame after open is
 * delivered (priming), a capture never sees its own frames and with `inbound` not those of another
 * socket either, send after close is refused without a crash.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FIXTURES, LineProc, Topology, collectFrames } from './netns.ts';
import { describeAsRoot } from '../helpers/root.ts';
import { l4Frame, tagOf } from './frames.ts';

const MAC_C = '02:10:00:00:00:0c';
const MAC_D = '02:10:00:00:00:0d';
const VIP = '10.77.1.100';
const TOOL = `${FIXTURES}frame-tool.ts`;

function frame(tag: number, port = 80, srcMac = MAC_C, dstMac = MAC_D): string {
  return l4Frame({ dstMac, srcMac, srcIp: '10.77.1.1', dstIp: VIP, proto: 'tcp', sport: 40000, dport: port, tag }).toString('hex');
}
const tagsOf = (frames: string[]) => frames.map((h) => tagOf(Buffer.from(h, 'hex')));
const tags = (r: Record<string, unknown>) => tagsOf(r.frames as string[]);

describeAsRoot('cap adapter (namespaces)', () => {
  const topo = new Topology();
  let nsC = '';
  let nsD = '';
  let client: LineProc;

  beforeAll(async () => {
    nsC = topo.addNs('capc');
    nsD = topo.addNs('capd');
    topo.veth({ ns: nsC, dev: 'eth0', mac: MAC_C }, { ns: nsD, dev: 'eth0', mac: MAC_D });
    client = topo.node(nsC, TOOL);
    await client.cmd('open eth0 0 less 1'); // a send-only handle: its filter matches nothing
  });
  afterAll(() => topo.destroy());

  const filter = `inbound and ip dst host ${VIP} and tcp dst port 80`;

  it('delivers the first frame sent right after open() (primed), 3 of 3 times', async () => {
    for (let i = 0; i < 3; i++) {
      const d = topo.node(nsD, TOOL);
      try {
        const o = await d.cmd(`open eth0 1 ${filter}`);
        expect(o.prime).toBe('primed');
        await client.cmd(`send ${frame(100 + i)}`);
        await client.cmd(`send ${frame(200 + i)}`);
        expect(tagsOf(await collectFrames(d, 2))).toEqual([100 + i, 200 + i]);
      } finally {
        await d.quit();
      }
    }
  });

  it('without priming, libpcap drops the first frame of an `inbound` filter (why priming exists)', async () => {
    // libpcap runs the first frame read after setfilter through its userland BPF, which cannot
    // evaluate `inbound`. If this ever fails, libpcap changed and priming may no longer be needed.
    const d = topo.node(nsD, TOOL);
    try {
      const o = await d.cmd(`open eth0 0 ${filter}`);
      expect(o.prime).toBe('disabled');
      await client.cmd(`send ${frame(1)}`);
      await client.cmd(`send ${frame(2)}`);
      // Frame 2 arrives after frame 1 would have: once it is there, frame 1's fate is known.
      expect(tagsOf(await collectFrames(d, 1))).toEqual([2]);
    } finally {
      await d.quit();
    }
  });

  it('never sees its own frames; with `inbound` not those of another socket on the interface either', async () => {
    const plain = topo.node(nsD, TOOL);
    const inb = topo.node(nsD, TOOL);
    const sender = topo.node(nsD, TOOL);
    try {
      await plain.cmd(`open eth0 1 ether dst ${MAC_C}`);
      await inb.cmd(`open eth0 1 inbound and ether dst ${MAC_C}`);
      await sender.cmd(`open eth0 1 ether dst ${MAC_C}`);
      const out = frame(7, 80, MAC_D, MAC_C);
      await sender.cmd(`send ${out} 3`);
      // The kernel hands an outgoing frame to every packet socket at once: when `plain` has all
      // three, the other two sockets were offered them too.
      expect(tagsOf(await collectFrames(plain, 3))).toEqual([7, 7, 7]); // another socket's, without inbound: seen
      expect(tags(await sender.cmd('frames'))).toEqual([]); // its own frames: never
      expect(tags(await inb.cmd('frames'))).toEqual([]); // with inbound: not seen
      expect(((await sender.cmd('stats')).stats as { sent: number }).sent).toBe(3);
    } finally {
      await Promise.all([plain.quit(), inb.quit(), sender.quit()]);
    }
  });

  it('refuses to send after close, without crashing, and reports the MAC from sysfs', async () => {
    const d = topo.node(nsD, TOOL);
    try {
      const o = await d.cmd(`open eth0 1 ${filter}`);
      expect(o.mac).toBe(MAC_D);
      await d.cmd('close');
      const r = await d.cmd(`send-after-close ${frame(9)}`);
      expect(r).toMatchObject({ result: false, closed: true });
      const s = (await d.cmd('stats')).stats as { sendErrors: number; sent: number };
      expect(s).toMatchObject({ sendErrors: 1, sent: 0 });
    } finally {
      await d.quit();
    }
  });

  it('reports a missing interface with E_IFACE_MISSING', async () => {
    const d = topo.node(nsD, TOOL);
    try {
      d.write('open nosuch0 1 arp');
      expect(await d.next()).toMatchObject({ ok: false, code: 'E_IFACE_MISSING' });
    } finally {
      await d.quit();
    }
  });
});
