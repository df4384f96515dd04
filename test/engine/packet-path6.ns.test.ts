/**
 * The live packet path with an IPv6 service, in namespaces (prefix h6a): a client, a real and the
 * director on a Linux bridge with multicast snooping and a querier. The real also holds an address
 * whose solicited-node group is the VIP6's (same low 24 bits), so the bridge knows a listener for
 * that group; the director's packet worker joins it too (io/mcast6.ts), and the bridge must list
 * the director's port for it. (In these runs the bridge still flooded the client's NS to every
 * port, so the ping alone does not show the join is needed: native-notes/ipv6-multicast-capture.md.)
 * Then:
 * - the packet path resolves the real's MAC by NS (neigh event with ip6);
 * - the client's kernel resolves the VIP6 through the director's NA (`ip -6 neigh` shows the
 *   director's MAC) and gets an echo reply to `ping -6`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { workerPacketPath } from '../../src/cli/packet-path.ts';
import type { FromPacket, PacketPathInit } from '../../src/engine/index.ts';
import { foldIPv6, parseIPv6 } from '../../src/model/index.ts';
import type { PacketPathHandle } from '../../src/ports/index.ts';
import { describeAsRoot } from '../helpers/root.ts';
import { nsRun, sh, Topology } from '../io/netns.ts';

const MAC_D = '02:6a:00:00:00:0d';
const MAC_C = '02:6a:00:00:00:0c';
const MAC_R = '02:6a:00:00:00:0e';
const VIP6 = '2001:db8:6a::10';
const REAL6 = '2001:db8:6a::21';
/** Same low 24 bits as the VIP6: its solicited-node group is the VIP6's (ff02::1:ff00:10). */
const COLLIDER = '2001:db8:6a::ab00:10';

async function until<T>(what: string, fn: () => T | null | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < end; i++) {
    const v = fn();
    if (v !== null && v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeAsRoot('live packet path with an IPv6 service (namespaces, bridge with MLD snooping)', () => {
  const topo = new Topology('h6a');
  let nsB = '';
  let nsD = '';
  let nsC = '';
  let nsR = '';
  let handle: PacketPathHandle | null = null;
  const posted: FromPacket[] = [];

  beforeAll(async () => {
    nsB = topo.addNs('b');
    nsD = topo.addNs('d');
    nsC = topo.addNs('c');
    nsR = topo.addNs('r');
    nsRun(nsB, 'ip', ['link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '1', 'mcast_querier', '1']);
    nsRun(nsB, 'ip', ['link', 'set', 'br0', 'up']);
    for (const [ns, port, mac, addr] of [[nsD, 'p-d', MAC_D, '2001:db8:6a::1'], [nsC, 'p-c', MAC_C, '2001:db8:6a::5'], [nsR, 'p-r', MAC_R, REAL6]] as const) {
      sh('ip', ['link', 'add', 'name', port, 'netns', nsB, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      nsRun(nsB, 'ip', ['link', 'set', port, 'master', 'br0', 'up']);
      nsRun(ns, 'ip', ['link', 'set', 'eth0', 'address', mac]);
      nsRun(ns, 'ip', ['addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad']);
      nsRun(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    }
    nsRun(nsR, 'ip', ['addr', 'add', `${COLLIDER}/64`, 'dev', 'eth0', 'nodad']);
    const vip6 = parseIPv6(VIP6)!;
    const init: PacketPathInit = {
      services: [],
      services6: [{ spec: { proto: 'tcp', vip6, port: 80, scheduler: 'rr' }, reals: [{ addr6: parseIPv6(REAL6)!, port: 80, weight: 1 }] }],
      ndpSenderIp6: '2001:db8:6a::1',
      localAddrs: [],
      arpSenderIp: 0,
      garp: { count: 2, intervalMs: 100 },
      active: true,
      connCapacity: 1024,
    };
    handle = await workerPacketPath({ netns: nsD })({
      iface: 'eth0', bufferSize: 1 << 20, init,
      services: [{ proto: 'tcp', vip: foldIPv6(vip6), port: 80, vip6: VIP6 }],
    });
    handle.onMessage((m) => posted.push(m as FromPacket));
  }, 60_000);

  afterAll(async () => {
    try {
      await handle?.stop();
    } finally {
      topo.destroy();
    }
  });

  it('resolves the IPv6 real by Neighbor Solicitation (neigh event with ip6 and the real\'s MAC)', async () => {
    const ev = await until('the real resolved', () => posted.find((m) => m.ev === 'neigh' && m.ip6 === REAL6));
    expect(ev).toMatchObject({ ev: 'neigh', kind: 'resolved', ip6: REAL6, mac: MAC_R });
  });

  it('has joined the VIP6\'s solicited-node group: the snooping bridge lists the director\'s port for it', async () => {
    await until('the MLD report seen by the bridge', () => /port p-d grp ff02::1:ff00:10\b/.test(sh('bridge', ['-n', nsB, 'mdb', 'show'])));
    // The collider's port is a member too: without our own report the NS would go there only.
    expect(sh('bridge', ['-n', nsB, 'mdb', 'show'])).toMatch(/port p-r grp ff02::1:ff00:10\b/);
  });

  it('joins the group of a VIP6 added at run time (ipvsadm -A, a reload) as well', async () => {
    expect(sh('bridge', ['-n', nsB, 'mdb', 'show'])).not.toMatch(/port p-d grp ff02::1:ff00:20\b/);
    handle!.post({ op: 'addService6', id: 9001, spec: { proto: 'tcp', vip6: '2001:db8:6a::20', port: 80, scheduler: 'rr' } });
    await until('the reply', () => posted.find((m) => m.ev === 'reply' && m.id === 9001));
    await until('the MLD report for the new group', () => /port p-d grp ff02::1:ff00:20\b/.test(sh('bridge', ['-n', nsB, 'mdb', 'show'])));
  });

  it('the client resolves the VIP6 to the director\'s MAC through its NA and gets an echo reply', async () => {
    // The collider's report is known to the bridge, so its snooping restricts the group.
    await until('the collider\'s MLD report', () => /port p-r grp ff02::1:ff00:10\b/.test(sh('bridge', ['-n', nsB, 'mdb', 'show'])));
    const out = nsRun(nsC, 'ping', ['-6', '-c', '2', '-W', '2', VIP6]);
    expect(out).toMatch(/2 received/);
    expect(nsRun(nsC, 'ip', ['-6', 'neigh', 'show', VIP6, 'dev', 'eth0'])).toContain(`lladdr ${MAC_D}`);
  });
});
