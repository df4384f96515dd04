/**
 * IPv6 connection sync over the real UDP transport between two namespaces (prefix h6c): director A
 * opens IPv6 flows, one sync round sends them to B in DSY2 datagrams over a veth, B enters them, and
 * the flows' next ACKs on B (no sloppy_tcp: dropped before the sync) go to A's reals. The namespaces, the veth and the two driver processes
 * are this test's; everything is removed in afterAll, also when a step fails.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { describeAsRoot, itAsRoot } from '../helpers/root.ts';
import { sleep, Topology, type LineProc } from '../io/netns.ts';

const DRIVER = 'test/engine/fixtures/peer-sync6-driver.ts';
const A = '10.66.0.1';
const B = '10.66.0.2';
const PORT = '8848';
const N = 60;

describeAsRoot('IPv6 connection sync between two namespaces', () => {
  const topo = new Topology('h6c');
  let da: LineProc;
  let db: LineProc;

  beforeAll(async () => {
    const na = topo.addNs('a');
    const nb = topo.addNs('b');
    topo.veth({ ns: na, dev: 'h6ca', mac: '02:6c:00:00:00:01', ip: `${A}/24` }, { ns: nb, dev: 'h6cb', mac: '02:6c:00:00:00:02', ip: `${B}/24` });
    da = topo.node(na, DRIVER, [A, B, PORT]);
    db = topo.node(nb, DRIVER, [B, A, PORT, 'strict']);
    expect(await da.next(30_000)).toMatchObject({ ok: true, bound: `${A}:${PORT}` });
    expect(await db.next(30_000)).toMatchObject({ ok: true, bound: `${B}:${PORT}` });
  }, 60_000);

  afterAll(async () => {
    for (const d of [da, db]) await d?.quit().catch(() => undefined);
    topo.destroy();
  });

  itAsRoot('A\'s IPv6 flows reach B in DSY2 datagrams; their next ACKs on B go to A\'s reals', async () => {
    const reals = (await da.cmd('open ' + N)).reals as string[];
    expect(new Set(reals).size).toBe(3);
    // B runs without sloppy_tcp: a mid-flow ACK of a flow it does not know is dropped there.
    expect(await db.cmd('moved ' + JSON.stringify(reals.slice(0, 1)))).toMatchObject({ broken: 0, dropped: 1 });
    const sent = (await da.cmd('round')).status as Record<string, number>;
    expect(sent).toMatchObject({ recordsSent: N, datagramsSent: Math.ceil(N / 24) });
    let st: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      st = await db.cmd('status');
      if ((st.status as Record<string, number>).recordsReceived >= N) break;
      await sleep(20);
    }
    expect(st).toMatchObject({ status: { recordsReceived: N, datagramsReceived: Math.ceil(N / 24), datagramsBad: 0, importErrors: 0 }, udp: { notFromPeer: 0 } });
    await sleep(50);
    expect((await db.cmd('status')).conns6).toBe(N);
    // B only heard of them: its own round sends nothing back.
    expect(((await db.cmd('round')).status as Record<string, number>).recordsSent).toBe(0);
    expect(await db.cmd('moved ' + JSON.stringify(reals))).toMatchObject({ broken: 0, dropped: 0 });
    // Now B forwards them itself, and tells A.
    expect(((await db.cmd('round')).status as Record<string, number>).recordsSent).toBe(N);
  }, 60_000);
});
